"""Questions from invited suppliers and the council's answers."""

from __future__ import annotations

import datetime
import itertools

from django.db import transaction
from django.utils import timezone

from ledger import names
from portal import audit, events
from portal.models import Role, User
from portal.notifications import notify
from portal.received import moment_received
from suppliers.models import SupplierOrganisation, SupplierSite
from tenders.models import (
    Clarification,
    ClarificationVisibility,
    Invitation,
    Opportunity,
)
from tenders.services import lifecycle
from tenders.services.lifecycle import OpportunityRefused
from tenders.services.opportunities import notify_invitees

ASKED = events.register("clarification.asked", "mandatory", "A supplier asked a question")
ANSWERED = events.register("clarification.answered", "mandatory", "A question was answered")


class NamesTheAsker(OpportunityRefused):
    """An answer to every invitee whose question or answer tells who asked;
    ``by_field`` holds each problem by the field it is about
    (``published_question``, ``answer``)."""

    def __init__(self, by_field: dict[str, str]) -> None:
        self.by_field = by_field
        super().__init__(list(by_field.values()))


def _words(text: str) -> list[str]:
    """``text`` as ``ledger.names`` compares names (upper case, punctuation and
    spacing away), less the legal forms wherever they stand: "Aire Valley
    Cleaning Limited," and "aire-valley cleaning" read alike."""
    return [w for w in names.normalise(text).split(" ") if w and w not in names.SUFFIXES]


# A legal form however it is written: "Limited" is "Ltd".
_FORMS = {"LIMITED": "LTD", "COMPANY": "CO"}


def _formed(text: str) -> list[str]:
    """``text``'s words with the legal forms kept, each written one way."""
    return [_FORMS.get(w, w) for w in names.normalise_words(text)]


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def asker_named_in(
    text: str, *, supplier: SupplierOrganisation, asker: User, postcodes: list[str]
) -> list[str]:
    """What in ``text`` tells who asked, as the council's records write it:
    the organisation's legal or trading name, the asking person's full name,
    the postcode of one of its sites (written with or without its space)."""
    words = _words(text)
    # The text's words with the legal forms kept, as "CLEANING LTD".
    written = _formed(text)
    found = []
    for name in dict.fromkeys([supplier.legal_name, supplier.trading_name, asker.full_name]):
        needle = _words(name or "")
        if len(needle) == 1 and (formed := _formed(name)) != needle:
            # One word and its legal form ("Cleaning Ltd"): the word alone is
            # everyday language in an answer about cleaning; with its legal
            # form it names the company.
            if _contains(written, formed):
                found.append(name)
        elif name and _contains(words, needle):
            found.append(name)
    pairs = {a + b for a, b in itertools.pairwise(words)}
    for postcode in postcodes:
        compact = postcode.replace(" ", "").upper()
        if compact in words or compact in pairs:
            found.append(postcode)
    return found


@transaction.atomic
def clarification_ask(
    *,
    opportunity: Opportunity,
    by: User,
    question: str,
    received_at: datetime.datetime | None = None,
) -> Clarification:
    """An invited supplier asks; only the buyer's officers see who asked.

    As a bid, a question is judged by when it was received (``received_at``,
    the request's: ADR 17; now when not given, never later than now): one
    received before the deadline for questions counts even when a busy
    server gets to it after. It is recorded as asked at that moment."""
    asked_at = moment_received(received_at, timezone.now())
    question = (question or "").strip()
    if not question:
        raise OpportunityRefused("Enter your question.")
    supplier_id = by.supplier_id
    if (
        supplier_id is None
        or not Invitation.objects.filter(opportunity=opportunity, supplier_id=supplier_id).exists()
    ):
        raise OpportunityRefused("Only invited suppliers can ask questions.")
    opportunity = Opportunity.objects.get(pk=opportunity.pk)  # as it is now, not as read
    lifecycle.ensure(opportunity, "ask_question", asked_at)
    clarification = Clarification.objects.create(
        opportunity=opportunity,
        supplier_id=supplier_id,
        asked_by=by,
        question=question,
        asked_at=asked_at,
    )
    audit.record(
        actor=by,
        action="clarification.asked",
        obj=opportunity,
        context={"clarification": clarification.pk},
    )
    officers = User.objects.filter(buyer=opportunity.buyer_id, role=Role.OFFICER, is_active=True)
    notify(
        ASKED.name,
        officers,
        {
            "reference": opportunity.reference,
            "title": opportunity.title,
            "url": f"/opportunities/{opportunity.pk}/",
        },
        obj=clarification,
    )
    return clarification


def _ensure_anonymous(clarification: Clarification, *, question: str, answer: str) -> None:
    """RULES §4: what every invitee reads does not say who asked."""
    postcodes = list(
        SupplierSite.objects.filter(supplier=clarification.supplier_id)
        .order_by("postcode")
        .values_list("postcode", flat=True)
        .distinct()
    )
    supplier, asker = clarification.supplier, clarification.asked_by
    problems: dict[str, str] = {}
    if found := asker_named_in(
        question or clarification.question, supplier=supplier, asker=asker, postcodes=postcodes
    ):
        problems["published_question"] = (
            f"The question as published names the supplier who asked ({', '.join(found)}): "
            "edit it out, or answer only the supplier who asked."
        )
    if found := asker_named_in(answer, supplier=supplier, asker=asker, postcodes=postcodes):
        problems["answer"] = (
            f"The answer names the supplier who asked ({', '.join(found)}): edit it out, "
            "or answer only the supplier who asked."
        )
    if problems:
        raise NamesTheAsker(problems)


@transaction.atomic
def clarification_answer(
    *,
    clarification: Clarification,
    by: User,
    answer: str,
    visibility: str,
    published_question: str = "",
) -> Clarification:
    """Answer to every invitee without the asker's identity, or privately.
    Answered to every invitee, the question goes with it as
    ``published_question`` when given: the officer's wording, without what
    would tell who asked (a name, a site, a reference; RULES §4). Such an
    answer is refused (``NamesTheAsker``) while the question it publishes or
    the answer names the asking organisation, the person who asked or the
    postcode of one of its sites; an answer to the asker alone is not."""
    answer = (answer or "").strip()
    if not answer:
        raise OpportunityRefused("Enter the answer.")
    if visibility not in ClarificationVisibility.values:
        raise OpportunityRefused("Choose who sees the answer.")
    clarification = (
        Clarification.objects.select_for_update()
        .select_related("opportunity", "supplier", "asked_by")
        .get(pk=clarification.pk)
    )
    if clarification.answered_at:
        raise OpportunityRefused("This question has already been answered.")
    lifecycle.ensure(clarification.opportunity, "answer_question")
    reworded = (published_question or "").strip()
    if visibility != ClarificationVisibility.ALL or reworded == clarification.question.strip():
        reworded = ""  # the asker reads its own words; unchanged words are not a rewording
    if visibility == ClarificationVisibility.ALL:
        _ensure_anonymous(clarification, question=reworded, answer=answer)
    clarification.answer = answer
    clarification.visibility = visibility
    clarification.published_question = reworded
    clarification.answered_by = by
    clarification.answered_at = timezone.now()
    clarification.save(
        update_fields=[
            "answer",
            "visibility",
            "published_question",
            "answered_by",
            "answered_at",
        ]
    )
    opportunity = clarification.opportunity
    audit.record(
        actor=by,
        action="clarification.answered",
        obj=opportunity,
        context={
            "clarification": clarification.pk,
            "visibility": visibility,
            "question_reworded": bool(reworded),
        },
    )
    extra = {"question": clarification.shown_question, "answer": answer}
    notify_invitees(
        opportunity,
        ANSWERED.name,
        supplier_ids=None
        if visibility == ClarificationVisibility.ALL
        else [clarification.supplier_id],
        extra=extra,
        discriminator=f"clarification-{clarification.pk}",
    )
    return clarification
