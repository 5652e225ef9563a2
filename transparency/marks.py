"""Two publication duties that follow from a contract's value (RULES.md):

* a **contract details notice** under the Procurement Act 2023 when the
  contract is worth the statutory figure or more, VAT inclusive
  (``contract_details_notice``, £30,000 from 24 February 2025);
* an entry in the **Local Government Transparency Code 2015** publication
  when it is worth more than its figure (``transparency_publication``,
  £5,000), compared VAT inclusive too (the stricter reading).

The figures are effective-dated ``StatutoryFigure`` rows, read for the day the
contract was awarded. A contract is judged on its whole value (RULES §2: the
whole amount payable over the whole term): its awarded price plus its
opportunity's options and extensions. Those are recorded for the opportunity
as a whole, not for a lot, so each of its contracts counts them: a notice too
many, never one too few. The value is priced on its opportunity's VAT
basis (``value_vat_basis``); excluding VAT it is converted at the rate of the
policy that decided the route, rounded up to the penny as the threshold rule
does (``tenders.rules.to_policy_basis``): never in the council's favour.

Pass a ``Figures`` loaded once (``load_figures()``, one query) to mark many
contracts with no query each; the contract needs
``award__lot__opportunity__policy`` selected.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from tenders.models import Contract, StatutoryFigure
from tenders.rules import DEFAULT_VAT_RATE, including_vat

NOTICE = "contract_details_notice"
TRANSPARENCY = "transparency_publication"
# A policy's own default, for an opportunity that never had its route decided.


@dataclass(frozen=True)
class Figures:
    """Effective-dated statutory figures, newest first per name."""

    by_name: dict[str, list[tuple[datetime.date, Decimal]]] = field(default_factory=dict)

    def on(self, name: str, day: datetime.date) -> Decimal | None:
        for effective_from, amount in self.by_name.get(name, []):
            if effective_from <= day:
                return amount
        return None


def load_figures(names: tuple[str, ...] = (NOTICE, TRANSPARENCY)) -> Figures:
    """Every version of the figures the marks read, in one query."""
    by_name: dict[str, list[tuple[datetime.date, Decimal]]] = {}
    rows = StatutoryFigure.objects.filter(name__in=names).order_by("name", "-effective_from")
    for name, effective_from, amount in rows.values_list("name", "effective_from", "amount"):
        by_name.setdefault(name, []).append((effective_from, amount))
    return Figures(by_name)


def vat_rate_percent(contract: Contract) -> Decimal:
    policy = contract.award.lot.opportunity.policy
    return policy.vat_rate_percent if policy is not None else DEFAULT_VAT_RATE


def whole_value(price: Decimal, options_value: Decimal) -> Decimal:
    """A contract's whole value, as priced: its awarded price and its
    opportunity's options and extensions (see above)."""
    return price + options_value


def value_including_vat(contract: Contract) -> Decimal:
    """The contract's whole value including VAT, to the penny (rounded up)."""
    opportunity = contract.award.lot.opportunity
    return including_vat(
        whole_value(contract.value, opportunity.options_value),
        opportunity.value_vat_basis,
        vat_rate_percent(contract),
    )


def notice_day(published_at: datetime.datetime | None, awarded_on: datetime.date) -> datetime.date:
    """The day whose contract details notice figure applies: the day (UK) the
    procurement started, when its invitations went out. The Procurement Act
    governs procurements started from 24 February 2025 (RULES §1), so one
    started before then and awarded after owes no notice. Without a
    publication recorded, the award day."""
    return timezone.localdate(published_at) if published_at is not None else awarded_on


def _day(name: str, contract: Contract) -> datetime.date:
    if name == NOTICE:
        return notice_day(contract.award.lot.opportunity.published_at, contract.awarded_on)
    return contract.awarded_on


def _figure(name: str, contract: Contract, figures: Figures | None) -> Decimal | None:
    if figures is None:
        figures = load_figures((name,))
    return figures.on(name, _day(name, contract))


def _notice_due(value_including_vat: Decimal, figure: Decimal | None) -> bool:
    """At or above the contract details notice figure."""
    return figure is not None and value_including_vat >= figure


def code_due(value_including_vat: Decimal, figure: Decimal | None) -> bool:
    """Over the Transparency Code's figure."""
    return figure is not None and value_including_vat > figure


def needs_contract_details_notice(contract: Contract, figures: Figures | None = None) -> bool:
    """At or above the contract details notice figure in force when the
    procurement started (``notice_day``)."""
    return _notice_due(value_including_vat(contract), _figure(NOTICE, contract, figures))


def in_transparency_code(contract: Contract, figures: Figures | None = None) -> bool:
    """Over the Transparency Code's figure in force on the award day."""
    return code_due(value_including_vat(contract), _figure(TRANSPARENCY, contract, figures))


@dataclass(frozen=True)
class Marks:
    value_including_vat: Decimal
    contract_details_notice: bool
    transparency_code: bool
    notice_figure: Decimal | None
    transparency_figure: Decimal | None


def marks_for(contract: Contract, figures: Figures | None = None) -> Marks:
    """Both marks and the figures they were judged against (one row of a register)."""
    figures = figures if figures is not None else load_figures()
    return marks_with(
        value_including_vat(contract),
        figures.on(NOTICE, _day(NOTICE, contract)),
        figures.on(TRANSPARENCY, _day(TRANSPARENCY, contract)),
    )


def marks_with(
    value_including_vat: Decimal, notice: Decimal | None, transparency: Decimal | None
) -> Marks:
    """The marks of a contract worth ``value_including_vat`` when the figures in
    force on its award day were ``notice`` and ``transparency``."""
    return Marks(
        value_including_vat=value_including_vat,
        contract_details_notice=_notice_due(value_including_vat, notice),
        transparency_code=code_due(value_including_vat, transparency),
        notice_figure=notice,
        transparency_figure=transparency,
    )


@dataclass(frozen=True)
class FiguresToday:
    """The marks' figures in force today as the pages word them ("£30,000"),
    each with whether an administrator marked it to be checked (RULES: say so)."""

    notice: str
    notice_to_check: bool
    transparency: str
    transparency_to_check: bool


def figures_today(today: datetime.date | None = None) -> FiguresToday:
    """One query: the notice and Transparency Code figures in force ``today``."""
    today = today or timezone.localdate()
    latest: dict[str, StatutoryFigure] = {}
    rows = StatutoryFigure.objects.filter(
        name__in=(NOTICE, TRANSPARENCY), effective_from__lte=today
    ).order_by("name", "-effective_from")
    for figure in rows:
        latest.setdefault(figure.name, figure)

    def words(name: str) -> tuple[str, bool]:
        figure = latest.get(name)
        if figure is None:
            return "(no figure recorded)", False
        places = 0 if figure.amount == figure.amount.to_integral() else 2
        return f"£{figure.amount:,.{places}f}", figure.to_check

    notice, notice_check = words(NOTICE)
    transparency, transparency_check = words(TRANSPARENCY)
    return FiguresToday(notice, notice_check, transparency, transparency_check)
