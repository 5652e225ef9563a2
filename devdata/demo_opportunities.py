"""Demo opportunities for ``seed_demo --opportunities`` (used by ``make run``):
one in every state, so that every role has real work to do through the pages.

* a draft that may be published now to invited bidders (the invited-tender
  band, its four local suppliers already invited — even with the demo
  history of grounds maintenance added up, it stays below the threshold);
* a draft the rule sends to full tender;
* a draft sent to full tender only because other home care work of the last
  365 days adds up with it: the approver may record that it is separate,
  and it may then go to its four invited local suppliers;
* one open for bids, with invitations and the demo supplier's draft bid;
* one closed, with sealed bids waiting for two officers to open them;
* one in evaluation (opened by two officers, partly scored);
* one awarded, with outcome letters in the bidders' inboxes;
* one open for bids with a questionnaire and a pricing schedule to answer
  (issue 17);
* one opened and evaluated by a panel: two bids that answered the
  questionnaire, Priya Shah and Tom Hughes named to mark them independently,
  Priya the moderator (each declares first).

Everything is made through the services, as the pages would. The services
decide against the clock, so the last three are published with a deadline a
few seconds ahead, bid on at once, and the seeding waits for that deadline to
pass (``SECONDS_TO_DEADLINE``): their deadline is the moment they were loaded.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import TypedDict
from zoneinfo import ZoneInfo

from django.test import override_settings
from django.utils import timezone

from cpv.models import CpvCode
from cpv.services import cpv_load
from portal.models import BuyerOrganisation, User
from suppliers.models import SupplierOrganisation
from tenders.models import Bid, Lot, Opportunity
from tenders.services import (
    DECLARATIONS,
    CriterionSpec,
    LotSpec,
    answers_save,
    award_lot,
    bid_save_draft,
    bid_start,
    bid_submit,
    box_open,
    invite,
    lifecycle,
    opportunity_create,
    opportunity_publish,
    panel_set,
    pricing_line_add,
    question_add,
    score_set,
)

CRITERIA = [CriterionSpec("Price", 40, is_price=True), CriterionSpec("Quality of service", 60)]
QUALITY = "Quality of service"
TITLES = {
    "open": "Cleaning of Keighley Library",
    "draft": "Grounds maintenance of city parks",
    "refused": "Home support in Bradford city centre",
    "aggregated": "Home care visits in Shipley",
    "closed": "Cleaning of Shipley Town Hall",
    "evaluation": "Cleaning of Bingley Library",
    "awarded": "Window cleaning of council offices",
    "questionnaire": "Cleaning of Ilkley Library",
    "panel": "Cleaning of Baildon Library",
}
# The state each one is left in (README's "Start here").
STATES = {
    "draft": "draft: may be published now to invited bidders",
    "refused": "draft: the rule sends it to full tender",
    "aggregated": "draft: full tender because other care work adds up; the approver may "
    "record that it is separate",
    "open": "open for bids (the supplier's draft bid waits to be submitted)",
    "closed": "closed: sealed bids wait for two officers to open them",
    "evaluation": "in evaluation: opened, partly scored",
    "awarded": "awarded: outcome letters sent",
    "questionnaire": "open for bids with a questionnaire and a pricing schedule to answer",
    "panel": "in evaluation by a panel: Priya and Tom declare and mark, Priya moderates",
}
SUPPLIER = "supplier@aire-valley.example"  # Aire Valley Cleaning Ltd
SECOND_SUPPLIER = "bids@manningham-cleaning.example"  # Manningham Cleaning Co-operative Ltd
# Local, approved cleaning firms invited to the cleaning opportunities.
CLEANERS = [
    "Aire Valley Cleaning Ltd",
    "Eccleshill Facilities Ltd",
    "Manningham Cleaning Co-operative Ltd",
]
CARERS = [
    "Bradford Community Care CIC",
    "Thornton Youth Trust",
    "Bowling Home Care Ltd",
    "Heaton Care Co-operative Ltd",
]
GROUNDS = [
    "Shipley Grounds Maintenance Ltd",
    "Bradford Parks and Gardens Ltd",
    "Saltaire Garden Services CIC",
    "Wyke Grounds and Trees Ltd",
]
# Long enough to publish and bid on three opportunities on a slow machine.
SECONDS_TO_DEADLINE = 8


class _Common(TypedDict):
    """The keyword arguments every demo opportunity shares."""

    buyer: BuyerOrganisation
    by: User
    contract_kind: str
    criteria: Sequence[CriterionSpec]
    clarification_deadline: datetime.datetime
    submission_deadline: datetime.datetime


def _noon_in(days: int) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=ZoneInfo("Europe/London"))


def _suppliers(names: Sequence[str]) -> list[SupplierOrganisation]:
    return list(SupplierOrganisation.objects.filter(legal_name__in=names))


def seed(buyer: BuyerOrganisation, officers: tuple[User, User]) -> int:
    """Create the demo opportunities that are missing; returns how many."""
    officer = officers[0]
    cpv_load(only=["90910000-9", "77310000-6", "85310000-5"])
    existing = set(Opportunity.objects.filter(buyer=buyer).values_list("title", flat=True))
    made = 0
    common: _Common = {
        "buyer": buyer,
        "by": officer,
        "contract_kind": "services",
        "criteria": CRITERIA,
        "clarification_deadline": _noon_in(10),
        "submission_deadline": _noon_in(14),
    }
    cleaning = CpvCode.objects.get(code="90910000-9")
    if TITLES["open"] not in existing:
        opportunity = opportunity_create(
            title=TITLES["open"],
            description="Daily cleaning of Keighley Library for one year, 6am to 8am.",
            cpv=cleaning,
            lots=[LotSpec("Keighley Library", Decimal("8400.00"), area="BD21")],
            **common,
        )
        invite(
            opportunity=opportunity,
            suppliers=_suppliers(["Aire Valley Cleaning Ltd", "Eccleshill Facilities Ltd"]),
            by=officer,
        )
        opportunity_publish(opportunity=opportunity, by=officer)
        supplier = User.objects.get(email__iexact=SUPPLIER)
        bid = bid_start(lot=opportunity.lots.get(), by=supplier)
        bid_save_draft(bid=bid, by=supplier, price=Decimal("7900.00"), declarations={})
        made += 1
    if TITLES["draft"] not in existing:
        # £100,000 in grounds maintenance: with the £70,000 of Shipley's parks
        # (published within the last 365 days) it adds up to £170,000, below
        # the £180,000 threshold; the invited-tender band (4 invited, 3 local)
        # is met by the four local grounds firms invited.
        opportunity = opportunity_create(
            title=TITLES["draft"],
            description="Grass cutting, hedges and litter picking in two groups of parks.",
            cpv=CpvCode.objects.get(code="77310000-6"),
            lots=[
                LotSpec("Parks north of the city", Decimal("50000.00"), area="BD10"),
                LotSpec("Parks south of the city", Decimal("50000.00"), area="BD6"),
            ],
            **common,
        )
        invite(opportunity=opportunity, suppliers=_suppliers(GROUNDS), by=officer)
        made += 1
    if TITLES["refused"] not in existing:
        opportunity_create(
            title=TITLES["refused"],
            description="Home support for adults in the city centre for three years.",
            cpv=CpvCode.objects.get(code="85310000-5"),
            lots=[LotSpec("City centre", Decimal("200000.00"), area="BD1")],
            **common,
        )
        made += 1
    if TITLES["aggregated"] not in existing:
        # £75,000 alone is an invited tender, but with the £110,000 awarded for
        # home support in Keighley (published within the last 365 days) the
        # care work adds up to £185,000: full tender, unless the approver
        # records that it is genuinely separate.
        opportunity = opportunity_create(
            title=TITLES["aggregated"],
            description="Home care visits for older people in Shipley for two years.",
            cpv=CpvCode.objects.get(code="85310000-5"),
            lots=[LotSpec("Shipley", Decimal("75000.00"), area="BD18")],
            **common,
        )
        invite(opportunity=opportunity, suppliers=_suppliers(CARERS), by=officer)
        made += 1
    if TITLES["questionnaire"] not in existing:
        opportunity = opportunity_create(
            title=TITLES["questionnaire"],
            description="Daily cleaning of Ilkley Library for one year, before it opens at 9am.",
            cpv=cleaning,
            lots=[LotSpec("Ilkley Library", Decimal("11500.00"), area="LS29")],
            **common,
        )
        add_questionnaire(opportunity, officer, documents="Public liability insurance certificate")
        invite(opportunity=opportunity, suppliers=_suppliers(CLEANERS), by=officer)
        opportunity_publish(opportunity=opportunity, by=officer)
        made += 1
    made += _past_the_deadline(buyer, officers, existing, cleaning)
    return made


# The demo questionnaire (issue 17): two questions on the quality criterion,
# a pass/fail question answered with the bid (never a pre-qualification
# stage), and a pricing schedule.
QUESTIONS = [
    (
        "How will you organise the daily cleaning so that the library is ready when it "
        "opens at 9am?",
        "Say who cleans, when, what they check, and how you cover holidays and sickness.",
        250,
        60,
    ),
    (
        "How will you keep staff and visitors safe while you clean?",
        "Say how you manage wet floors, cleaning chemicals (COSHH) and lone working.",
        150,
        40,
    ),
]
INSURANCE_QUESTION = "Do you hold public liability insurance of at least £5 million?"
SCHEDULE = [
    ("Daily clean, Monday to Saturday", "visit", Decimal("306")),
    ("Deep clean of carpets", "clean", Decimal("4")),
    ("Inside window cleaning", "month", Decimal("12")),
]


def add_questionnaire(opportunity: Opportunity, officer: User, *, documents: str = "") -> None:
    quality = opportunity.criteria.get(name=QUALITY)
    for text, guidance, limit, weight in QUESTIONS:
        question_add(
            opportunity=opportunity,
            by=officer,
            kind="quality",
            criterion=quality,
            text=text,
            guidance=guidance,
            word_limit=limit,
            weight=weight,
        )
    question_add(
        opportunity=opportunity,
        by=officer,
        kind="pass_fail",
        text=INSURANCE_QUESTION,
        guidance="Answer yes or no. The certificate is checked before the contract starts.",
        documents=documents,
    )
    for description, unit, quantity in SCHEDULE:
        pricing_line_add(
            opportunity=opportunity,
            by=officer,
            description=description,
            unit=unit,
            quantity=quantity,
        )


# Each panel bidder's answers (to the two quality questions) and rates.
_ANSWERS = {
    SUPPLIER: (
        (
            "Two cleaners from our Bingley base start at 6am, Monday to Saturday. They follow "
            "a room-by-room checklist and the supervisor signs it off at 8.30am. Two trained "
            "relief cleaners cover holidays and sickness.",
            "Wet-floor signs go out before mopping and floors are dry by 8.45am. Chemicals are "
            "kept locked, with COSHH sheets on site. Lone workers check in by phone every hour.",
        ),
        ("28.50", "145.00", "60.00"),
    ),
    SECOND_SUPPLIER: (
        (
            "A team of three local members of our co-operative cleans from 6am. The team "
            "leader checks every room against the library's own list and reports to the "
            "manager each morning. Members cover each other's holidays.",
            "We use signs and cordons on wet floors and clean the entrance last. Only "
            "trained members handle chemicals. Nobody works alone: the team arrives together.",
        ),
        ("27.75", "160.00", "55.00"),
    ),
}


def _answer(opportunity: Opportunity, person: User) -> None:
    """``person``'s organisation answers the questionnaire and submits its bid."""
    bid = bid_start(lot=opportunity.lots.get(), by=person)
    texts, rates = _ANSWERS[person.email.lower()]
    questions = list(opportunity.questions.order_by("number"))
    answers: dict[int, tuple[str, bool | None]] = {
        question.pk: (text, None) for question, text in zip(questions[:2], texts, strict=True)
    }
    answers[questions[2].pk] = ("Yes: £5 million with our insurer, renewed in April.", True)
    lines = list(opportunity.pricing_lines.order_by("number"))
    answers_save(
        bid=bid,
        by=person,
        answers=answers,
        rates={line.pk: Decimal(rate) for line, rate in zip(lines, rates, strict=True)},
    )
    bid_save_draft(
        bid=bid,
        by=person,
        price=Bid.objects.get(pk=bid.pk).draft_price,
        declarations=dict.fromkeys(DECLARATIONS, True),
    )
    bid_submit(bid=bid, by=person)


# title key, description, value, the two bids (Aire Valley's, Manningham's)
_PAST = [
    ("closed", "Cleaning of Shipley Town Hall for two years.", "24000.00", ("21500", "22800")),
    ("evaluation", "Daily cleaning of Bingley Library, a year.", "12000.00", ("11200", "10900")),
    ("awarded", "Window cleaning of six council offices, monthly.", "16000.00", ("15400", "14200")),
    # Priced by its schedule (the prices come from the rates in ``_ANSWERS``).
    ("panel", "Daily cleaning of Baildon Library, a year.", "12000.00", ("", "")),
]


def _past_the_deadline(
    buyer: BuyerOrganisation,
    officers: tuple[User, User],
    existing: set[str],
    cleaning: CpvCode,
) -> int:
    """Closed, in evaluation and awarded: published, bid on by two local firms,
    then (after the deadline) opened by two officers, scored and awarded."""
    rows = [row for row in _PAST if TITLES[row[0]] not in existing]
    if not rows:
        return 0
    officer, second = officers
    bidders = [
        User.objects.get(email__iexact=SUPPLIER),
        User.objects.get(email__iexact=SECOND_SUPPLIER),
    ]
    deadline = timezone.now() + datetime.timedelta(seconds=SECONDS_TO_DEADLINE)
    made: dict[str, Opportunity] = {}
    for key, description, value, prices in rows:
        opportunity = opportunity_create(
            buyer=buyer,
            by=officer,
            title=TITLES[key],
            description=description,
            cpv=cleaning,
            contract_kind="services",
            criteria=CRITERIA,
            lots=[LotSpec(TITLES[key], Decimal(value))],
            clarification_deadline=deadline - datetime.timedelta(seconds=1),
            submission_deadline=deadline,
        )
        if key == "panel":
            add_questionnaire(opportunity, officer)
        invite(opportunity=opportunity, suppliers=_suppliers(CLEANERS), by=officer)
        opportunity = opportunity_publish(opportunity=opportunity, by=officer)
        lot = opportunity.lots.get()
        if key == "panel":
            for person in bidders:
                _answer(opportunity, person)
            made[key] = opportunity
            continue
        for supplier, price in zip(bidders, prices, strict=True):
            bid = bid_start(lot=lot, by=supplier)
            bid_save_draft(
                bid=bid,
                by=supplier,
                price=Decimal(price),
                declarations=dict.fromkeys(DECLARATIONS, True),
            )
            bid_submit(bid=bid, by=supplier)
        made[key] = opportunity
    # Nothing waits for the clock but this: the deadline passes.
    time.sleep(max(0.0, (deadline - timezone.now()).total_seconds()) + 0.5)
    # Nothing is served while the demo is built, so no bid can be in flight:
    # the box need not wait BIDS_IN_FLIGHT_SECONDS after the deadline (ADR 17).
    with override_settings(BIDS_IN_FLIGHT_SECONDS=0):
        _close_and_open(made, officer, second)
    return len(made)


def _close_and_open(made: dict[str, Opportunity], officer: User, second: User) -> None:
    for key, opportunity in made.items():
        if key == "closed":
            # As the scheduled task records it: the officers are told the bids are ready.
            if not lifecycle.record_closing(opportunity):
                raise RuntimeError(f"{opportunity.reference} did not close.")
            continue
        box_open(opportunity=opportunity, by=officer)
        box_open(opportunity=opportunity, by=second)
        if key == "panel":
            # Both officers evaluate; Priya also moderates. Each declares first.
            panel_set(
                opportunity=opportunity, by=officer, evaluators=[officer, second], moderator=officer
            )
            continue
        lot = opportunity.lots.get()
        _score(lot, officer, everyone=key == "awarded")
        if key == "awarded":
            start = timezone.localdate() + datetime.timedelta(days=28)
            award_lot(
                lot=lot,
                by=officer,
                reasons="The best value: the lower price and a thorough, local team.",
                start_date=start,
                end_date=start + datetime.timedelta(days=364),
            )


# Quality marks and comments, by supplier: Manningham's is the stronger bid.
_MARKS = {
    "Manningham Cleaning Co-operative Ltd": (
        Decimal("80"),
        "A clear method statement and cover for holidays from a local team.",
    ),
    "Aire Valley Cleaning Ltd": (
        Decimal("70"),
        "A sound plan; less detail on how windows above the ground floor are reached.",
    ),
}


def _score(lot: Lot, officer: User, *, everyone: bool) -> None:
    """Mark the quality criterion: every bid, or (left in evaluation) only the first."""
    quality = lot.opportunity.criteria.get(name=QUALITY)
    bids = Bid.objects.filter(lot=lot).select_related("supplier").order_by("supplier__legal_name")
    for bid in bids:
        mark, comment = _MARKS[bid.supplier.legal_name]
        score_set(bid=bid, criterion=quality, mark=mark, comment=comment, by=officer)
        if not everyone:
            return


def describe(buyer: BuyerOrganisation) -> list[str]:
    """A line for each demo opportunity: reference, title and what to do with it."""
    found = {
        o.title: o.reference
        for o in Opportunity.objects.filter(buyer=buyer, title__in=TITLES.values())
    }
    return [
        f"{found[title]}  {title}: {STATES[key]}" for key, title in TITLES.items() if title in found
    ]
