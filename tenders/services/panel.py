"""The evaluation panel (ADR 14): naming it, declarations of interest,
independent marks, moderation and the agreed evaluation.

* An officer of the council names the panel once the box is opened: two or
  more evaluators and one moderator (who may also evaluate), all officers of
  the council, and the spread beyond which a moderated mark needs a reason.
* Each member declares a conflict of interest, or none, before seeing a bid;
  a conflict removes them.
* Each evaluator marks every answer (0–5, or pass/fail) with a comment, then
  finishes: the marks are frozen and their SHA-256 recorded. Until every
  evaluator has finished each sees only their own marks
  (``marks_visible_to``); the audit trail says who marked which answer,
  never the mark.
* The moderator then agrees a mark per answer, with a reason where the
  evaluators' marks differed by more than the spread, and agrees the
  evaluation: each quality criterion's ``Score`` is the weighted moderated
  marks, and a failed pass/fail question excludes the bid. Ranking and award
  (``tenders.services.awards``) read those as before.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.paginator import Page
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal import audit, events
from portal.models import User
from portal.notifications import notify
from portal.paging import read_page
from portal.permissions import officer_of_council
from portal.rawsql import columns, reader
from suppliers.models import SupplierOrganisation
from tenders.models import (
    TOP_MARK,
    Answer,
    Bid,
    BidStatus,
    Criterion,
    Declaration,
    EvaluatorMark,
    Lot,
    ModeratedMark,
    Moderation,
    Opportunity,
    PanelMember,
    Question,
    QuestionKind,
    Score,
)
from tenders.services import lifecycle
from tenders.services.bids import BidRefused, is_opened, officer_of

NAMED = events.register(
    "panel.named", "mandatory", "You were named on an opportunity's evaluation panel"
)
MODERATION_READY = events.register(
    "panel.moderation_ready", "mandatory", "Every evaluator finished: ready to moderate"
)


class PanelRefused(BidRefused):
    """Something the panel's rules do not allow; the message says why."""


class ReasonNeeded(PanelRefused):
    """A moderated mark without a reason where the evaluators' marks for
    ``question`` differ by more than the spread (the page shows it by that
    question's reason)."""

    def __init__(self, question: Question, spread: int) -> None:
        self.question = question
        super().__init__(
            f"The evaluators' marks for question {question.number} differ by more than "
            f"{spread}: give the reason for the moderated mark."
        )


class ReasonsNeeded(PanelRefused):
    """Every ``ReasonNeeded`` of one bid's moderation, found at once
    (``needed``, in question order), so the page shows each by its reason."""

    def __init__(self, needed: Sequence[ReasonNeeded]) -> None:
        self.needed = list(needed)
        super().__init__(" ".join(str(n) for n in self.needed))


CONFLICT_REFUSAL = "You declared a conflict of interest, so you cannot mark."
TWO = Decimal("0.01")


# --- Reading the panel ----------------------------------------------------------------------


def active_members(opportunity: Opportunity) -> QuerySet[PanelMember]:
    return PanelMember.objects.filter(opportunity=opportunity, removed_at__isnull=True)


def member_of(opportunity: Opportunity, user: User) -> PanelMember | None:
    """``user``'s place on the panel of ``opportunity`` (removed or not), or None."""
    if not user.is_authenticated:
        return None
    return PanelMember.objects.filter(opportunity=opportunity, officer=user).first()


# Every column of a panel member, in the model's order (``portal.rawsql.columns``).
_MEMBER_FIELDS, _MEMBER_COLUMNS = columns(PanelMember, "pm")
# ``user``'s place on one panel (one at most: ``panel_member_once``), every
# column: a constant statement, as the ORM's took longer to build than to run.
_MEMBER_SQL = f"""
SELECT {_MEMBER_COLUMNS}
FROM tenders_panelmember pm WHERE pm.opportunity_id = %s AND pm.officer_id = %s
"""  # noqa: S608 (the model's own column names)


@functools.cache
def _member_readers() -> tuple[Callable[[Any], Any], ...]:
    return tuple(reader(PanelMember, name) for name in _MEMBER_FIELDS)


def place_on_panel(opportunity: Opportunity, user: User) -> PanelMember | None:
    """``member_of`` for the panel's own pages, in plain SQL (ADR 10)."""
    with connection.cursor() as cursor:
        cursor.execute(_MEMBER_SQL, [opportunity.pk, user.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    values = [read(value) for read, value in zip(_member_readers(), row, strict=True)]
    return PanelMember.from_db(connection.alias, _MEMBER_FIELDS, values)


_OPPORTUNITY_FIELDS, _OPPORTUNITY_COLUMNS = columns(Opportunity, "o")
# One opportunity of a council, its own columns, with what the panel's pages
# read with it: whether two officers have opened its box, how many questions
# it has and when the moderator agreed the evaluation (None before). One
# constant statement (ADR 10); the ORM's, with three annotations, took longer
# to build than to run.
_PANEL_OPPORTUNITY_SQL = f"""
SELECT {_OPPORTUNITY_COLUMNS},
  EXISTS (SELECT 1 FROM tenders_boxopening x WHERE x.opportunity_id = o.id
    AND x.second_at IS NOT NULL),
  (SELECT COUNT(*) FROM tenders_question x WHERE x.opportunity_id = o.id),
  (SELECT m.agreed_at FROM tenders_moderation m WHERE m.opportunity_id = o.id)
FROM tenders_opportunity o WHERE o.id = %s AND o.buyer_id = %s
"""  # noqa: S608 (the model's own column names)


@functools.cache
def _opportunity_readers() -> tuple[Callable[[Any], Any], ...]:
    return tuple(reader(Opportunity, name) for name in _OPPORTUNITY_FIELDS)


def panel_opportunity(buyer_id: int, pk: int) -> Opportunity | None:
    """Opportunity ``pk`` if the council ``buyer_id``'s (what
    ``opportunities_visible_to`` gives its officers and auditors), else None;
    with ``box_opened`` (as ``box_opened_fact``), ``question_count`` (how many
    questions it has) and ``moderation_agreed_at`` (``Moderation.agreed_at``;
    None before, or without a panel) read with it, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_PANEL_OPPORTUNITY_SQL, [pk, buyer_id])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(_OPPORTUNITY_FIELDS)
    values = [read(value) for read, value in zip(_opportunity_readers(), row[:n], strict=True)]
    opportunity = Opportunity.from_db(connection.alias, _OPPORTUNITY_FIELDS, values)
    opened, questions, agreed_at = row[n:]
    opportunity.box_opened = bool(opened)  # type: ignore[attr-defined]
    opportunity.question_count = int(questions)  # type: ignore[attr-defined]
    agreed = reader(Moderation, "agreed_at")(agreed_at)
    opportunity.moderation_agreed_at = agreed  # type: ignore[attr-defined]
    return opportunity


# The whole panel of one opportunity in the panel's order (added first, then
# id), each member with their officer's name: one constant statement (ADR 10).
_PANEL_SQL = f"""
SELECT {_MEMBER_COLUMNS}, u.full_name
FROM tenders_panelmember pm JOIN portal_user u ON u.id = pm.officer_id
WHERE pm.opportunity_id = %s
ORDER BY pm.added_at, pm.id
"""  # noqa: S608 (the model's own column names)


def panel_of(opportunity: Opportunity) -> list[PanelMember]:
    """Every member of the opportunity's panel (removed or not), in the
    panel's order, each ``officer`` with their id and name (the rest deferred)."""
    with connection.cursor() as cursor:
        cursor.execute(_PANEL_SQL, [opportunity.pk])
        rows = cursor.fetchall()
    readers, db, members = _member_readers(), connection.alias, []
    for row in rows:
        values = [read(value) for read, value in zip(readers, row[:-1], strict=True)]
        member = PanelMember.from_db(db, _MEMBER_FIELDS, values)
        member.officer = User.from_db(db, ("id", "full_name"), (member.officer_id, row[-1]))
        members.append(member)
    return members


def has_questions(opportunity: Opportunity | int) -> bool:
    """Is the opportunity marked by its evaluation panel (it has questions)?"""
    return Question.objects.filter(opportunity=opportunity).exists()


def awaiting_agreement(opportunity: Opportunity) -> bool:
    """Marked by its panel, and the moderator has not agreed the evaluation
    yet: no letter of intention, no award (ADR 14)."""
    return has_questions(opportunity) and not is_agreed(opportunity)


def moderation_of(opportunity: Opportunity) -> Moderation | None:
    return Moderation.objects.filter(opportunity=opportunity).first()


def is_agreed(opportunity: Opportunity) -> bool:
    return Moderation.objects.filter(opportunity=opportunity, agreed_at__isnull=False).exists()


def moderation_open(opportunity: Opportunity) -> bool:
    """Every remaining evaluator (two or more) has finished marking."""
    return evaluators_finished(
        list(
            active_members(opportunity).filter(evaluates=True).values_list("finished_at", flat=True)
        )
    )


def evaluators_finished(finished: Sequence[datetime.datetime | None]) -> bool:
    """``moderation_open`` from each remaining evaluator's ``finished_at``, for
    a page that has read the panel already."""
    return len(finished) >= 2 and all(state is not None for state in finished)


def marking_bids(opportunity: Opportunity) -> QuerySet[Bid]:
    """The bids the panel marks: submitted, not excluded, of every lot
    (``panel_bid_page`` says the same in SQL)."""
    return Bid.objects.filter(
        opportunity=opportunity, status=BidStatus.SUBMITTED, excluded_reason=""
    )


# A page of ``marking_bids`` by lot and bidder, each with how many of its
# answers are done ({done}: one of the constant counts below), the number of
# bids in all and of answers done on every page: one statement. (Its ORM form,
# a subquery and two windows, took longer to compile than the database took to
# run it, on every request of the panel's lists: ADR 10.) Portable SQL; the
# parameters are always passed apart.
_PANEL_BIDS_SQL = """
SELECT page.id, page.number, page.legal_name, page.done,
  COUNT(*) OVER () AS rows_in_all, SUM(page.done) OVER () AS done_in_all
FROM (
  SELECT b.id AS id, l.number AS number, s.legal_name AS legal_name, {done} AS done
  FROM tenders_bid b
  JOIN tenders_lot l ON l.id = b.lot_id
  JOIN suppliers_supplierorganisation s ON s.id = b.supplier_id
  WHERE b.opportunity_id = %s AND b.status = %s AND b.excluded_reason = ''
) page
ORDER BY page.number, page.legal_name, page.id
LIMIT %s OFFSET %s
"""
_MARKED_SQL = (
    "(SELECT COUNT(*) FROM tenders_evaluatormark m WHERE m.bid_id = b.id AND m.member_id = %s)"
)
_MODERATED_SQL = "(SELECT COUNT(*) FROM tenders_moderatedmark m WHERE m.bid_id = b.id)"


@dataclass(frozen=True)
class PanelBid:
    """A bid as the panel's lists show it."""

    pk: int
    lot_number: int
    bidder: str
    done: int  # of its answers: marked by the evaluator, or moderated


def panel_bid_page(
    opportunity: Opportunity, number: Any, per_page: int, *, marked_by: PanelMember | None = None
) -> tuple[Page[PanelBid], int]:
    """Page ``number`` of the bids the panel marks (``marking_bids``), by lot
    and bidder, each with how many of its answers are marked by the evaluator
    ``marked_by``, else moderated; and how many are, of every bid on every page."""
    done_params: list[int] = []
    done_sql = _MODERATED_SQL
    if marked_by is not None:
        done_sql, done_params = _MARKED_SQL, [marked_by.pk]
    sql = _PANEL_BIDS_SQL.format(done=done_sql)
    in_all = [0]

    def read(offset: int, limit: int) -> tuple[list[PanelBid], int]:
        params: list[int | str] = [
            *done_params,
            opportunity.pk,
            BidStatus.SUBMITTED.value,
            limit,
            offset,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        in_all[0] = int(rows[0][5]) if rows else 0
        bids = [PanelBid(pk, lot, bidder, done) for pk, lot, bidder, done, _, _ in rows]
        return bids, (rows[0][4] if rows else 0)

    page = read_page(number, per_page, read, marking_bids(opportunity).count)
    return page, in_all[0]


# One bid the panel marks (``marking_bids``) with its supplier's name, its lot,
# its latest revision (what it submitted last) and whether that has files; a
# row for each of the opportunity's questions (in their order: number, id),
# with its criterion, the revision's answer to it and the evaluator's own mark
# (none asked for: ``member_id = NULL`` matches nothing). One statement: the
# ORM's five (the bid with two subqueries, the questions with their criteria,
# the answers, the marks) took longer to build than the database took to run
# them (ADR 10). Portable SQL; the parameters are always passed apart.
_BID_SHEET_SQL = """
SELECT b.id, b.lot_id, b.supplier_id, b.status, s.legal_name, l.number, l.title,
  r.id, EXISTS (SELECT 1 FROM tenders_bidfile f WHERE f.revision_id = r.id),
  q.id, q.kind, q.criterion_id, q.number, q.text, q.guidance, q.word_limit, q.weight,
  q.documents, q.created_at,
  c.name, c.weight, c.is_price, c.position,
  a.id, a.text, a.confirmed, a.saved_at,
  m.id, m.mark, m.passed, m.comment, m.marked_at
FROM tenders_bid b
JOIN tenders_lot l ON l.id = b.lot_id
JOIN suppliers_supplierorganisation s ON s.id = b.supplier_id
LEFT JOIN tenders_bidrevision r ON r.id = (
  SELECT r2.id FROM tenders_bidrevision r2 WHERE r2.bid_id = b.id ORDER BY r2.number DESC LIMIT 1
)
LEFT JOIN tenders_question q ON q.opportunity_id = b.opportunity_id
LEFT JOIN tenders_criterion c ON c.id = q.criterion_id
LEFT JOIN tenders_answer a ON a.revision_id = r.id AND a.question_id = q.id
LEFT JOIN tenders_evaluatormark m
  ON m.member_id = %s AND m.bid_id = b.id AND m.question_id = q.id
WHERE b.id = %s AND b.opportunity_id = %s AND b.status = %s AND b.excluded_reason = ''
ORDER BY q.number, q.id
"""
# The columns of each object made, in the order of the model's fields (as
# ``Model.from_db`` takes them); a model's other fields are deferred.
_SHEET_BID = ("id", "opportunity_id", "lot_id", "supplier_id", "status")
_SHEET_LOT = ("id", "opportunity_id", "number", "title")
_SHEET_SUPPLIER = ("id", "legal_name")
_SHEET_QUESTION = (
    "id",
    "opportunity_id",
    "kind",
    "criterion_id",
    "number",
    "text",
    "guidance",
    "word_limit",
    "weight",
    "documents",
    "created_at",
)
_SHEET_CRITERION = ("id", "name", "weight", "is_price", "position")
_SHEET_ANSWER = ("id", "bid_id", "question_id", "revision_id", "text", "confirmed", "saved_at")
_SHEET_MARK = ("id", "member_id", "bid_id", "question_id", "mark", "passed", "comment", "marked_at")


@dataclass(frozen=True)
class BidSheet:
    """What a panel member's page of one bid reads: the bid (with its lot,
    its supplier's legal name, ``latest_revision``: the id of the revision it
    submitted last, and ``latest_revision_files``: whether that has files),
    the opportunity's questions with
    their criteria, the latest revision's answers by question and the
    evaluator's own marks."""

    bid: Bid
    questions: list[Question]
    answers: dict[int, Answer]
    own_marks: list[EvaluatorMark]


def bid_sheet(
    opportunity: Opportunity, bid_pk: int, *, marked_by: PanelMember | None = None
) -> BidSheet | None:
    """Bid ``bid_pk`` of the bids the panel marks (``marking_bids``), or None
    when it is not one; with ``marked_by`` (an evaluator on the panel, as the
    page has checked) their own marks for it, which ``marks_visible_to`` always
    lets an evaluator read. One query."""
    params = [
        marked_by.pk if marked_by is not None else None,
        bid_pk,
        opportunity.pk,
        BidStatus.SUBMITTED.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_BID_SHEET_SQL, params)
        rows = cursor.fetchall()
    if not rows:
        return None
    db = connection.alias
    first = rows[0]
    pk, lot_pk, supplier_pk, status, legal_name, lot_number, lot_title = first[:7]
    bid = Bid.from_db(db, _SHEET_BID, (pk, opportunity.pk, lot_pk, supplier_pk, status))
    bid.opportunity = opportunity
    bid.lot = Lot.from_db(db, _SHEET_LOT, (lot_pk, opportunity.pk, lot_number, lot_title))
    bid.supplier = SupplierOrganisation.from_db(db, _SHEET_SUPPLIER, (supplier_pk, legal_name))
    bid.latest_revision = first[7]  # type: ignore[attr-defined]
    bid.latest_revision_files = bool(first[8])  # type: ignore[attr-defined]
    questions: list[Question] = []
    answers: dict[int, Answer] = {}
    marks: list[EvaluatorMark] = []
    if first[9] is None:  # no questions
        return BidSheet(bid, questions, answers, marks)
    question_at = reader(Question, "created_at")
    is_price = reader(Criterion, "is_price")
    confirmed, saved_at = reader(Answer, "confirmed"), reader(Answer, "saved_at")
    passed, marked_at = reader(EvaluatorMark, "passed"), reader(EvaluatorMark, "marked_at")
    for row in rows:
        (q_pk, kind, criterion_pk, number, text, guidance, word_limit, weight, documents) = row[
            9:18
        ]
        question = Question.from_db(
            db,
            _SHEET_QUESTION,
            (
                q_pk,
                opportunity.pk,
                kind,
                criterion_pk,
                number,
                text,
                guidance,
                word_limit,
                weight,
                documents,
                question_at(row[18]),
            ),
        )
        if criterion_pk is not None:
            name, c_weight, price, position = row[19:23]
            question.criterion = Criterion.from_db(
                db,
                _SHEET_CRITERION,
                (criterion_pk, name, c_weight, is_price(price), position),
            )
        else:
            question.criterion = None
        questions.append(question)
        answer_pk, answer_text, answer_confirmed, answer_saved = row[23:27]
        if answer_pk is not None:
            answers[q_pk] = Answer.from_db(
                db,
                _SHEET_ANSWER,
                (
                    answer_pk,
                    pk,
                    q_pk,
                    bid.latest_revision,  # type: ignore[attr-defined]
                    answer_text,
                    confirmed(answer_confirmed),
                    saved_at(answer_saved),
                ),
            )
        mark_pk, mark, mark_passed, comment, mark_at = row[27:32]
        if mark_pk is not None and marked_by is not None:
            marks.append(
                EvaluatorMark.from_db(
                    db,
                    _SHEET_MARK,
                    (
                        mark_pk,
                        marked_by.pk,
                        pk,
                        q_pk,
                        mark,
                        passed(mark_passed),
                        comment,
                        marked_at(mark_at),
                    ),
                )
            )
    return BidSheet(bid, questions, answers, marks)


def marks_visible_to(
    user: User, opportunity: Opportunity, *, member: PanelMember | None = None
) -> QuerySet[EvaluatorMark]:
    """The evaluators' own marks ``user`` may read, for every page.

    Before moderation opens an evaluator reads only their own, and nobody
    else reads any (not the moderator, other officers nor auditors). Once
    every evaluator has finished the moderator (who declared no conflict)
    reads the marks of every remaining evaluator; each evaluator still only
    their own. ``member``: ``user``'s place on the panel, where the page has
    read it already (else it is read here)."""
    if member is None:
        member = member_of(opportunity, user)
    elif member.officer_id != user.pk or member.opportunity_id != opportunity.pk:
        raise ValueError("That is not this user's place on this opportunity's panel.")
    if member is None or member.removed_at is not None:
        return EvaluatorMark.objects.none()
    if member.moderates and member.declaration == Declaration.NONE and moderation_open(opportunity):
        return EvaluatorMark.objects.filter(
            member__opportunity=opportunity,
            member__removed_at__isnull=True,
            member__evaluates=True,
        )
    if member.evaluates:
        return EvaluatorMark.objects.filter(member=member)
    return EvaluatorMark.objects.none()


# --- Naming the panel -----------------------------------------------------------------------


def _lock(opportunity: Opportunity) -> Opportunity:
    return Opportunity.objects.select_for_update().get(pk=opportunity.pk)


def _check_evaluating(opportunity: Opportunity, by: User) -> None:
    officer_of(opportunity, by)
    if not is_opened(opportunity):
        raise PanelRefused("The panel evaluates the bids once two officers have opened them.")
    lifecycle.ensure(opportunity, "evaluate")
    if is_agreed(opportunity):
        raise PanelRefused("The panel has agreed the evaluation: it is final.")


@transaction.atomic
def panel_set(
    *,
    opportunity: Opportunity,
    by: User,
    evaluators: Sequence[User],
    moderator: User,
    spread: int = 1,
) -> list[PanelMember]:
    """Name (or change) the panel: two or more evaluators and one moderator,
    officers of the council. A member who has marked cannot be left out
    here: ``panel_member_remove`` records why."""
    opportunity = _lock(opportunity)
    _check_evaluating(opportunity, by)
    people = {person.pk: person for person in [*evaluators, moderator]}
    problems = [
        f"{person.full_name} is not an officer of {opportunity.buyer}."
        for person in people.values()
        if not (officer_of_council(person, opportunity.buyer_id) and person.is_active)
    ]
    evaluator_ids = {person.pk for person in evaluators}
    if len(evaluator_ids) < 2:
        problems.append("Choose at least two evaluators.")
    if not (0 <= spread <= TOP_MARK):
        problems.append(f"The spread must be from 0 to {TOP_MARK}.")
    existing = {member.officer_id: member for member in opportunity.panel.select_related("officer")}
    for officer_id in people:
        member = existing.get(officer_id)
        if member is not None and member.declaration == Declaration.CONFLICT:
            problems.append(
                f"{member.officer.full_name} declared a conflict of interest and cannot be "
                "named again."
            )
    marked = set(
        EvaluatorMark.objects.filter(member__opportunity=opportunity).values_list(
            "member__officer_id", flat=True
        )
    )
    for officer_id, member in existing.items():
        if member.removed_at is None and officer_id in marked and officer_id not in evaluator_ids:
            problems.append(
                f"{member.officer.full_name} has marked answers already: to take them off "
                "the panel, remove them and give the reason."
            )
    # Once an evaluator has finished the spread is fixed; once every evaluator
    # has (the moderator may have read the marks) nobody joins as an evaluator.
    current = Moderation.objects.filter(opportunity=opportunity).first()
    finished = any(
        member.finished_at is not None and member.evaluates and member.removed_at is None
        for member in existing.values()
    )
    if finished and current is not None and spread != current.spread:
        problems.append(
            f"The spread is fixed once an evaluator has finished marking: it stays "
            f"{current.spread}."
        )
    if moderation_open(opportunity):
        evaluating = {
            officer_id
            for officer_id, member in existing.items()
            if member.evaluates and member.removed_at is None
        }
        joining = [people[pk].full_name for pk in sorted(evaluator_ids - evaluating)]
        if joining:
            problems.append(
                "Every evaluator has finished and the moderator may have read their marks: "
                f"nobody can join as an evaluator now ({', '.join(joining)})."
            )
    if problems:
        raise PanelRefused(" ".join(problems))
    now = timezone.now()
    left_out = [
        member
        for officer_id, member in existing.items()
        if member.removed_at is None and officer_id not in people
    ]
    for member in left_out:
        member.removed_at = now
        member.removed_reason = f"Left out of the panel by {by.full_name}."
        member.moderates = False
        member.evaluates = True
        member.save(update_fields=["removed_at", "removed_reason", "moderates", "evaluates"])
    members = []
    newly: list[PanelMember] = []
    # The moderator last, so that the one-moderator rule holds at every step.
    ordered = sorted(people.items(), key=lambda item: item[0] == moderator.pk)
    for officer_id, person in ordered:
        roles = {"evaluates": officer_id in evaluator_ids, "moderates": officer_id == moderator.pk}
        member = existing.get(officer_id)
        if member is None:
            member = PanelMember.objects.create(
                opportunity=opportunity, officer=person, added_by=by, added_at=now, **roles
            )
            newly.append(member)
        else:
            if member.removed_at is not None:
                newly.append(member)
            for name, value in roles.items():
                setattr(member, name, value)
            # Named again after being left out or removed: back on the panel.
            member.removed_at, member.removed_reason = None, ""
            member.save(update_fields=[*roles, "removed_at", "removed_reason"])
        members.append(member)
    Moderation.objects.update_or_create(opportunity=opportunity, defaults={"spread": spread})
    audit.record(
        actor=by,
        action="panel.set",
        obj=opportunity,
        context={
            "evaluators": sorted(p.full_name for p in people.values() if p.pk in evaluator_ids),
            "moderator": moderator.full_name,
            "spread": spread,
            "left_out": [member.officer.full_name for member in left_out],
        },
    )
    for member in newly:
        named_as = " and ".join(
            role
            for role, has in (
                ("an evaluator", member.evaluates),
                ("the moderator", member.moderates),
            )
            if has
        )
        notify(
            NAMED.name,
            [people[member.officer_id]],
            {
                "reference": opportunity.reference,
                "title": opportunity.title,
                "added_by": by.full_name,
                "role": named_as,
                "url": f"/opportunities/{opportunity.pk}/panel/declaration/",
            },
            obj=opportunity,
            discriminator=f"{member.pk}-{now.isoformat()}",
        )
    return members


@transaction.atomic
def panel_member_remove(*, member: PanelMember, by: User, reason: str) -> PanelMember:
    """Take a member off the panel, with the reason (their marks no longer count)."""
    opportunity = _lock(member.opportunity)
    _check_evaluating(opportunity, by)
    member = PanelMember.objects.select_for_update().select_related("officer").get(pk=member.pk)
    if member.removed_at is not None:
        raise PanelRefused(f"{member.officer.full_name} is no longer on the panel.")
    if not (reason or "").strip():
        raise PanelRefused("Give the reason for removing them from the panel.")
    member.removed_at = timezone.now()
    member.removed_reason = reason.strip()
    member.save(update_fields=["removed_at", "removed_reason"])
    audit.record(
        actor=by,
        action="panel.member_removed",
        obj=opportunity,
        context={"member": member.officer.full_name, "reason": member.removed_reason},
    )
    return member


def _own_member(opportunity: Opportunity, by: User) -> PanelMember:
    member = (
        PanelMember.objects.select_for_update()
        .filter(opportunity=opportunity, officer=by)
        .select_related("officer")
        .first()
    )
    if member is None:
        raise PanelRefused("Only the members of this opportunity's panel can do this.")
    if member.declaration == Declaration.CONFLICT:
        raise PanelRefused(CONFLICT_REFUSAL)
    if member.removed_at is not None:
        raise PanelRefused(f"You were removed from the panel: {member.removed_reason}")
    return member


@transaction.atomic
def declaration_make(
    *, opportunity: Opportunity, by: User, conflict: bool, details: str
) -> PanelMember:
    """A member declares no conflict of interest with the bidders, or a
    conflict (with details), which removes them from the panel."""
    opportunity = _lock(opportunity)
    _check_evaluating(opportunity, by)
    member = _own_member(opportunity, by)
    if member.declaration != Declaration.PENDING:
        raise PanelRefused("You have already made your declaration.")
    details = (details or "").strip()
    if conflict and not details:
        raise PanelRefused("Say with whom you have a conflict of interest, and why.")
    now = timezone.now()
    member.declaration = Declaration.CONFLICT if conflict else Declaration.NONE
    member.declaration_details = details if conflict else ""
    member.declared_at = now
    fields = ["declaration", "declaration_details", "declared_at"]
    if conflict:
        member.removed_at = now
        member.removed_reason = f"Declared a conflict of interest: {details}"
        fields += ["removed_at", "removed_reason"]
    member.save(update_fields=fields)
    audit.record(
        actor=by,
        action="panel.conflict_declared" if conflict else "panel.no_conflict_declared",
        obj=opportunity,
        context={"details": details} if conflict else {},
    )
    return member


def evaluators_short(opportunity: Opportunity) -> bool:
    """Fewer than two evaluators remain: an officer must add another."""
    return active_members(opportunity).filter(evaluates=True).count() < 2


# --- Marking ------------------------------------------------------------------------------


def _evaluator(opportunity: Opportunity, by: User) -> PanelMember:
    member = _own_member(opportunity, by)
    if not member.evaluates:
        raise PanelRefused("You moderate this panel; only its evaluators mark.")
    if member.declaration != Declaration.NONE:
        raise PanelRefused("Declare any conflict of interest before you mark.")
    if member.finished_at is not None:
        raise PanelRefused("You have finished marking: your marks are final.")
    return member


def _markable(bid: Bid, question: Question, by: User) -> tuple[Bid, Opportunity]:
    bid = Bid.objects.select_related("opportunity").get(pk=bid.pk)
    opportunity = bid.opportunity
    officer_of(opportunity, by)
    if not is_opened(opportunity) or bid.status != BidStatus.SUBMITTED:
        raise PanelRefused("Only opened, submitted bids are marked.")
    lifecycle.ensure(opportunity, "evaluate")
    if question.opportunity_id != opportunity.pk:
        raise PanelRefused("That question is not one of this opportunity's.")
    if bid.excluded_reason:
        raise PanelRefused("This bid is excluded: it is not marked.")
    return bid, opportunity


def _check_mark(
    question: Question, mark: int | None, passed: bool | None, comment: str
) -> tuple[int | None, bool | None, str]:
    if question.kind == QuestionKind.QUALITY:
        if mark is None or not (0 <= mark <= TOP_MARK):
            raise PanelRefused(f"Give question {question.number} a mark from 0 to {TOP_MARK}.")
        passed = None
    else:
        if passed is None:
            raise PanelRefused(f"Say whether the answer to question {question.number} passes.")
        mark = None
    comment = (comment or "").strip()
    if not comment:
        raise PanelRefused(f"Write a comment on the answer to question {question.number}.")
    return mark, passed, comment


@transaction.atomic
def mark_set(
    *,
    bid: Bid,
    question: Question,
    by: User,
    mark: int | None,
    passed: bool | None,
    comment: str,
) -> EvaluatorMark:
    """An evaluator's own mark and comment for one answer. The audit trail
    records who marked which bid and question, never the mark."""
    bid, opportunity = _markable(bid, question, by)
    member = _evaluator(opportunity, by)
    mark, passed, comment = _check_mark(question, mark, passed, comment)
    current = EvaluatorMark.objects.filter(member=member, bid=bid, question=question).first()
    if current is not None and (current.mark, current.passed, current.comment) == (
        mark,
        passed,
        comment,
    ):
        return current
    saved, _ = EvaluatorMark.objects.update_or_create(
        member=member,
        bid=bid,
        question=question,
        defaults={"mark": mark, "passed": passed, "comment": comment, "marked_at": timezone.now()},
    )
    audit.record(
        actor=by,
        action="evaluation.marked",
        obj=opportunity,
        context={"bid": bid.pk, "supplier": bid.supplier_id, "question": question.number},
    )
    return saved


def answers_to_mark(opportunity: Opportunity) -> tuple[list[int], list[Question]]:
    """The ids of the bids marked and the questions: every answer is one of each."""
    bids = list(marking_bids(opportunity).order_by("pk").values_list("pk", flat=True))
    return bids, list(Question.objects.filter(opportunity=opportunity))


def canonical_marks(marks: Sequence[EvaluatorMark]) -> str:
    """The canonical JSON of an evaluator's marks (sorted by bid and question)."""
    rows = sorted(
        (
            {
                "bid": m.bid_id,
                "question": m.question_id,
                "mark": m.mark,
                "passed": m.passed,
                "comment": m.comment,
            }
            for m in marks
        ),
        key=lambda row: (row["bid"], row["question"]),
    )
    return json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@transaction.atomic
def marking_finish(*, opportunity: Opportunity, by: User) -> PanelMember:
    """The evaluator has marked every answer: the marks are final, and their
    SHA-256 is recorded (and audited)."""
    opportunity = _lock(opportunity)
    _check_evaluating(opportunity, by)
    member = _evaluator(opportunity, by)
    bids, questions = answers_to_mark(opportunity)
    marks = list(
        EvaluatorMark.objects.filter(
            member=member, bid_id__in=bids, question__in=[q.pk for q in questions]
        )
    )
    missing = len(bids) * len(questions) - len(marks)
    if missing:
        raise PanelRefused(
            f"You have {missing} answer{'s' if missing != 1 else ''} left to mark: "
            "mark every answer of every bid before you finish."
        )
    member.finished_at = timezone.now()
    member.marks_sha256 = hashlib.sha256(canonical_marks(marks).encode()).hexdigest()
    member.save(update_fields=["finished_at", "marks_sha256"])
    audit.record(
        actor=by,
        action="evaluation.finished",
        obj=opportunity,
        context={"answers": len(marks), "marks_sha256": member.marks_sha256},
    )
    if moderation_open(opportunity):
        moderator = active_members(opportunity).filter(moderates=True).select_related("officer")
        notify(
            MODERATION_READY.name,
            [m.officer for m in moderator],
            {
                "reference": opportunity.reference,
                "title": opportunity.title,
                "url": f"/opportunities/{opportunity.pk}/moderation/",
            },
            obj=opportunity,
            discriminator=f"{member.pk}-{member.finished_at.isoformat()}",
        )
    return member


# --- Moderation ---------------------------------------------------------------------------


def _moderator(opportunity: Opportunity, by: User) -> PanelMember:
    member = _own_member(opportunity, by)
    if not member.moderates:
        raise PanelRefused("Only the panel's moderator can moderate.")
    if member.declaration != Declaration.NONE:
        raise PanelRefused("Declare any conflict of interest before you moderate.")
    if not moderation_open(opportunity):
        raise PanelRefused("Moderation opens when every evaluator has finished marking.")
    return member


@dataclass(frozen=True)
class Spread:
    """How far the evaluators' marks for one answer are apart."""

    marks: dict[str, int | bool | None]  # member id → mark (or passed)
    differ: bool  # beyond the panel's spread (pass/fail: they disagree)


def spread_of(question: Question, marks: Sequence[EvaluatorMark], spread: int) -> Spread:
    values: dict[str, int | bool | None] = {
        str(m.member_id): (m.mark if question.kind == QuestionKind.QUALITY else m.passed)
        for m in marks
    }
    if question.kind == QuestionKind.QUALITY:
        numbers = [v for v in values.values() if isinstance(v, int) and not isinstance(v, bool)]
        differ = bool(numbers) and max(numbers) - min(numbers) > spread
    else:
        differ = len(set(values.values())) > 1
    return Spread(values, differ)


@transaction.atomic
def moderate_set(
    *,
    bid: Bid,
    question: Question,
    by: User,
    mark: int | None,
    passed: bool | None,
    comment: str,
    reason: str,
) -> ModeratedMark:
    """The moderator's agreed mark and comment for one answer; a reason is
    needed where the evaluators' marks differ by more than the spread."""
    bid, opportunity = _markable(bid, question, by)
    opportunity = _lock(opportunity)
    if is_agreed(opportunity):
        raise PanelRefused("The panel has agreed the evaluation: it is final.")
    _moderator(opportunity, by)
    mark, passed, comment = _check_mark(question, mark, passed, comment)
    moderation = Moderation.objects.get(opportunity=opportunity)
    marks = list(
        EvaluatorMark.objects.filter(
            bid=bid,
            question=question,
            member__removed_at__isnull=True,
            member__evaluates=True,
        )
    )
    spread = spread_of(question, marks, moderation.spread)
    reason = (reason or "").strip()
    if spread.differ and not reason:
        raise ReasonNeeded(question, moderation.spread)
    saved, _ = ModeratedMark.objects.update_or_create(
        bid=bid,
        question=question,
        defaults={
            "mark": mark,
            "passed": passed,
            "comment": comment,
            "reason": reason,
            "evaluator_marks": spread.marks,
            "moderated_by": by,
            "moderated_at": timezone.now(),
        },
    )
    audit.record(
        actor=by,
        action="moderation.marked",
        obj=opportunity,
        context={"bid": bid.pk, "supplier": bid.supplier_id, "question": question.number},
    )
    return saved


# (question, mark, passed, comment, reason): one answer's moderated mark.
ModeratedEntry = tuple[Question, int | None, bool | None, str, str]


@transaction.atomic
def moderate_bid(*, bid: Bid, by: User, entries: Sequence[ModeratedEntry]) -> list[ModeratedMark]:
    """``moderate_set`` for several answers of one bid, all or nothing: every
    answer missing a reason is reported at once (``ReasonsNeeded``), and none
    is saved until all may be."""
    saved, needed = [], []
    for question, mark, passed, comment, reason in entries:
        try:
            saved.append(
                moderate_set(
                    bid=bid,
                    question=question,
                    by=by,
                    mark=mark,
                    passed=passed,
                    comment=comment,
                    reason=reason,
                )
            )
        except ReasonNeeded as exc:  # refused before it wrote anything
            needed.append(exc)
    if needed:
        raise ReasonsNeeded(needed)
    return saved


def criterion_mark(rows: Sequence[tuple[int, int]]) -> Decimal:
    """A criterion's mark (%) from its questions' (weight, moderated mark):
    Σ(weight × mark / 5) / Σ weights × 100, half up to 2 places."""
    weights = sum(weight for weight, _ in rows)
    if not weights:
        return Decimal(0)
    points = sum((Decimal(weight) * mark / TOP_MARK for weight, mark in rows), Decimal(0))
    return (points / weights * 100).quantize(TWO, ROUND_HALF_UP)


@transaction.atomic
def moderation_agree(*, opportunity: Opportunity, by: User) -> Moderation:
    """The moderator agrees the evaluation once every answer is moderated:
    each bid's quality criteria are scored from the moderated marks and a
    bid that failed a pass/fail question is excluded with the reason."""
    opportunity = _lock(opportunity)
    _check_evaluating(opportunity, by)
    _moderator(opportunity, by)
    bids, questions = answers_to_mark(opportunity)
    moderated = {
        (m.bid_id, m.question_id): m
        for m in ModeratedMark.objects.filter(bid_id__in=bids, question__in=questions)
    }
    missing = len(bids) * len(questions) - len(moderated)
    if missing:
        raise PanelRefused(
            f"{missing} answer{'s' if missing != 1 else ''} still to moderate: moderate "
            "every answer before you agree the evaluation."
        )
    # The spread rule again, on the panel's marks as they stand now (a member
    # removed, a mark the moderator has not seen): a reason wherever they differ.
    spread = Moderation.objects.get(opportunity=opportunity).spread
    marks: dict[tuple[int, int], list[EvaluatorMark]] = defaultdict(list)
    for mark in EvaluatorMark.objects.filter(
        member__opportunity=opportunity,
        member__removed_at__isnull=True,
        member__evaluates=True,
        bid_id__in=bids,
    ):
        marks[(mark.bid_id, mark.question_id)].append(mark)
    unexplained = [
        question.number
        for question in questions
        for bid_id in bids
        if spread_of(question, marks[(bid_id, question.pk)], spread).differ
        and not moderated[(bid_id, question.pk)].reason.strip()
    ]
    if unexplained:
        numbers = ", ".join(str(n) for n in sorted(set(unexplained)))
        raise PanelRefused(
            f"The evaluators' marks differ by more than the spread where no reason is given "
            f"(question {numbers}): moderate those answers again with a reason."
        )
    now = timezone.now()
    by_criterion: dict[int, list[Question]] = defaultdict(list)
    for question in questions:
        if question.kind == QuestionKind.QUALITY and question.criterion_id is not None:
            by_criterion[question.criterion_id].append(question)
    excluded = []
    for bid in Bid.objects.filter(pk__in=bids).select_related("supplier"):
        for criterion_id, asked in by_criterion.items():
            rows = [(q.weight, moderated[(bid.pk, q.pk)].mark or 0) for q in asked]
            comments = "\n".join(
                f"Question {q.number}: {moderated[(bid.pk, q.pk)].comment}" for q in asked
            )
            Score.objects.update_or_create(
                bid=bid,
                criterion_id=criterion_id,
                defaults={
                    "mark": criterion_mark(rows),
                    "comment": comments,
                    "scored_by": by,
                    "scored_at": now,
                },
            )
        failed = [
            f"Failed: {q.text}: {moderated[(bid.pk, q.pk)].comment}"
            for q in questions
            if q.kind == QuestionKind.PASS_FAIL and moderated[(bid.pk, q.pk)].passed is False
        ]
        if failed:
            reason = "\n".join(failed)
            Bid.objects.filter(pk=bid.pk).update(excluded_reason=reason, excluded_by=by)
            audit.record(
                actor=by,
                action="bid.excluded",
                obj=opportunity,
                context={"bid": bid.pk, "reason": reason},
            )
            excluded.append(bid.pk)
    moderation = Moderation.objects.get(opportunity=opportunity)
    moderation.agreed_by, moderation.agreed_at = by, now
    moderation.save(update_fields=["agreed_by", "agreed_at"])
    audit.record(
        actor=by,
        action="evaluation.moderated",
        obj=opportunity,
        context={"bids": len(bids), "answers": len(moderated), "excluded": excluded},
    )
    return moderation
