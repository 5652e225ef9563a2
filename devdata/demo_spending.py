"""Demo spending for ``seed_demo --opportunities`` (issue 18): the demo
council's published spending, as a council writes it under the Local
Government Transparency Code 2015 (every payment over £500), and the import
of two such files through the real import.

``spending_rows(buyer, start, months, seed)`` makes the rows of ``months``
months from ``start``: each month is drawn from its own random generator
(seeded by ``seed`` and the month), so a month is the same whichever file it
is in: the second demo file repeats the first file's last month row for row,
as councils' overlapping files do. The payees are a realistic mix: the demo's
suppliers under their legal names written in varied ways (some with their
Companies House number, one with its leading zero lost to a spreadsheet, a
few misspelt), large national firms, local firms that are not registered
suppliers, charities, and individuals whose names are redacted ("Redacted
Personal Data", "REDACTED"). Amounts are over £500 but credit notes
(negative, some in brackets); some carry a £ sign and thousands separators;
dates are dd/mm/yyyy. The procurement categories map onto the demo's CPV
groups (``CATEGORY_CPV``) so that the leakage page shows true leaks: money
for cleaning, grounds maintenance and home care going to firms outside the
district while approved local suppliers do that work.

``write_csv(rows, path, encoding)`` streams rows to a file (UTF-8 with a BOM
for the first demo file, Windows-1252 for the second), and ``seed(buyer,
by)`` imports the two demo files through ``ledger.services.imports``, the job
running in the foreground.
"""

from __future__ import annotations

import csv
import datetime
import functools
import itertools
import math
import random
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from devdata import demo
from ledger.models import ImportStatus, SpendImport
from ledger.spendfile import Field
from portal.celery import app
from portal.models import BuyerOrganisation, User

# One row of a spending file: header -> the text as the file writes it.
Row = dict[str, str]

HEADERS = [
    "Body Name",
    "Service Area",
    "Expenditure Category",
    "CIPFA Expenditure Type",
    "Transaction Date",
    "Transaction Number",
    "Supplier Name",
    "Company Registration Number",
    "Net Amount",
    "Irrecoverable VAT",
    "Purpose",
    "Supplier Postcode",
]
# The demo file's mapping, as the officer confirms it (Field value -> header).
COLUMNS: dict[str, str] = {
    Field.DEPARTMENT.value: "Service Area",
    Field.CATEGORY.value: "Expenditure Category",
    Field.CIPFA_CODE.value: "CIPFA Expenditure Type",
    Field.TRANSACTION_DATE.value: "Transaction Date",
    Field.TRANSACTION_NUMBER.value: "Transaction Number",
    Field.PAYEE.value: "Supplier Name",
    Field.COMPANIES_HOUSE_NUMBER.value: "Company Registration Number",
    Field.AMOUNT.value: "Net Amount",
    Field.IRRECOVERABLE_VAT.value: "Irrecoverable VAT",
    Field.PURPOSE.value: "Purpose",
    Field.POSTCODE.value: "Supplier Postcode",
}

SEED = 18
ROWS_PER_MONTH = 1050  # about 12,600 rows a year: the demo seed stays quick
TAIL_PAYEES = 320  # smaller firms and charities beside the named payees


@dataclass(frozen=True)
class DemoFile:
    name: str
    start: datetime.date
    months: int
    encoding: str


# Two financial years (those of the demo's awarded contracts); the second file
# starts with the first file's last month again (March 2026), as councils'
# overlapping files do. Months not yet over are left out (``seed``).
FILES = (
    DemoFile("demo-council-spending-2025-26.csv", datetime.date(2025, 4, 1), 12, "utf-8-sig"),
    DemoFile("demo-council-spending-2026-27.csv", datetime.date(2026, 3, 1), 13, "cp1252"),
)
MAPPING_NAME = "Our spending file"


@dataclass(frozen=True)
class Payee:
    """A payee as the council's files write it."""

    names: tuple[str, ...]  # the ways the finance system writes the name
    number: str = ""  # Companies House number, as the file writes it
    postcode: str = ""  # blank: the file does not say (locality unknown)


# --- the payees --------------------------------------------------------------


def _variants(legal: str) -> tuple[str, ...]:
    """A supplier's legal name as different people key it in: the same
    payee once normalised ("Ltd"/"LIMITED", "&"/"and", case, full stops)."""
    names = [legal]
    for suffix, long in ((" Ltd", " LIMITED"), (" plc", " PLC"), (" CIC", " C.I.C.")):
        if legal.endswith(suffix):
            stem = legal[: -len(suffix)]
            names += [f"{stem.upper()}{long}", f"{stem}{long.title()}", f"{legal}."]
            break
    else:
        names.append(legal.upper())
    if "&" in legal:
        names.append(legal.replace("&", "and"))
    return tuple(dict.fromkeys(names))


# Demo suppliers whose Companies House number the finance system holds (the
# rest are matched by name, by an officer). Keighley Print's lost its leading
# zero in a spreadsheet, as numbers do.
_NUMBERED = {
    "Aire Valley Cleaning Ltd",
    "Bradford Community Care CIC",
    "Keighley Print & Design Ltd",
    "Wibsey Building Services Ltd",
    "Eccleshill Facilities Ltd",
    "Allerton Electrical Contractors Ltd",
    "Leeds Office Supplies Ltd",
    "Pennine Security Services Ltd",
    "National Facilities Group plc",
    "Halifax Highways Ltd",
    "Midlands Digital Solutions Ltd",
    "Calder Valley Cleaning Ltd",
    "Manningham Cleaning Co-operative Ltd",
    "Idle Cleaning Services Ltd",
    "Bradford Parks and Gardens Ltd",
    "Bowling Home Care Ltd",
    "Wyke Grounds and Trees Ltd",
}
_LOST_ZERO = {"Keighley Print & Design Ltd"}
# Payees whose rows carry no postcode (the finance system has none).
_NO_POSTCODE = {"Ilkley Catering Co-operative Ltd", "Bingley IT Support Ltd"}


def _demo_payees() -> dict[str, Payee]:
    payees: dict[str, Payee] = {}
    for legal, number, _charity, _sme, _vcse, _status, site, _contact in (
        demo.SUPPLIERS + demo.EXTRA_SUPPLIERS
    ):
        written = ""
        if legal in _NUMBERED and number:
            written = number.lstrip("0") if legal in _LOST_ZERO else number
        payees[legal] = Payee(_variants(legal), written, "" if legal in _NO_POSTCODE else site[2])
    return payees


def _p(name: str, number: str = "", postcode: str = "") -> Payee:
    return Payee(_variants(name), number, postcode)


# Not registered on the portal: national firms, local firms and charities,
# public bodies; and a few demo suppliers misspelt (an officer confirms them).
_OTHER_PAYEES = {
    # national and regional firms, outside the district
    "Northern Facilities Management Group PLC": _p(
        "Northern Facilities Management Group PLC", "03456781", "LS11 5DF"
    ),
    "Carewell Homecare Group Ltd": _p("Carewell Homecare Group Ltd", "05678123", "NG1 5FW"),
    "Allied Home Support Services Ltd": _p("Allied Home Support Services Ltd"),
    "Larchwood Healthcare Group PLC": _p("Larchwood Healthcare Group PLC", "04567812", "B15 1TR"),
    "Greenways Grounds Maintenance (UK) Ltd": _p(
        "Greenways Grounds Maintenance (UK) Ltd", "", "WF2 7AU"
    ),
    "Verdant Estates Services PLC": _p("Verdant Estates Services PLC", "02345178", "RG1 3BD"),
    "Hallam Building Contractors Ltd": _p("Hallam Building Contractors Ltd", "", "S9 3XU"),
    "Pennine Construction Group Ltd": _p("Pennine Construction Group Ltd", "06781234", "HX5 9DA"),
    "Apex Roofing (Yorkshire) Ltd": _p("Apex Roofing (Yorkshire) Ltd", "", "LS12 6HA"),
    "National Electrical Services Group Ltd": _p(
        "National Electrical Services Group Ltd", "03781245", "M17 1SN"
    ),
    "Northern Highways Contracting Ltd": _p(
        "Northern Highways Contracting Ltd", "04812356", "DN4 5NP"
    ),
    "Yorkstone Surfacing Ltd": _p("Yorkstone Surfacing Ltd", "", "HG1 1DP"),
    "Northern Waste Solutions Ltd": _p("Northern Waste Solutions Ltd", "02893467", "WF10 4TA"),
    "Greenfield Recycling Group PLC": _p("Greenfield Recycling Group PLC"),
    "Officeworld Supplies UK Ltd": _p("Officeworld Supplies UK Ltd", "05934578", "MK9 2FR"),
    "Meridian Public Sector Software Ltd": _p(
        "Meridian Public Sector Software Ltd", "07045689", "RG2 6GP"
    ),
    "Yorkshire Coaches and Travel Ltd": _p("Yorkshire Coaches and Travel Ltd", "", "YO26 6QU"),
    "Northern Catering Partnership Ltd": _p("Northern Catering Partnership Ltd", "", "M50 3XZ"),
    "Sentinel Security Group Ltd": _p("Sentinel Security Group Ltd", "08156790", "L3 9AG"),
    "LinguaServe UK Ltd": _p("LinguaServe UK Ltd", "", "EC2A 4NE"),
    "Northern Recruitment Partnership Ltd": _p(
        "Northern Recruitment Partnership Ltd", "09267801", "LS1 2HL"
    ),
    "Matrix Workforce Solutions Ltd": _p("Matrix Workforce Solutions Ltd"),
    "Pennine Energy Supply Ltd": _p("Pennine Energy Supply Ltd", "10378912", "HD2 1YY"),
    "Northern Gas & Power Ltd": _p("Northern Gas & Power Ltd", "", "NE1 4XF"),
    "Horizon Children's Homes Ltd": _p("Horizon Children's Homes Ltd", "", "B5 4BU"),
    "Bright Futures Fostering Agency Ltd": _p("Bright Futures Fostering Agency Ltd"),
    # local firms and charities the portal does not know (yet)
    "Thackley Joinery Ltd": _p("Thackley Joinery Ltd", "", "BD10 8JS"),
    "Sparks & Sons Electrical Ltd": _p("Sparks & Sons Electrical Ltd", "", "BD4 7EN"),
    "Bierley Plant Hire Ltd": _p("Bierley Plant Hire Ltd", "", "BD4 6AA"),
    "Bradford City Cars Ltd": _p("Bradford City Cars Ltd", "", "BD3 9AP"),
    "Moorside Nursing Home Ltd": _p("Moorside Nursing Home Ltd", "", "BD15 7LT"),
    "Meadowbank Care Homes Ltd": _p("Meadowbank Care Homes Ltd", "", "BD9 6RY"),
    "Oakbank Children's Services Ltd": _p("Oakbank Children's Services Ltd", "", "BD20 6EB"),
    "Clayton Catering Services": _p("Clayton Catering Services", "", "BD14 6AH"),
    "Greater Airedale Leisure Trust": _p("Greater Airedale Leisure Trust", "", "BD1 1NN"),
    "Airedale Age Concern": _p("Airedale Age Concern", "", "BD21 3JD"),
    "Bradford Carers' Resource": _p("Bradford Carers' Resource", "", "BD1 2QT"),
    "Keighley Women's Aid": _p("Keighley Women's Aid", "", "BD21 1AA"),
    "Manningham Community Association": _p("Manningham Community Association", "", "BD8 7BG"),
    "St Mary’s Community Centre": _p("St Mary’s Community Centre", "", "BD5 0PL"),
    "Bradford & District Advice Centre": _p("Bradford & District Advice Centre", "", "BD1 1HU"),
    "Bradford Youth Action": _p("Bradford Youth Action", "", "BD7 1AY"),
    "Pennine Wildlife Trust": _p("Pennine Wildlife Trust", "", "YO1 7PR"),
    # demo suppliers misspelt in the finance system (fuzzy candidates, no number)
    "Aire Vally Cleaning Ltd": Payee(("Aire Vally Cleaning Ltd",), "", "BD1 4PB"),
    "Shipley Grounds Maint Ltd": Payee(("Shipley Grounds Maint Ltd",), "", "BD18 3HN"),
    "Heaton Care Co-op Ltd": Payee(("Heaton Care Co-op Ltd",), "", "BD9 5AB"),
    "Wibsey Building Svcs Ltd": Payee(("Wibsey Building Svcs Ltd",), "", "BD6 1JY"),
}

PAYEES: dict[str, Payee] = {**_demo_payees(), **_OTHER_PAYEES}

# Redacted rows: individuals (direct payments, foster carers, care workers).
REDACTED_NAMES = ("Redacted Personal Data", "Redacted Personal Data", "REDACTED")


# --- the categories ----------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """A procurement category as the file writes it, and how it is spent."""

    name: str
    cpv_group: str  # the demo's CPV group it buys ("" not procurement)
    cipfa: str
    service_areas: tuple[str, ...]
    purposes: tuple[str, ...]
    median: int  # pounds, of a payment
    spread: float  # of the log of a payment
    share: float  # of the rows
    payees: tuple[tuple[str, float], ...]  # payee, weight
    trades: tuple[str, ...] = ()  # what smaller firms in this trade call themselves
    redacted: float = 0.0  # share of its rows paid to individuals (redacted)
    rounded: bool = False  # grants: whole pounds


CATEGORIES: tuple[Category, ...] = (
    Category(
        "Home Care",
        "853",
        "Third Party Payments",
        ("Adult Social Care",),
        (
            "Domiciliary care package",
            "Home care visits – 4 weekly invoice",
            "Reablement service",
            "Extra care support hours",
        ),
        2200,
        0.8,
        0.13,
        (
            ("Bradford Community Care CIC", 24),
            ("Bowling Home Care Ltd", 14),
            ("Heaton Care Co-operative Ltd", 10),
            ("Heaton Care Co-op Ltd", 3),
            ("Yorkshire Social Care Partnership", 16),
            ("Carewell Homecare Group Ltd", 26),
            ("Allied Home Support Services Ltd", 14),
        ),
        ("Home Care", "Care Services", "Homecare"),
        redacted=0.06,
    ),
    Category(
        "Residential and Nursing Care",
        "853",
        "Third Party Payments",
        ("Adult Social Care",),
        ("Residential care placement", "Nursing care placement", "Respite care – short stay"),
        9500,
        0.7,
        0.08,
        (
            ("Larchwood Healthcare Group PLC", 30),
            ("Yorkshire Social Care Partnership", 15),
            ("Moorside Nursing Home Ltd", 20),
            ("Meadowbank Care Homes Ltd", 20),
        ),
        ("Care Home", "Nursing Home"),
        redacted=0.03,
    ),
    Category(
        "Direct Payments",
        "",
        "Transfer Payments",
        ("Adult Social Care",),
        ("Direct payment", "Direct payment – personal budget"),
        1400,
        0.6,
        0.06,
        (),
        redacted=1.0,
    ),
    Category(
        "Foster Care Allowances",
        "",
        "Transfer Payments",
        ("Children's Services",),
        ("Fostering allowance", "Special guardianship allowance"),
        900,
        0.5,
        0.04,
        (),
        redacted=1.0,
    ),
    Category(
        "Children's Placements",
        "853",
        "Third Party Payments",
        ("Children's Services",),
        ("Residential placement", "Independent fostering agency placement"),
        14000,
        0.6,
        0.03,
        (
            ("Horizon Children's Homes Ltd", 20),
            ("Bright Futures Fostering Agency Ltd", 20),
            ("Oakbank Children's Services Ltd", 16),
        ),
        redacted=0.1,
    ),
    Category(
        "Cleaning Services",
        "909",
        "Premises-Related Expenditure",
        ("Facilities Management", "Libraries", "Education and Learning"),
        (
            "Office cleaning",
            "Window cleaning",
            "Deep clean – depot",
            "Library cleaning",
            "School cleaning contract",
        ),
        2400,
        0.8,
        0.07,
        (
            ("Aire Valley Cleaning Ltd", 10),
            ("Aire Vally Cleaning Ltd", 2),
            ("Manningham Cleaning Co-operative Ltd", 5),
            ("Idle Cleaning Services Ltd", 4),
            ("Eccleshill Facilities Ltd", 4),
            ("National Facilities Group plc", 25),
            ("Northern Facilities Management Group PLC", 30),
            ("Calder Valley Cleaning Ltd", 8),
        ),
        ("Cleaning Services", "Cleaning", "Window Cleaning"),
    ),
    Category(
        "Grounds Maintenance",
        "773",
        "Premises-Related Expenditure",
        ("Parks and Countryside", "Housing"),
        ("Grass cutting", "Tree surgery", "Shrub bed maintenance", "Cemetery grounds maintenance"),
        2600,
        0.8,
        0.05,
        (
            ("Shipley Grounds Maintenance Ltd", 6),
            ("Shipley Grounds Maint Ltd", 3),
            ("Baildon Landscapes Ltd", 4),
            ("Bradford Parks and Gardens Ltd", 5),
            ("Saltaire Garden Services CIC", 3),
            ("Wyke Grounds and Trees Ltd", 3),
            ("Greenways Grounds Maintenance (UK) Ltd", 30),
            ("Verdant Estates Services PLC", 22),
        ),
        ("Landscapes", "Grounds Maintenance", "Tree Surgery", "Gardening Services"),
    ),
    Category(
        "Building Repairs and Maintenance",
        "454",
        "Premises-Related Expenditure",
        ("Facilities Management", "Housing", "Education and Learning", "Libraries"),
        ("Responsive repairs", "Roof repairs", "Boiler replacement", "Planned maintenance"),
        4500,
        1.0,
        0.08,
        (
            ("Wibsey Building Services Ltd", 22),
            ("Wibsey Building Svcs Ltd", 3),
            ("Thackley Joinery Ltd", 12),
            ("Pennine Construction Group Ltd", 16),
            ("Hallam Building Contractors Ltd", 14),
            ("Apex Roofing (Yorkshire) Ltd", 8),
        ),
        ("Building Services", "Joinery", "Plumbing & Heating", "Roofing", "Builders"),
    ),
    Category(
        "Electrical Works",
        "453",
        "Premises-Related Expenditure",
        ("Facilities Management", "Housing"),
        ("Electrical testing", "Rewiring", "Emergency lighting works"),
        2200,
        0.8,
        0.025,
        (
            ("Allerton Electrical Contractors Ltd", 10),
            ("Sparks & Sons Electrical Ltd", 8),
            ("National Electrical Services Group Ltd", 20),
        ),
        ("Electrical", "Electrical Contractors"),
    ),
    Category(
        "Highways Maintenance",
        "452",
        "Supplies and Services",
        ("Highways",),
        ("Carriageway resurfacing", "Pothole repairs", "Footway works", "Gully cleansing"),
        9000,
        1.1,
        0.05,
        (
            ("Halifax Highways Ltd", 20),
            ("Northern Highways Contracting Ltd", 25),
            ("Yorkstone Surfacing Ltd", 12),
            ("Bierley Plant Hire Ltd", 18),
        ),
        ("Surfacing", "Plant Hire", "Civil Engineering"),
    ),
    Category(
        "Waste Collection and Disposal",
        "905",
        "Supplies and Services",
        ("Waste Services",),
        ("Disposal of residual waste", "Recycling gate fees", "Bulky waste collection"),
        12000,
        1.0,
        0.03,
        (("Northern Waste Solutions Ltd", 40), ("Greenfield Recycling Group PLC", 30)),
    ),
    Category(
        "Printing and Stationery",
        "798",
        "Supplies and Services",
        ("Corporate Resources", "Libraries", "Education and Learning", "Public Health"),
        ("Printing of leaflets", "Stationery", "Council tax bills – print and post"),
        900,
        0.7,
        0.04,
        (
            ("Keighley Print & Design Ltd", 10),
            ("Huddersfield Print Works Ltd", 8),
            ("Leeds Office Supplies Ltd", 10),
            ("Officeworld Supplies UK Ltd", 18),
        ),
        ("Print", "Printers", "Office Supplies"),
    ),
    Category(
        "IT Services and Software",
        "722",
        "Supplies and Services",
        ("Corporate Resources",),
        ("Software licences", "IT support", "Network equipment", "Software maintenance"),
        6000,
        1.1,
        0.035,
        (
            ("Bingley IT Support Ltd", 8),
            ("Midlands Digital Solutions Ltd", 14),
            ("Meridian Public Sector Software Ltd", 24),
        ),
        ("IT Solutions", "Computer Services", "Digital"),
    ),
    Category(
        "Passenger Transport",
        "601",
        "Transport-Related Expenditure",
        ("Children's Services", "Adult Social Care"),
        ("Home to school transport", "Day centre transport", "Taxi journeys"),
        2000,
        0.7,
        0.05,
        (
            ("Queensbury Transport Ltd", 14),
            ("Bradford City Cars Ltd", 10),
            ("Yorkshire Coaches and Travel Ltd", 14),
        ),
        ("Taxis", "Private Hire", "Minibus Hire", "Coaches"),
    ),
    Category(
        "Catering and Food",
        "555",
        "Supplies and Services",
        ("Education and Learning", "Adult Social Care", "Culture and Leisure"),
        ("School meals provisions", "Catering for event", "Day centre meals"),
        1500,
        0.7,
        0.035,
        (
            ("Ilkley Catering Co-operative Ltd", 10),
            ("Little Horton Food Bank", 4),
            ("Clayton Catering Services", 6),
            ("Northern Catering Partnership Ltd", 20),
        ),
        ("Catering", "Foods", "Bakery"),
    ),
    Category(
        "Security Services",
        "797",
        "Supplies and Services",
        ("Facilities Management", "Waste Services"),
        ("Security guarding", "Key holding and alarm response"),
        3000,
        0.7,
        0.015,
        (("Pennine Security Services Ltd", 12), ("Sentinel Security Group Ltd", 14)),
        ("Security", "Locksmiths"),
    ),
    Category(
        "Facilities Management",
        "799",
        "Premises-Related Expenditure",
        ("Facilities Management",),
        ("Facilities management – monthly charge", "Building management services"),
        9000,
        0.8,
        0.02,
        (
            ("National Facilities Group plc", 20),
            ("Eccleshill Facilities Ltd", 8),
            ("Northern Facilities Management Group PLC", 16),
        ),
    ),
    Category(
        "Interpreting and Translation",
        "795",
        "Supplies and Services",
        ("Adult Social Care", "Children's Services", "Housing"),
        ("Interpreting – face to face", "Translation of documents"),
        800,
        0.5,
        0.025,
        (("Bradford Interpreting Services Ltd", 14), ("LinguaServe UK Ltd", 16)),
        ("Translation Services", "Interpreting"),
    ),
    Category(
        "Youth Services",
        "853",
        "Third Party Payments",
        ("Children's Services",),
        ("Youth work sessions", "Holiday activities programme"),
        2500,
        0.6,
        0.02,
        (("Thornton Youth Trust", 12), ("Bradford Youth Action", 10)),
        ("Youth Project", "Community Trust"),
    ),
    Category(
        "Grants to Voluntary Organisations",
        "",
        "Third Party Payments",
        ("Public Health", "Housing", "Corporate Resources"),
        ("Grant – quarterly instalment", "Community grant", "Advice services grant"),
        5000,
        1.0,
        0.04,
        (
            ("Airedale Age Concern", 8),
            ("Bradford Carers' Resource", 8),
            ("Keighley Women's Aid", 6),
            ("Manningham Community Association", 6),
            ("St Mary’s Community Centre", 5),
            ("Bradford & District Advice Centre", 8),
            ("Pennine Wildlife Trust", 4),
        ),
        ("Community Association", "Community Trust"),
        rounded=True,
    ),
    Category(
        "Agency Staff",
        "796",
        "Employees",
        ("Adult Social Care", "Children's Services", "Waste Services", "Corporate Resources"),
        ("Agency social worker", "Agency HGV driver", "Interim manager"),
        3500,
        0.7,
        0.05,
        (("Northern Recruitment Partnership Ltd", 20), ("Matrix Workforce Solutions Ltd", 20)),
        ("Recruitment", "Staffing Solutions"),
    ),
    Category(
        "Energy and Utilities",
        "093",
        "Premises-Related Expenditure",
        ("Facilities Management", "Highways"),
        ("Electricity", "Gas", "Street lighting energy"),
        6000,
        1.0,
        0.025,
        (("Pennine Energy Supply Ltd", 20), ("Northern Gas & Power Ltd", 20)),
    ),
)
CATEGORY_CPV = {c.name: c.cpv_group for c in CATEGORIES} | {"Leisure Management": "926"}

# Contracts paid the same sum every month: (payee, service area, category, purpose, pence).
MONTHLY = (
    (
        "Northern Waste Solutions Ltd",
        "Waste Services",
        "Waste Collection and Disposal",
        "Refuse collection contract – monthly payment",
        38641250,
    ),
    (
        "Greater Airedale Leisure Trust",
        "Culture and Leisure",
        "Leisure Management",
        "Leisure centres management fee",
        14275000,
    ),
)

# Where the smaller firms are: a place and its postcode district.
LOCAL_PLACES = {
    "Allerton": "BD15",
    "Bierley": "BD4",
    "Clayton": "BD14",
    "Cottingley": "BD16",
    "Denholme": "BD13",
    "Eccleshill": "BD2",
    "Frizinghall": "BD9",
    "Girlington": "BD8",
    "Great Horton": "BD7",
    "Haworth": "BD22",
    "Holme Wood": "BD4",
    "Laisterdyke": "BD3",
    "Low Moor": "BD12",
    "Odsal": "BD6",
    "Oxenhope": "BD22",
    "Riddlesden": "BD20",
    "Silsden": "BD20",
    "Skipton": "BD23",
    "Settle": "BD24",
    "Thackley": "BD10",
    "Undercliffe": "BD2",
    "Wrose": "BD18",
    "Cullingworth": "BD13",
    "Steeton": "BD20",
    "Wilsden": "BD15",
    "Buttershaw": "BD6",
    "Bolton Woods": "BD2",
    "Keighley": "BD21",
    "Bingley": "BD16",
    "Airedale": "BD20",
}
OTHER_PLACES = {
    "Leeds": "LS9",
    "Wakefield": "WF1",
    "Halifax": "HX1",
    "Huddersfield": "HD1",
    "Harrogate": "HG1",
    "York": "YO1",
    "Manchester": "M4",
    "Sheffield": "S3",
    "Burnley": "BB11",
    "Ilkley": "LS29",
    "Otley": "LS21",
    "Dewsbury": "WF13",
    "Brighouse": "HD6",
    "Pudsey": "LS28",
    "Morley": "LS27",
    "Doncaster": "DN1",
    "Nottingham": "NG1",
    "Preston": "PR1",
}
SURNAMES = [
    "Pickles",
    "Ackroyd",
    "Sutcliffe",
    "Kaur",
    "Holdsworth",
    "Mahmood",
    "Greenwood",
    "Illingworth",
    "Akhtar",
    "Lister",
    "Firth",
    "Haigh",
    "Rahman",
    "Booth",
    "Sykes",
    "Butterfield",
    "Patel",
    "Murgatroyd",
    "Crossley",
    "Riley",
    "Khan",
    "Hirst",
    "Jowett",
    "Barraclough",
    "Bentley",
    "Clegg",
    "Normanton",
    "Brear",
    "Dobson",
    "Rhodes",
    "Fawcett",
    "Hardaker",
    "Begum",
]
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXY"


def _postcode(rng: random.Random, district: str) -> str:
    return (
        f"{district} {rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
    )


@functools.cache
def _tail(seed: int, count: int) -> tuple[tuple[Payee, int], ...]:
    """``count`` smaller payees, each with the category it works in (its
    index in ``CATEGORIES``): local and distant firms and charities, some
    without a postcode in the file. The same for every month."""
    rng = random.Random(f"tail:{seed}:{count}")  # noqa: S311  (demo data, seeded)
    trades = [(i, t) for i, c in enumerate(CATEGORIES) for t in c.trades]
    weights = [CATEGORIES[i].share / len(CATEGORIES[i].trades) for i, _ in trades]
    made: dict[str, tuple[Payee, int]] = {}
    local, other = list(LOCAL_PLACES.items()), list(OTHER_PLACES.items())
    for _ in range(count * 20):
        if len(made) >= count:
            break
        category, trade = rng.choices(trades, weights)[0]
        place, district = rng.choice(local) if rng.random() < 0.6 else rng.choice(other)
        charity = trade in ("Youth Project", "Community Trust", "Community Association")
        pattern = rng.random()
        if charity or pattern < 0.4:
            stem = f"{place} {trade}"
        elif pattern < 0.7:
            stem = f"{rng.choice(SURNAMES)} {trade}"
        elif pattern < 0.85:
            stem = f"{rng.choice(SURNAMES)} & Sons {trade}"
        else:
            stem = f"{rng.choice('ABCDEFGHJKMPRST')}. {rng.choice(SURNAMES)} {trade}"
        name = stem if charity else f"{stem} {rng.choice(('Ltd', 'Ltd', 'Limited', 'Ltd.'))}"
        if name.upper() in made:
            continue
        postcode = _postcode(rng, district) if rng.random() < 0.75 else ""
        made[name.upper()] = (Payee((name, name.upper()), "", postcode), category)
    return tuple(made.values())


@dataclass(frozen=True)
class _Drawn:
    """How one category's payees are drawn: the payees and cumulative weights."""

    payees: tuple[Payee, ...]
    cumulative: tuple[float, ...]


@functools.cache
def _draws(seed: int, tail: int) -> tuple[_Drawn, ...]:
    """Each category's payees: its named payees, then its share of the tail
    (about a quarter of the category's rows go to the tail)."""
    small: list[list[Payee]] = [[] for _ in CATEGORIES]
    for payee, index in _tail(seed, tail):
        small[index].append(payee)
    out: list[_Drawn] = []
    for category, extra in zip(CATEGORIES, small, strict=True):
        payees = [PAYEES[name] for name, _ in category.payees]
        weights = [w for _, w in category.payees]
        named = sum(weights)
        for rank, payee in enumerate(extra):
            payees.append(payee)
            weights.append(named / 3 / len(extra) * (2 if rank % 3 == 0 else 0.5))
        running, cumulative = 0.0, list[float]()
        for weight in weights:
            running += weight
            cumulative.append(running)
        out.append(_Drawn(tuple(payees), tuple(cumulative)))
    return tuple(out)


# --- the rows ----------------------------------------------------------------


def _money(pence: int, rng: random.Random, *, credit: bool = False) -> str:
    """An amount as finance systems write it: mostly ``1234.50``, some
    ``£1,234.50`` or ``1,234.50``; credit notes ``-1234.50`` or ``(1,234.50)``."""
    pounds, rest = divmod(abs(pence), 100)
    style = rng.random()
    if style < 0.08:
        text = f"£{pounds:,}.{rest:02d}"
    elif style < 0.16:
        text = f"{pounds:,}.{rest:02d}"
    else:
        text = f"{pounds}.{rest:02d}"
    if pence >= 0:
        return text
    if credit and rng.random() < 0.2:
        return f"({text})"
    return f"-{text}"


def _month_days(year: int, month: int) -> list[datetime.date]:
    """The weekdays of a month: payment runs are on working days."""
    day = datetime.date(year, month, 1)
    days = []
    while day.month == month:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def _month(
    body: str, year: int, month: int, seed: int, rows_per_month: int, tail: int
) -> list[Row]:
    """One month of payments, the same whichever file carries it."""
    key = f"spend:{seed}:{year:04d}-{month:02d}:{rows_per_month}:{tail}"
    rng = random.Random(key)  # noqa: S311  (demo data, seeded by the month)
    draws = _draws(seed, tail)
    shares = list(itertools.accumulate(c.share for c in CATEGORIES))
    days = _month_days(year, month)
    count = round(rows_per_month * rng.uniform(0.92, 1.08))
    # An invoice: its date and one or more lines (split across service areas,
    # or two identical lines: both count).
    invoices: list[tuple[datetime.date, list[list[str]]]] = []
    for payee_key, area, category_name, purpose, pence in MONTHLY:
        payee = PAYEES[payee_key]
        line = [
            area,
            category_name,
            "Third Party Payments",
            payee.names[0],
            payee.number,
            _money(pence, rng),
            "0.00",
            purpose,
            payee.postcode,
        ]
        invoices.append((days[min(len(days) - 1, 14)], [line]))
    made = len(invoices)
    while made < count:
        index = rng.choices(range(len(CATEGORIES)), cum_weights=shares)[0]
        category = CATEGORIES[index]
        if rng.random() < category.redacted:
            payee = Payee((rng.choice(REDACTED_NAMES),))
        else:
            drawn = draws[index]
            payee = rng.choices(drawn.payees, cum_weights=drawn.cumulative)[0]
        name = payee.names[0] if rng.random() < 0.6 else rng.choice(payee.names)
        day = rng.choice(days)
        purpose = rng.choice(category.purposes)
        lines: list[list[str]] = []
        parts = 2 if rng.random() < 0.04 else 1
        for _ in range(parts):
            credit = rng.random() < 0.012
            if credit:
                pence = -rng.randint(5000, 500000)
                words = f"Credit note – {purpose.lower()}"
            else:
                pounds = 500 + rng.lognormvariate(math.log(category.median - 400), category.spread)
                pence = int(round(pounds, -1)) * 100 if category.rounded else round(pounds * 100)
                pence = max(pence, 50001)
                words = purpose
            vat = ""
            if rng.random() < 0.7:
                vat = "0.00"
                if not credit and rng.random() < 0.05:
                    vat = f"{abs(pence) * rng.randint(5, 20) // 10000 / 100:.2f}"
            lines.append(
                [
                    rng.choice(category.service_areas),
                    category.name,
                    category.cipfa,
                    name,
                    payee.number,
                    _money(int(pence), rng, credit=credit),
                    vat,
                    words,
                    payee.postcode,
                ]
            )
        if rng.random() < 0.002:
            lines.append(list(lines[-1]))  # two identical lines, both paid
        invoices.append((day, lines))
        made += len(lines)
    invoices.sort(key=lambda invoice: invoice[0])
    rows: list[Row] = []
    prefix = f"{year % 100:02d}{month:02d}"
    for number, (day, lines) in enumerate(invoices, start=1):
        when = day.strftime("%d/%m/%Y")
        for area, category_name, cipfa, name, ch, amount, vat, purpose, postcode in lines:
            rows.append(
                {
                    "Body Name": body,
                    "Service Area": area,
                    "Expenditure Category": category_name,
                    "CIPFA Expenditure Type": cipfa,
                    "Transaction Date": when,
                    "Transaction Number": f"{prefix}{number:06d}",
                    "Supplier Name": name,
                    "Company Registration Number": ch,
                    "Net Amount": amount,
                    "Irrecoverable VAT": vat,
                    "Purpose": purpose,
                    "Supplier Postcode": postcode,
                }
            )
    return rows


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def spending_rows(
    buyer: BuyerOrganisation,
    start: datetime.date,
    months: int,
    seed: int = SEED,
    *,
    rows_per_month: int = ROWS_PER_MONTH,
    tail: int = TAIL_PAYEES,
) -> Iterator[Row]:
    """The council's payments for ``months`` months from ``start``'s month,
    month by month in date order (a generator: a million rows stream)."""
    for offset in range(months):
        month = add_months(start.replace(day=1), offset)
        yield from _month(buyer.name, month.year, month.month, seed, rows_per_month, tail)


def write_csv(rows: Iterable[Row], path: Path | str, encoding: str = "utf-8-sig") -> int:
    """Write ``rows`` under ``HEADERS`` as a council's finance system exports
    them (CRLF line ends); returns how many rows."""
    count = 0
    with open(path, "w", encoding=encoding, newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADERS)
        for row in rows:
            writer.writerow([row[h] for h in HEADERS])
            count += 1
    return count


# --- the demo's imports -----------------------------------------------------


def months_to_import(demo_file: DemoFile, today: datetime.date) -> int:
    """The file's months that are over by ``today`` (councils publish after)."""
    last = add_months(today.replace(day=1), -1)  # the last month that is over
    over = (last.year - demo_file.start.year) * 12 + last.month - demo_file.start.month + 1
    return max(0, min(demo_file.months, over))


def _upload(path: Path, name: str) -> UploadedFile:
    handle = open(path, "rb")  # noqa: SIM115  (closed by the caller)
    return UploadedFile(handle, name=name, content_type="text/csv", size=path.stat().st_size)


def seed(buyer: BuyerOrganisation, by: User) -> list[SpendImport]:
    """Import the demo's two spending files unless they are there: the real
    upload, mapping and job (run here, in the foreground). Returns the imports
    made (none when the demo spending is already there)."""
    from ledger.services.imports import import_run, import_start, import_upload

    held = set(
        SpendImport.objects.filter(buyer=buyer, original_name__in=[f.name for f in FILES])
        .exclude(status=ImportStatus.WITHDRAWN)
        .values_list("original_name", flat=True)
    )
    today = timezone.localdate()
    made = []
    eager = app.conf.task_always_eager
    # The job queued on commit runs here too, not in a worker that may not be running.
    app.conf.task_always_eager = True
    try:
        with tempfile.TemporaryDirectory(prefix="demo-spending-") as folder:
            for demo_file in FILES:
                months = months_to_import(demo_file, today)
                if demo_file.name in held or months == 0:
                    continue
                path = Path(folder) / demo_file.name
                write_csv(spending_rows(buyer, demo_file.start, months), path, demo_file.encoding)
                upload = _upload(path, demo_file.name)
                try:
                    spend_import = import_upload(buyer=buyer, upload=upload, by=by)
                finally:
                    upload.close()
                spend_import = import_start(
                    spend_import=spend_import, columns=COLUMNS, by=by, mapping_name=MAPPING_NAME
                )
                made.append(import_run(spend_import.pk))
    finally:
        app.conf.task_always_eager = eager
    _confirm_leaking_categories(buyer, by)
    return made


# The categories whose money leaks while local suppliers exist (the leakage
# page's examples): confirmed as an officer would; the rest wait, suggested.
DEMO_CONFIRMED_GROUPS = ("909", "773", "853")


def _confirm_leaking_categories(buyer: BuyerOrganisation, by: User) -> None:
    from ledger.models import CategoryMapping
    from ledger.services.figures import category_map

    done = set(
        CategoryMapping.objects.filter(buyer=buyer, confirmed_at__isnull=False).values_list(
            "category", flat=True
        )
    )
    for category, group in CATEGORY_CPV.items():
        if group in DEMO_CONFIRMED_GROUPS and category not in done:
            category_map(buyer=buyer, category=category, cpv_group=group, by=by)


def describe(buyer: BuyerOrganisation) -> list[str]:
    """One line per demo spending import, for ``seed_demo``'s summary."""
    imports = SpendImport.objects.filter(
        buyer=buyer, original_name__in=[f.name for f in FILES]
    ).order_by("uploaded_at", "pk")
    return [describe_import(i) for i in imports]


def describe_import(spend_import: SpendImport) -> str:
    return (
        f"{spend_import.original_name}: {spend_import.get_status_display().lower()}, "
        f"{spend_import.rows_read:,} rows read, {spend_import.rows_imported:,} new payments, "
        f"{spend_import.rows_duplicate:,} already held, {spend_import.rows_refused:,} refused"
    )
