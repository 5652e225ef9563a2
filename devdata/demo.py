"""Demo data for the embedded default: one council, its people and suppliers.

Tests and checks rely on these figures (see RULES.md, "Demo policy").
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from tenders.services import BandSpec

PASSWORD = "demo-password-2026"  # noqa: S105  (printed for the embedded default only)

BUYER = {
    "name": "Demo Council",
    "slug": "demo-council",
    "identifier": "DEMO",
    # Whom every message names to ask, after the officer who wrote an opportunity.
    "contact_email": "procurement@demo-council.example",
}
LOCALITY = "BD1-BD24"
DEPARTMENTS = ["Adults and Health", "Children's Services", "Place", "Corporate Resources"]

POLICY_EFFECTIVE_FROM = datetime.date(2025, 4, 1)
LOCAL_THRESHOLD = Decimal("180000.00")
BANDS = [
    BandSpec("Single quote", Decimal("0.00"), 1, 1),
    BandSpec("Three quotes", Decimal("10000.00"), 3, 2),
    BandSpec("Invited tender", Decimal("50000.00"), 4, 3, requires_tender_pack=True),
]

# This officer is in the Approvers group (may justify aggregated work as separate).
APPROVER = "officer2@demo-council.example"

# email, full name, role, department (None for none)
STAFF = [
    ("officer@demo-council.example", "Priya Shah", "officer", "Adults and Health"),
    ("officer2@demo-council.example", "Tom Hughes", "officer", "Place"),
    ("auditor@demo-council.example", "Grace Okafor", "auditor", None),
    ("admin@demo-council.example", "Sam Whitaker", "admin", None),
]

# Each demo officer, auditor and administrator has an authenticator app set up
# with this time-based (TOTP) secret, printed by seed_demo so that people
# trying the demo can add it to their own app. Demo data only: seed_demo
# refuses to run in production, and real staff set up their own app.
TOTP_SECRETS = {
    "officer@demo-council.example": "FU25S7RB4J5MTC6J52FPYYCUTZ3BHG27",
    "officer2@demo-council.example": "QXUVTKMG4NJOQ4QD54IJ6UJXDXYV7334",
    "auditor@demo-council.example": "ECV4BZIAEJKA5TLUFUDIT7QWZEXEATHL",
    "admin@demo-council.example": "MQQCRXIV6JNSGMYPOYDCQQ67TPJSQ6GS",
}

# The CPV codes each demo supplier works in.
CATEGORIES: dict[str, list[str]] = {
    "Aire Valley Cleaning Ltd": ["90910000-9", "90911200-8"],
    "Bradford Community Care CIC": ["85310000-5", "85312000-9"],
    "Shipley Grounds Maintenance Ltd": ["77310000-6"],
    "Keighley Print & Design Ltd": ["79810000-5"],
    "Ilkley Catering Co-operative Ltd": ["55520000-1", "55321000-6"],
    "Wibsey Building Services Ltd": ["45000000-7", "45400000-1"],
    "Thornton Youth Trust": ["85312300-2"],
    "Bingley IT Support Ltd": ["72000000-5"],
    "Eccleshill Facilities Ltd": ["79993000-1", "90911200-8"],
    "Queensbury Transport Ltd": ["60100000-9"],
    "Little Horton Food Bank": ["85300000-2", "55321000-6"],
    "Allerton Electrical Contractors Ltd": ["45310000-3", "50700000-2"],
    "Baildon Landscapes Ltd": ["77310000-6"],
    "Leeds Office Supplies Ltd": ["30190000-7"],
    "Pennine Security Services Ltd": ["79710000-4"],
    "National Facilities Group plc": ["79993000-1", "90910000-9", "79710000-4"],
    "Halifax Highways Ltd": ["45233000-9"],
    "Yorkshire Social Care Partnership": ["85311000-2", "85312000-9"],
    "Midlands Digital Solutions Ltd": ["72200000-7"],
    "Calder Valley Cleaning Ltd": ["90910000-9"],
    "Huddersfield Print Works Ltd": ["79810000-5"],
    "Bradford Interpreting Services Ltd": ["79540000-1", "79530000-8"],
    # Added by ``seed_demo --opportunities`` (EXTRA_SUPPLIERS below).
    "Manningham Cleaning Co-operative Ltd": ["90910000-9", "90911200-8"],
    "Idle Cleaning Services Ltd": ["90910000-9"],
    "Bradford Parks and Gardens Ltd": ["77310000-6"],
    "Saltaire Garden Services CIC": ["77310000-6"],
    "Wyke Grounds and Trees Ltd": ["77310000-6"],
    "Bowling Home Care Ltd": ["85310000-5"],
    "Heaton Care Co-operative Ltd": ["85310000-5", "85312000-9"],
}

# legal name, companies house no., charity no., SME, VCSE, status,
# (address, town, postcode), contact user (email, name) or None
SUPPLIERS = [
    (
        "Aire Valley Cleaning Ltd",
        "09123456",
        "",
        True,
        False,
        "approved",
        ("12 Manor Row", "Bradford", "BD1 4PB"),
        ("supplier@aire-valley.example", "Jo Pickles"),
    ),
    (
        "Bradford Community Care CIC",
        "10234567",
        "",
        True,
        True,
        "approved",
        ("3 Little Germany", "Bradford", "BD1 5AE"),
        ("care@bcc-cic.example", "Amir Hussain"),
    ),
    (
        "Shipley Grounds Maintenance Ltd",
        "08345678",
        "",
        True,
        False,
        "approved",
        ("Unit 4, Saltaire Road", "Shipley", "BD18 3HN"),
        None,
    ),
    (
        "Keighley Print & Design Ltd",
        "07456789",
        "",
        True,
        False,
        "approved",
        ("22 Cavendish Street", "Keighley", "BD21 3RG"),
        None,
    ),
    (
        "Ilkley Catering Co-operative Ltd",
        "",
        "",
        True,
        True,
        "approved",
        ("5 Brook Street", "Ilkley", "LS29 8DE"),
        None,
    ),
    (
        "Wibsey Building Services Ltd",
        "06567890",
        "",
        True,
        False,
        "approved",
        ("140 High Street", "Bradford", "BD6 1JY"),
        None,
    ),
    (
        "Thornton Youth Trust",
        "",
        "1123456",
        True,
        True,
        "approved",
        ("Market Street", "Thornton", "BD13 3HF"),
        None,
    ),
    (
        "Bingley IT Support Ltd",
        "11678901",
        "",
        True,
        False,
        "approved",
        ("7 Main Street", "Bingley", "BD16 2HZ"),
        None,
    ),
    (
        "Eccleshill Facilities Ltd",
        "05789012",
        "",
        True,
        False,
        "approved",
        ("18 Harrogate Road", "Bradford", "BD10 0QL"),
        None,
    ),
    (
        "Queensbury Transport Ltd",
        "12890123",
        "",
        True,
        False,
        "approved",
        ("1 High Street", "Queensbury", "BD13 2PA"),
        None,
    ),
    (
        "Little Horton Food Bank",
        "",
        "1134567",
        True,
        True,
        "approved",
        ("Park Lane", "Bradford", "BD5 0LN"),
        None,
    ),
    (
        "Allerton Electrical Contractors Ltd",
        "04901234",
        "",
        True,
        False,
        "pending",
        ("44 Allerton Road", "Bradford", "BD8 0AA"),
        None,
    ),
    (
        "Baildon Landscapes Ltd",
        "13012345",
        "",
        True,
        False,
        "pending",
        ("9 Northgate", "Baildon", "BD17 6JX"),
        None,
    ),
    (
        "Leeds Office Supplies Ltd",
        "03123457",
        "",
        True,
        False,
        "approved",
        ("100 Wellington Street", "Leeds", "LS1 4LT"),
        ("sales@leeds-office.example", "Chris Dale"),
    ),
    (
        "Pennine Security Services Ltd",
        "02234568",
        "",
        False,
        False,
        "approved",
        ("2 Aytoun Street", "Manchester", "M1 3GL"),
        None,
    ),
    (
        "National Facilities Group plc",
        "01345679",
        "",
        False,
        False,
        "approved",
        ("1 Canada Square", "London", "E14 5AB"),
        None,
    ),
    (
        "Halifax Highways Ltd",
        "09456780",
        "",
        True,
        False,
        "approved",
        ("Commercial Street", "Halifax", "HX1 1BA"),
        None,
    ),
    (
        "Yorkshire Social Care Partnership",
        "",
        "1145678",
        True,
        True,
        "approved",
        ("Kirkgate", "Wakefield", "WF1 1HX"),
        None,
    ),
    (
        "Midlands Digital Solutions Ltd",
        "08567891",
        "",
        True,
        False,
        "approved",
        ("Colmore Row", "Birmingham", "B3 2QD"),
        None,
    ),
    (
        "Calder Valley Cleaning Ltd",
        "10678902",
        "",
        True,
        False,
        "suspended",
        ("Burnley Road", "Hebden Bridge", "HX7 8AD"),
        None,
    ),
    (
        "Huddersfield Print Works Ltd",
        "07789013",
        "",
        True,
        False,
        "pending",
        ("Queen Street", "Huddersfield", "HD1 2SP"),
        None,
    ),
    (
        "Bradford Interpreting Services Ltd",
        "11890124",
        "",
        True,
        False,
        "approved",
        ("Hall Ings", "Bradford", "BD1 1HY"),
        None,
    ),
]

# Written by ``seed_demo --opportunities`` only (the tests' demo data keeps the
# 22 above): with them, cleaning (9091), grounds maintenance (7731) and home
# care (8531) each have four approved local suppliers, enough for every band of the demo
# policy (the invited-tender band needs 4 invited, 3 of them local), and a
# second local cleaning firm with a login bids against Aire Valley.
EXTRA_SUPPLIERS = [
    (
        "Manningham Cleaning Co-operative Ltd",
        "14123456",
        "",
        True,
        True,
        "approved",
        ("20 Oak Lane", "Bradford", "BD8 7QR"),
        ("bids@manningham-cleaning.example", "Nadia Iqbal"),
    ),
    (
        "Idle Cleaning Services Ltd",
        "14234567",
        "",
        True,
        False,
        "approved",
        ("3 The Green", "Idle", "BD10 9PX"),
        None,
    ),
    (
        "Bradford Parks and Gardens Ltd",
        "14345678",
        "",
        True,
        False,
        "approved",
        ("200 Bolton Road", "Bradford", "BD3 0ND"),
        None,
    ),
    (
        "Saltaire Garden Services CIC",
        "14456789",
        "",
        True,
        True,
        "approved",
        ("41 Victoria Road", "Saltaire", "BD18 3LA"),
        None,
    ),
    (
        "Wyke Grounds and Trees Ltd",
        "14567890",
        "",
        True,
        False,
        "approved",
        ("Huddersfield Road", "Wyke", "BD12 8AA"),
        None,
    ),
    (
        "Bowling Home Care Ltd",
        "14678901",
        "",
        True,
        False,
        "approved",
        ("Bowling Hall Road", "Bradford", "BD4 7LP"),
        None,
    ),
    (
        "Heaton Care Co-operative Ltd",
        "14789012",
        "",
        True,
        True,
        "approved",
        ("Toller Lane", "Bradford", "BD9 5AB"),
        None,
    ),
]

# Who each demo login is and what to try with it (printed by seed_demo, in the
# README's role table). The opportunities named are ``seed_demo --opportunities``'s.
TRY = {
    "officer@demo-council.example": (
        "publish the draft 'Grounds maintenance of city parks'; confirm the opening of "
        "'Cleaning of Shipley Town Hall' as the first of two officers; score and award "
        "'Cleaning of Bingley Library'"
    ),
    "officer2@demo-council.example": (
        "THE APPROVER (may record that aggregated work is genuinely separate): record it "
        "for 'Home care visits in Shipley', then publish it; confirm the opening of "
        "'Cleaning of Shipley Town Hall' as the second officer"
    ),
    "auditor@demo-council.example": (
        "Audit: each opportunity's history, the award register, flags, local spend"
    ),
    "admin@demo-council.example": "the council's locality and policy; Django admin at /admin/",
    "supplier@aire-valley.example": (
        "finish the draft bid on 'Cleaning of Keighley Library'; read the outcome of "
        "'Window cleaning of council offices' in the inbox"
    ),
    "bids@manningham-cleaning.example": (
        "the successful bid on 'Window cleaning of council offices'"
    ),
    "sales@leeds-office.example": "a supplier outside the council's locality",
    "care@bcc-cic.example": "a local social enterprise (care)",
}
