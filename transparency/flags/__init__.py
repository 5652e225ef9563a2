"""Flags: records of one council an auditor should look at, each explained.

A flag is not a finding: it says why the record stands out and what to
check. Every flag reads one council's records only, and the page costs the
same number of queries however many records there are: the flags that look
across time (repeated awards, possible splitting) read the council's
contracts in one query and sweep them in Python; the others are single
queries, paginated by the database.

Sealed bids stay sealed: the only flag that counts bids (single-bid awards)
concerns awarded lots, and it also requires the box to have been opened.

One idea a module:

- ``kinds``: what each flag is (key, name, why, what to check) and its figures;
- ``windows``: the sweeps across time, pure (no Django, no database);
- ``selectors``: every read, one council at a time;
- ``rows``: how each flagged record is worded;
- ``report``: the page's report, every flag counted and one page of rows.
"""

from transparency.flags.kinds import FAR_FROM_ESTIMATE_PERCENT, KIND_KEYS, KINDS, SINGLE_BID
from transparency.flags.report import flag_report

__all__ = ["FAR_FROM_ESTIMATE_PERCENT", "KINDS", "KIND_KEYS", "SINGLE_BID", "flag_report"]
