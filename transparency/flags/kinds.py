"""The flag kinds: what each flag is (its key, its name, why records are
flagged and what the auditor should check) and the figures of its rule.

Plain data, no Django: the time-window sweeps (``windows``) read the
figures too.
"""

from __future__ import annotations

from dataclasses import dataclass

# An award this many per cent or more away from the lot's estimate is flagged
# when it is MORE than this: 25% exactly is not flagged, 25.01% is. A whole
# number, so the comparison is exact in pence on every database.
FAR_FROM_ESTIMATE_PERCENT = 25

# Three or more contracts to one supplier in one category within 365 days
# (the day 365 days before counts, the day before that does not:
# ``tenders.rules.in_window``).
REPEAT_AWARDS_AT_LEAST = 3
REPEAT_AWARDS_WINDOW_DAYS = 365

# An opportunity whose deadline was extended this many times or more.
EXTENSIONS_AT_LEAST = 2


@dataclass(frozen=True)
class FlagKind:
    key: str
    name: str
    why: str  # why records are flagged: the rule, in plain words
    check: str  # what the auditor should check
    when_label: str  # what the date in each row is


SINGLE_BID = FlagKind(
    key="single-bid",
    name="Single-bid awards",
    why="Only one bid was submitted for the lot that was awarded, so the price was not "
    "tested against any other.",
    check="Check how many suppliers were invited and how many of them were local, whether "
    "the others said why they did not bid, and whether the price was compared with the "
    "estimate or the market before the award.",
    when_label="Awarded",
)
REPEAT_AWARDS = FlagKind(
    key="repeat-awards",
    name="Several awards to one supplier in one category within 12 months",
    why=f"{REPEAT_AWARDS_AT_LEAST} or more contracts went to the same supplier for work in the "
    f"same category (the first CPV digits the procurement policy sets, normally 3) within "
    f"{REPEAT_AWARDS_WINDOW_DAYS} days of each other. The row is the contract that made it "
    f"{REPEAT_AWARDS_AT_LEAST} or more.",
    check="Check that each contract was competed on its own merits, that other suppliers in "
    "the category were invited, and that the work was not one need divided into smaller "
    "contracts.",
    when_label="Awarded",
)
SPLITTING = FlagKind(
    key="possible-splitting",
    name="Possible splitting: work in one category that together passes the threshold",
    why="This contract, together with the earlier contracts in the same category awarded "
    "within the policy's window, adds up to the local threshold or more, although each of "
    "them was under it. Work must not be divided to keep it under the threshold. The "
    "category, window, threshold and VAT basis are those of the policy version that decided "
    "the contract's route.",
    check="Check whether the contracts meet one need that should have been valued as a whole "
    "(and gone to full tender), or whether the work is genuinely separate and that reason "
    "was written down.",
    when_label="Awarded",
)
OVERRIDES = FlagKind(
    key="aggregation-override",
    name="Possible splitting: an approver recorded that aggregated work is separate",
    why="Work in the same category within the policy's window added up to the local "
    "threshold or more, and an approver recorded a written justification that the work is "
    "genuinely separate, so it could go to invited bidders. Every such justification is "
    "shown here.",
    check="Read the justification: check that the work really is separate (a different "
    "need, place or time) and that the approver was entitled to decide.",
    when_label="Route last checked",
)
NON_LOCAL = FlagKind(
    key="non-local-invitations",
    name="Invitations to suppliers that are not local",
    why="The supplier was not local to the council when it was invited; the officer had to "
    "write why.",
    check="Read the justification and check that no local supplier could have done the "
    "work, and that the band's minimum number of local suppliers was still invited.",
    when_label="Invited",
)
FAR_FROM_ESTIMATE = FlagKind(
    key="far-from-estimate",
    name="Awards far from the estimate",
    why=f"The award value is more than {FAR_FROM_ESTIMATE_PERCENT}% above or below the lot's "
    f"estimated value ({FAR_FROM_ESTIMATE_PERCENT}% exactly is not flagged).",
    check="Check how the estimate was made and whether the difference was explained: a "
    "price far above it may mean too little competition; far below, an abnormally low bid "
    "or a changed scope. A higher price can also take the whole work to the threshold.",
    when_label="Awarded",
)
EXTENSIONS = FlagKind(
    key="deadline-extensions",
    name="Deadlines extended more than once",
    why=f"The deadline for bids was extended {EXTENSIONS_AT_LEAST} or more times.",
    check="Check the reasons for each extension and that every invited supplier was told; "
    "repeated extensions can favour a supplier that was not ready.",
    when_label="Last extended",
)

# In the order the page lists them.
KINDS = [SINGLE_BID, REPEAT_AWARDS, SPLITTING, OVERRIDES, NON_LOCAL, FAR_FROM_ESTIMATE, EXTENSIONS]
KIND_KEYS = [kind.key for kind in KINDS]
