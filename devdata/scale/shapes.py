"""What the scale data looks like: how much of it to make (``Sizes``) and what
it is drawn from (trades, towns, names, places, kinds of bid file).

Everything here is plain data; the modules beside it draw from it with the
batch's random generator.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

# Every supplier made here has its user at this domain: how seed_scale knows
# that scale data is already in a database.
SUPPLIER_DOMAIN = "scale-supplier.example"
MEDIA_FOLDER = "scale"
# The supplier whose pages the benchmark and the tests read (a demo login).
PERSONA_SUPPLIER = "Aire Valley Cleaning Ltd"
UNUSABLE_PASSWORD = "!scale-data-no-password"  # noqa: S105  (marks a password as unusable)
# What every bidder declares.
DECLARED = {"no_exclusion_grounds": True, "no_conflict": True, "accurate": True}
# The approver's reason that the big opportunity is separate from the other work
# of its trade (so the rule lets it go to invited bidders).
BIG_OVERRIDE = (
    "One contract for the whole district, let apart from the smaller cleaning contracts "
    "(scale data)."
)


@dataclass(frozen=True)
class Sizes:
    """How much to make in one ``build``. The defaults are DESIGN.md's scale."""

    suppliers: int = 5_000
    opportunities: int = 20_000
    invitations: int = 200_000
    bids: int = 100_000
    files: int = 300_000
    # One open opportunity with this many invitees (included in ``invitations``).
    big_invitees: int = 5_000
    officers: int = 50
    years: int = 10

    def scaled(self, factor: float) -> Sizes:
        """Every size times ``factor`` (at least 1; officers and years kept)."""
        keep = {"officers", "years"}
        return replace(
            self,
            **{
                f.name: max(1, round(getattr(self, f.name) * factor))
                for f in fields(self)
                if f.name not in keep
            },
        )


# (CPV code, what the work is, contract kind); cleaning comes first and most
# often, so the persona supplier (a cleaner) has plenty to do.
TRADES: list[tuple[str, str, str]] = [
    ("90910000-9", "Cleaning", "services"),
    ("90919200-4", "Office cleaning", "services"),
    ("90911200-8", "Building cleaning", "services"),
    ("85310000-5", "Social work", "services"),
    ("85312000-9", "Day care and support", "services"),
    ("85312300-2", "Guidance and counselling", "services"),
    ("85323000-9", "Community health", "services"),
    ("77310000-6", "Grounds maintenance", "services"),
    ("77311000-3", "Parks and gardens maintenance", "services"),
    ("79810000-5", "Printing", "services"),
    ("79341000-6", "Advertising", "services"),
    ("55520000-1", "Catering", "services"),
    ("55321000-6", "Meal preparation", "services"),
    ("45000000-7", "Construction work", "works"),
    ("45400000-1", "Building completion work", "works"),
    ("45453000-7", "Refurbishment", "works"),
    ("45442100-8", "Painting and decorating", "works"),
    ("45421000-4", "Joinery", "works"),
    ("45330000-9", "Plumbing", "works"),
    ("45310000-3", "Electrical installation", "works"),
    ("45261000-4", "Roofing", "works"),
    ("45233000-9", "Highways surfacing", "works"),
    ("50700000-2", "Building services maintenance", "services"),
    ("50800000-3", "Repairs and maintenance", "services"),
    ("72000000-5", "IT support", "services"),
    ("72200000-7", "Software development", "services"),
    ("48000000-8", "Software licences", "goods"),
    ("79993000-1", "Facilities management", "services"),
    ("60100000-9", "Passenger transport", "services"),
    ("79710000-4", "Security guarding", "services"),
    ("30190000-7", "Office supplies", "goods"),
    ("39100000-3", "Furniture", "goods"),
    ("79540000-1", "Interpreting", "services"),
    ("79530000-8", "Translation", "services"),
    ("80500000-9", "Training", "services"),
    ("71000000-8", "Architectural and surveying", "services"),
    ("79400000-8", "Consultancy", "services"),
    ("90500000-2", "Waste collection", "services"),
    ("79952000-2", "Events", "services"),
    ("92000000-1", "Cultural and sporting activities", "services"),
]
TRADE_WEIGHTS = [6, 3, 3] + [1] * (len(TRADES) - 3)
CLEANING = {"90910000-9", "90919200-4", "90911200-8"}

TOWNS_LOCAL = [
    ("Bradford", ["BD1", "BD2", "BD3", "BD4", "BD5", "BD6", "BD7", "BD8", "BD9", "BD10"]),
    ("Shipley", ["BD17", "BD18"]),
    ("Keighley", ["BD20", "BD21", "BD22"]),
    ("Bingley", ["BD16"]),
    ("Queensbury", ["BD13"]),
    ("Thornton", ["BD13"]),
    ("Cleckheaton", ["BD19"]),
    ("Skipton", ["BD23", "BD24"]),
    ("Idle", ["BD10"]),
    ("Wyke", ["BD12"]),
    ("Low Moor", ["BD11", "BD12"]),
    ("Bradford", ["BD14", "BD15"]),
]
TOWNS_AWAY = [
    ("Leeds", ["LS1", "LS2", "LS6", "LS9", "LS11", "LS12"]),
    ("Ilkley", ["LS29"]),
    ("Halifax", ["HX1", "HX2", "HX3"]),
    ("Huddersfield", ["HD1", "HD2", "HD5"]),
    ("Wakefield", ["WF1", "WF2"]),
    ("Manchester", ["M1", "M4", "M15"]),
    ("Sheffield", ["S1", "S3"]),
    ("York", ["YO1", "YO10"]),
    ("Birmingham", ["B1", "B3"]),
    ("London", ["EC1A", "E14", "SE1"]),
]
NAME_WORDS = [
    "Aire", "Pennine", "Calder", "Wharfe", "Moorside", "Brontë", "Worth", "Northgate",
    "Millstone", "Saltaire", "Heaton", "Lister", "Undercliffe", "Greengates", "Apperley",
    "Tong", "Holme", "Denholme", "Harden", "Cottingley", "Eldwick", "Esholt", "Wrose",
    "Frizinghall", "Manningham", "Girlington", "Buttershaw", "Odsal", "Bierley", "Laisterdyke",
    "Riverside", "Valley", "Summit", "Beacon", "Keystone", "Crescent", "Oakwood", "Ashfield",
]  # fmt: skip
SUFFIXES = ["Ltd", "Ltd", "Ltd", "Services Ltd", "Group Ltd", "& Co Ltd", "CIC", "LLP"]
FIRST = ["Sam", "Alex", "Jo", "Priya", "Amir", "Grace", "Tom", "Chris", "Nadia", "Owen", "Ruth"]
LAST = ["Shah", "Hughes", "Okafor", "Pickles", "Hussain", "Dale", "Akhtar", "Walsh", "Booth"]
STREETS = ["High Street", "Manor Row", "Market Street", "Station Road", "Mill Lane", "Bridge St"]
PLACES = [
    "City Hall", "Keighley Town Hall", "Shipley library", "council depots", "leisure centres",
    "care homes", "children's centres", "the district's parks", "Margaret McMillan Tower",
    "community hubs", "highways depots", "schools in the west of the district",
]  # fmt: skip
FILE_KINDS = [
    # (original name, extension, content type)
    ("Method statement.pdf", "pdf", "application/pdf"),
    ("Pricing schedule.csv", "csv", "text/csv"),
    ("Insurance certificate.pdf", "pdf", "application/pdf"),
    ("Social value commitments.txt", "txt", "text/plain"),
]
SUBMITTED, WITHDRAWN, DRAFT = "submitted", "withdrawn", "draft"
