"""An opportunity's life, decided in one place (ADR 11).

* **Time decides.** The status an opportunity is in at a moment is
  ``Opportunity.status_at(now)``: an open opportunity whose deadline has
  passed is closed for bids from that instant, on every path, whether or not
  the scheduled task has recorded the closing yet.
* **One table** (``STEPS``) says what may be done in each status — the status
  changes and everything else (inviting, amending, bidding, asking, opening
  the box, evaluating). Services ask ``ensure`` before they act; pages ask
  ``allowed`` what to offer. Refusals say why in plain words, with both times
  (the deadline and now, in UK time) when the deadline decided.
* **One gate** (``move``) applies every status change, as a conditional
  ``UPDATE … WHERE status = <the status read>`` whose row count is checked:
  of two requests racing to move the same opportunity, exactly one wins; the
  other is refused and changes nothing. A closing the scheduled task has not
  recorded yet is recorded first, so the history always reads
  open → closed → …
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from portal import audit, events
from portal.models import Role, User
from portal.notifications import notify
from portal.ukdates import twice_zone
from tenders.models import Opportunity, OpportunityStatus

S = OpportunityStatus

CLOSED_EVENT = events.register(
    "opportunity.closed", "mandatory", "An opportunity closed: bids ready to open"
)


class OpportunityRefused(ValueError):
    """A change the rules do not allow; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(" ".join(self.problems))


class ChangedMeanwhile(OpportunityRefused):
    """Another request changed the opportunity's status first."""


def london_time(moment: datetime.datetime | None, *, to_the_millisecond: bool = False) -> str:
    """A moment as people read it here: UK time, to the second (or the
    millisecond), with the clock's name in the hour the UK sees twice
    (``ukdates.twice_zone``)."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    fraction = f".{local.microsecond // 1000:03d}" if to_the_millisecond else ""
    return local.strftime("%-d %B %Y at %H:%M:%S") + fraction + twice_zone(local)


def london_end_time(moment: datetime.datetime | None) -> str:
    """A period's end as people read it: ``london_time``, except that midnight
    is written as the end of the day before ("2 April 2027 at 24:00:00"),
    never "3 April 2027 at 00:00:00", which reads as if all of 3 April were
    left (a standstill ends at midnight at the end of its last day)."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    if (local.hour, local.minute, local.second, local.microsecond) != (0, 0, 0, 0):
        return london_time(moment)
    day_before = local.date() - datetime.timedelta(days=1)
    return f"{day_before:%-d %B %Y} at 24:00:00"


@dataclass(frozen=True)
class Step:
    """Something that may be done to an opportunity."""

    name: str
    statuses: frozenset[str]  # the statuses, at the moment of the request, it may be done in
    doing: str  # what it is, as a refusal says it: "you can no longer <doing>"
    target: str | None = None  # the status it moves the opportunity to, if any
    audit_action: str = ""


def _step(
    name: str,
    statuses: Iterable[str],
    doing: str,
    target: str | None = None,
    audit_action: str = "",
) -> Step:
    return Step(name, frozenset(statuses), doing, target, audit_action)


# How a refusal names the status the opportunity is in.
STATE_WORDS: dict[str, str] = {
    S.DRAFT: "is a draft",
    S.OPEN: "is open for bids",
    S.CLOSED: "is closed for bids",
    S.EVALUATION: "is being evaluated",
    S.AWARDED: "is awarded",
    S.CANCELLED: "is cancelled",
}

BEFORE_THE_DEADLINE: set[str] = {S.DRAFT, S.OPEN}
UNTIL_AWARD: set[str] = {S.DRAFT, S.OPEN, S.CLOSED, S.EVALUATION}

STEPS: tuple[Step, ...] = (
    # Writing the draft.
    _step("edit_draft", {S.DRAFT}, "edit it as a draft"),
    _step("build_lots", {S.DRAFT}, "make its lots"),
    _step("publish", {S.DRAFT}, "publish it", S.OPEN, "opportunity.published"),
    # Before publishing nobody has been told of an invitation, so it may be
    # withdrawn; once published it has been sent, and is not taken back.
    _step("withdraw_invitation", {S.DRAFT}, "withdraw an invitation"),
    # Before the deadline.
    _step("invite", BEFORE_THE_DEADLINE, "invite suppliers"),
    _step("add_document", BEFORE_THE_DEADLINE, "add documents"),
    _step("edit_questionnaire", BEFORE_THE_DEADLINE, "change its questionnaire"),
    _step("record_override", BEFORE_THE_DEADLINE, "record that the work is genuinely separate"),
    _step("extend_deadline", {S.OPEN}, "extend its deadline"),
    _step("correct_details", {S.OPEN}, "correct its details"),
    _step("change_value", {S.OPEN}, "change its value or lots"),
    _step("answer_question", {S.OPEN}, "answer questions"),
    _step("ask_question", {S.OPEN}, "ask questions"),
    _step("state_intention", {S.OPEN}, "change your answer"),
    _step("bid", {S.OPEN}, "bid"),
    # After the deadline: the sealed box, evaluation and award.
    _step("close", {S.CLOSED}, "record its closing", S.CLOSED, "opportunity.closed"),
    _step("confirm_opening", {S.CLOSED}, "open the bids"),
    _step("open_box", {S.CLOSED}, "open the bids", S.EVALUATION, "box.opened"),
    _step("evaluate", {S.EVALUATION}, "evaluate the bids"),
    _step("award_lot", {S.EVALUATION}, "award its lots"),
    _step("award", {S.EVALUATION}, "award it", S.AWARDED, "opportunity.awarded"),
    _step("cancel", UNTIL_AWARD, "cancel it", S.CANCELLED, "opportunity.cancelled"),
)
STEP: dict[str, Step] = {step.name: step for step in STEPS}
# Every status change: from the statuses it may be made in, to its target.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    step.name: (step.statuses, step.target) for step in STEPS if step.target
}


def refusal(opportunity: Opportunity, name: str, now: datetime.datetime) -> str | None:
    """Why ``name`` may not be done to ``opportunity`` at ``now``, or None."""
    step = STEP[name]
    current = opportunity.status_at(now)
    deadline = opportunity.submission_deadline
    if current in step.statuses:
        if name == "close" and opportunity.status != S.OPEN:
            return "Its closing is already recorded."
        if name == "ask_question":
            questions_until = opportunity.clarification_deadline
            if questions_until is not None and now > questions_until:
                return (
                    f"The deadline for questions was {london_time(questions_until)} (UK time) "
                    f"and it is now {london_time(now)} (UK time): questions are closed."
                )
        return None
    if current == S.CLOSED and S.OPEN in step.statuses and deadline is not None:
        return (
            f"The deadline for bids was {london_time(deadline)} (UK time) and it is now "
            f"{london_time(now)} (UK time): this opportunity is closed for bids, so you can "
            f"no longer {step.doing}."
        )
    if current == S.OPEN and S.CLOSED in step.statuses:
        return (
            f"The deadline for bids is {london_time(deadline)} (UK time) and it is now "
            f"{london_time(now)} (UK time): you can {step.doing} only after it has passed."
        )
    if step.target == current:
        return f"This opportunity is already {STATE_WORDS[current].split(' ', 1)[1]}."
    return f"This opportunity {STATE_WORDS[current]}: you cannot {step.doing}."


def allowed(opportunity: Opportunity, name: str, now: datetime.datetime | None = None) -> bool:
    """May ``name`` be done to ``opportunity`` now? What pages offer."""
    return refusal(opportunity, name, now or timezone.now()) is None


def ensure(opportunity: Opportunity, name: str, now: datetime.datetime | None = None) -> None:
    """Refuse (``OpportunityRefused``) unless ``name`` may be done now."""
    problem = refusal(opportunity, name, now or timezone.now())
    if problem is not None:
        raise OpportunityRefused(problem)


def move(
    opportunity: Opportunity,
    name: str,
    *,
    by: User | None,
    now: datetime.datetime | None = None,
    fields: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Opportunity:
    """Apply the status change ``name`` (a step with a target): the one way an
    opportunity's status changes. ``fields`` are saved with it in the same
    conditional update; the audit trail records it in the same transaction."""
    now = now or timezone.now()
    step = STEP[name]
    if step.target is None:
        raise ValueError(f"{name} is not a status change.")
    ensure(opportunity, name, now)
    if name != "close" and opportunity.closed_by_time(now):
        # Recorded first, as the scheduled task would have: open → closed → ….
        # Officers are told the bids are ready, unless it is being cancelled.
        _record_closing(opportunity, now, tell_officers=name != "cancel")
    before = opportunity.status
    condition = Q(status=before)
    if name == "close":
        condition &= Q(submission_deadline__lt=now)
    values = dict(fields or {})
    rows = Opportunity.objects.filter(condition, pk=opportunity.pk).update(
        status=step.target, **values
    )
    if rows != 1:
        raise ChangedMeanwhile(
            "Someone else changed this opportunity at the same moment, so nothing was changed. "
            "Reload the page to see it as it is now."
        )
    opportunity.status = step.target
    for field_name, value in values.items():
        setattr(opportunity, field_name, value)
    audit.record(
        actor=by,
        action=step.audit_action,
        obj=opportunity,
        changes={"status": [before, step.target], **(changes or {})},
        context=context,
    )
    return opportunity


def _record_closing(
    opportunity: Opportunity, now: datetime.datetime, *, tell_officers: bool
) -> None:
    move(opportunity, "close", by=None, now=now, fields={"closed_at": now})
    if tell_officers:
        officers = User.objects.filter(
            buyer=opportunity.buyer_id, role=Role.OFFICER, is_active=True
        )
        notify(
            CLOSED_EVENT.name,
            officers,
            {
                "reference": opportunity.reference,
                "title": opportunity.title,
                "url": f"/opportunities/{opportunity.pk}/",
            },
            obj=opportunity,
        )


def record_closing(opportunity: Opportunity, *, now: datetime.datetime | None = None) -> bool:
    """Record that an open opportunity whose deadline has passed is closed, and
    tell its officers the bids are ready to open. Nothing waits for this: the
    deadline closed it already. False when there is nothing to record."""
    now = now or timezone.now()
    if refusal(opportunity, "close", now) is not None:
        return False
    _record_closing(opportunity, now, tell_officers=True)
    return True
