"""Amendments to a published opportunity: a later deadline, corrected
details, changed lots or value (the rule runs again), added documents.
Each is listed on the opportunity with its time and tells every invitee."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from portal import audit
from portal.models import User
from portal.ukdates import uk_long_day
from portal.uploads import check_upload, store
from tenders.models import (
    Amendment,
    AmendmentKind,
    Opportunity,
    OpportunityDocument,
)
from tenders.services import lifecycle
from tenders.services.lifecycle import OpportunityRefused, london_time
from tenders.services.opportunities import (
    AMENDED,
    LotSpec,
    S,
    bids_close_on,
    lock_opportunity,
    lot_value_problems,
    notify_invitees,
    planned_start_problem,
    set_lots,
)
from tenders.services.routes import RouteRefused, check_route, opportunity_value, record_check


class PlannedDateRefused(OpportunityRefused):
    """A planned contract date that cannot stand with a new deadline; ``field``
    is the one to correct (``contract_start`` or ``contract_end``)."""

    def __init__(self, problem: str, field: str) -> None:
        super().__init__(problem)
        self.field = field


def _amend(
    opportunity: Opportunity, *, kind: str, summary: str, changes: dict[str, Any], by: User
) -> None:
    amendment = Amendment.objects.create(
        opportunity=opportunity, kind=kind, summary=summary, changes=changes, made_by=by
    )
    audit.record(
        actor=by,
        action=f"opportunity.amended.{kind}",
        obj=opportunity,
        changes=changes,
        context={"summary": summary},
    )
    if opportunity.status == S.OPEN:
        notify_invitees(
            opportunity,
            AMENDED.name,
            supplier_ids=None,
            extra={"summary": summary, "kind": amendment.get_kind_display()},
            discriminator=f"amendment-{amendment.pk}",
        )


@transaction.atomic
def opportunity_extend_deadline(
    *,
    opportunity: Opportunity,
    by: User,
    submission_deadline: datetime.datetime,
    clarification_deadline: datetime.datetime | None = None,
    reason: str,
    contract_start: datetime.date | None = None,
    contract_end: datetime.date | None = None,
) -> Opportunity:
    """Move the deadline later (never earlier once published); invitees are
    told. A deadline that would close the bids after the planned contract
    start moves the planned start too (``contract_start``, and
    ``contract_end`` where the contract would end before it starts): the
    contract is made on those bids, so it cannot start before the UK day they
    close (``planned_start_problem``, as for a draft). ``None`` leaves a
    planned date as it is."""
    opportunity = lock_opportunity(opportunity)
    lifecycle.ensure(opportunity, "extend_deadline")
    old = opportunity.submission_deadline
    if old is None:  # an open opportunity has a deadline (publishing asks for one)
        raise OpportunityRefused("This opportunity has no deadline to extend.")
    if submission_deadline <= old:
        raise OpportunityRefused(
            f"The new deadline must be later than the current one, {london_time(old)}: a "
            "deadline cannot be moved earlier once published."
        )
    if clarification_deadline is not None and clarification_deadline <= timezone.now():
        raise OpportunityRefused(
            f"The new deadline for questions, {london_time(clarification_deadline)} (UK time), "
            "has passed: set one in the future, or leave it as it is."
        )
    new_clarification = clarification_deadline or opportunity.clarification_deadline
    if new_clarification and new_clarification >= submission_deadline:
        raise OpportunityRefused(
            "The deadline for questions must be before the submission deadline."
        )
    if (
        new_clarification
        and opportunity.clarification_deadline
        and (new_clarification < opportunity.clarification_deadline)
    ):
        raise OpportunityRefused("The deadline for questions cannot be moved earlier.")
    planned = _planned_dates(opportunity, submission_deadline, contract_start, contract_end)
    opportunity.submission_deadline = submission_deadline
    opportunity.clarification_deadline = new_clarification
    changes: dict[str, Any] = {"submission_deadline": [old, submission_deadline]}
    # The kind ("Deadline extended") is shown before the summary everywhere.
    summary = f"From {london_time(old)} to {london_time(submission_deadline)}."
    for field, words in (("contract_start", "start"), ("contract_end", "end")):
        before, after = getattr(opportunity, field), planned[field]
        if after is not None and after != before:
            setattr(opportunity, field, after)
            changes[field] = [before, after]
            summary += f" The planned contract {words} moves {_day_change(before, after)}."
    moved = [field for field in ("contract_start", "contract_end") if field in changes]
    opportunity.save(update_fields=["submission_deadline", "clarification_deadline", *moved])
    _amend(
        opportunity,
        kind=AmendmentKind.DEADLINE_EXTENDED,
        by=by,
        summary=f"{summary} {reason}",
        changes=changes,
    )
    return opportunity


def _day_change(before: datetime.date | None, after: datetime.date) -> str:
    moved = f"to {uk_long_day(after)}"
    return f"from {uk_long_day(before)} {moved}" if before else moved


def _planned_dates(
    opportunity: Opportunity,
    deadline: datetime.datetime,
    start: datetime.date | None,
    end: datetime.date | None,
) -> dict[str, datetime.date | None]:
    """The planned contract start and end with a new deadline for bids (each
    as given, or as it was), or why they cannot stand with it."""
    start = start or opportunity.contract_start
    end = end or opportunity.contract_end
    # The draft's rule (``planned_start_problem``), in the extension's words.
    if start is not None and planned_start_problem(start, deadline):
        closed, planned = uk_long_day(bids_close_on(deadline)), uk_long_day(start)
        asked = "a later" if start == opportunity.contract_start else "another"
        raise PlannedDateRefused(
            f"The new deadline closes the bids on {closed}, after the planned contract start, "
            f"{planned}: the contract is made on those bids. Give {asked} planned contract "
            f"start, on or after {closed}.",
            "contract_start",
        )
    if start is not None and end is not None and end < start:
        raise PlannedDateRefused(
            f"The planned contract end, {uk_long_day(end)}, is before its start, "
            f"{uk_long_day(start)}: give a new planned end too.",
            "contract_end",
        )
    return {"contract_start": start, "contract_end": end}


@transaction.atomic
def opportunity_correct_details(
    *,
    opportunity: Opportunity,
    by: User,
    summary: str,
    title: str | None = None,
    description: str | None = None,
) -> Opportunity:
    opportunity = lock_opportunity(opportunity)
    if opportunity.status == S.DRAFT:
        raise OpportunityRefused("Only an open opportunity is amended; edit a draft directly.")
    lifecycle.ensure(opportunity, "correct_details")
    before = audit.snapshot(opportunity, ["title", "description"])
    if title is not None:
        opportunity.title = title
    if description is not None:
        opportunity.description = description
    opportunity.full_clean(exclude=["route", "policy"])
    opportunity.save(update_fields=["title", "description"])
    changes = audit.diff(before, audit.snapshot(opportunity, ["title", "description"]))
    _amend(
        opportunity, kind=AmendmentKind.DETAILS_CORRECTED, by=by, summary=summary, changes=changes
    )
    return opportunity


def opportunity_change_value(
    *,
    opportunity: Opportunity,
    by: User,
    lots: Sequence[LotSpec],
    options_value: Decimal | None = None,
    summary: str,
) -> Opportunity:
    """Change the lots or their values after publishing. The rule runs again;
    if the new value must go to full tender the change is refused (and the
    refusal recorded), and the lots stay as they were. Every lot must be
    worth at least £0.01, as at publishing."""
    if problems := lot_value_problems(lots):
        raise OpportunityRefused(problems)
    refused: RouteRefused | None = None
    with transaction.atomic():
        opportunity = lock_opportunity(opportunity)
        if opportunity.status == S.DRAFT:
            raise OpportunityRefused("Only an open opportunity's value is amended this way.")
        lifecycle.ensure(opportunity, "change_value")
        before_value = opportunity_value(opportunity)
        try:
            with transaction.atomic():  # a savepoint: undone if the rule refuses
                if options_value is not None:
                    opportunity.options_value = options_value
                    opportunity.save(update_fields=["options_value"])
                set_lots(opportunity, lots)
                result = check_route(opportunity=opportunity, by=by, occasion="value_changed")
                if not result.decision.invitation_allowed:
                    raise RouteRefused(result.decision, result)
        except RouteRefused as exc:
            refused = exc
            opportunity.refresh_from_db()
            if exc.result is not None:  # the refusal above carries the rule's result
                record_check(
                    opportunity=opportunity,
                    result=exc.result,
                    by=by,
                    occasion="value_change_refused",
                )
            audit.record(
                actor=by,
                action="opportunity.value_change_refused",
                obj=opportunity,
                context={"reasons": exc.decision.reasons},
            )
        else:
            after_value = opportunity_value(opportunity)
            _amend(
                opportunity,
                kind=AmendmentKind.VALUE_CHANGED,
                by=by,
                summary=summary,
                changes={"value": [before_value, after_value]},
            )
    if refused is not None:
        raise refused
    return opportunity


@transaction.atomic
def document_add(
    *, opportunity: Opportunity, upload: UploadedFile, by: User
) -> OpportunityDocument:
    """Attach a document (checked by content); on an open opportunity this is an amendment."""
    opportunity = lock_opportunity(opportunity)
    lifecycle.ensure(opportunity, "add_document")
    try:
        checked = check_upload(upload)
    except ValidationError as exc:
        raise OpportunityRefused(exc.messages) from None
    document = store(OpportunityDocument(opportunity=opportunity), upload, checked, by=by)
    if opportunity.status == S.OPEN:
        _amend(
            opportunity,
            kind=AmendmentKind.DOCUMENT_ADDED,
            by=by,
            summary=f"{checked.name}.",
            changes={"document": [None, checked.name]},
        )
    else:
        audit.record(
            actor=by,
            action="opportunity.document_added",
            obj=opportunity,
            changes={"document": [None, checked.name]},
            context={"sha256": checked.sha256},
        )
    return document
