"""The flags page's report: every flag with its count, and one page of the
rows of the flag shown.

The count made for the summary is the page's count too
(``portal.paging.CountedPaginator``), so a flag read by a query is counted
once and one page of it read; a swept flag is a list, counted by its length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from django.core.paginator import Page
from django.db.models import QuerySet

from portal.models import BuyerOrganisation
from portal.paging import PAGE_SIZE, CountedPaginator
from transparency.flags import rows, selectors, windows
from transparency.flags.kinds import (
    EXTENSIONS,
    FAR_FROM_ESTIMATE,
    KINDS,
    NON_LOCAL,
    OVERRIDES,
    REPEAT_AWARDS,
    SINGLE_BID,
    SPLITTING,
    FlagKind,
)


@dataclass(frozen=True)
class FlagSummary:
    kind: FlagKind
    count: int


@dataclass(frozen=True)
class FlagReport:
    summaries: list[FlagSummary]
    selected: FlagSummary
    page: Page[rows.FlagRow]  # its object_list: the FlagRows of this page


_Record = TypeVar("_Record")


class FlagSource(NamedTuple, Generic[_Record]):
    """A flag's records (a query not yet run, or the swept list) and what
    turns a page of them into rows."""

    records: QuerySet[Any, _Record] | list[_Record]
    present: Callable[[list[_Record]], list[rows.FlagRow]]


def flag_sources(council: BuyerOrganisation) -> dict[str, FlagSource[Any]]:
    """For each flag, its records and what turns a page of them into rows."""
    contracts = selectors.contract_facts(council)
    figures = selectors.policy_figures_for(council, contracts)
    return {
        SINGLE_BID.key: FlagSource(selectors.single_bid_awards(council), rows.single_bid_rows),
        REPEAT_AWARDS.key: FlagSource(
            windows.repeat_awards(contracts, figures), rows.repeat_award_rows
        ),
        SPLITTING.key: FlagSource(
            windows.possible_splitting(contracts, figures), rows.splitting_rows
        ),
        OVERRIDES.key: FlagSource(selectors.aggregation_overrides(council), rows.override_rows),
        NON_LOCAL.key: FlagSource(selectors.non_local_invitations(council), rows.non_local_rows),
        FAR_FROM_ESTIMATE.key: FlagSource(
            selectors.awards_far_from_estimate(council), rows.far_from_estimate_rows
        ),
        EXTENSIONS.key: FlagSource(selectors.repeatedly_extended(council), rows.extension_rows),
    }


def flag_report(
    council: BuyerOrganisation, *, flag: str | None = None, page: str | int | None = None
) -> FlagReport:
    """Every flag with its count, and one page of the rows of ``flag`` (by
    default the first flag with any rows)."""
    sources = flag_sources(council)
    summaries = [
        FlagSummary(kind, len(records) if isinstance(records, list) else records.count())
        for kind in KINDS
        for records, _ in [sources[kind.key]]
    ]
    selected = next((s for s in summaries if s.kind.key == flag), None)
    if selected is None:
        selected = next((s for s in summaries if s.count), summaries[0])
    records, present = sources[selected.kind.key]
    current = CountedPaginator(records, PAGE_SIZE, count=selected.count).get_page(page)
    current.object_list = present(list(current.object_list))
    return FlagReport(summaries=summaries, selected=selected, page=current)


def flag_row(council: BuyerOrganisation, kind: str, record_id: int) -> rows.FlagRow | None:
    """The one flag (``kind``, ``record_id``) of ``council``, worded as the
    list words it, or None when the council has no such flag."""
    sources = flag_sources(council)
    if kind not in sources:
        return None
    records, present = sources[kind]
    if isinstance(records, list):
        found = [row for row in present(records) if row.record_id == record_id]
    else:
        found = present(list(records.filter(pk=record_id)))
    return found[0] if found else None


def every_row(council: BuyerOrganisation, kind: str) -> list[rows.FlagRow]:
    """Every row of one flag, worded (the CSV download)."""
    records, present = flag_sources(council)[kind]
    return present(list(records))
