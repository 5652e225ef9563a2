"""The demo's spending files (issue 18): realistic, awkward where real files
are awkward, deterministic, and the second file overlapping the first."""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest

from devdata import demo, demo_spending
from devdata.demo_spending import FILES, HEADERS, spending_rows, write_csv
from ledger.names import is_redacted, normalise
from portal.models import BuyerOrganisation

BODY = BuyerOrganisation(name="Demo Council", slug="demo-council")
FIRST, SECOND = FILES
LOCAL = {f"BD{n}" for n in range(1, 25)}

# One worker makes the year's file once for the whole module.
pytestmark = pytest.mark.xdist_group("demo-spending-year")


def amount(text: str) -> Decimal:
    """The amount a row means: "£1,234.50", "-1234.50" and "(1,234.50)"."""
    negative = text.startswith(("-", "("))
    value = Decimal(text.strip("-()").replace("£", "").replace(",", ""))
    return -value if negative else value


@pytest.fixture(scope="module")
def year() -> list[dict[str, str]]:
    return list(spending_rows(BODY, FIRST.start, FIRST.months))


def test_a_year_is_a_council_sized_file_of_the_codes_fields(year):
    assert 11_000 <= len(year) <= 15_000
    assert all(list(row) == HEADERS for row in year)
    assert {row["Body Name"] for row in year} == {"Demo Council"}
    dates = [datetime.date(*map(int, r["Transaction Date"].split("/")[::-1])) for r in year]
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", r["Transaction Date"]) for r in year)
    assert min(dates) >= datetime.date(2025, 4, 1) and max(dates) <= datetime.date(2026, 3, 31)
    assert dates == sorted(dates)  # month by month, in date order
    assert len({d.month for d in dates}) == 12
    assert all(d.weekday() < 5 for d in dates)  # payment runs on working days
    services = {row["Service Area"] for row in year}
    assert {"Adult Social Care", "Highways", "Waste Services", "Libraries"} <= services
    assert {"Parks and Countryside", "Children's Services"} <= services


def test_redacted_rows_are_there_and_carry_nothing_to_match(year):
    redacted = [row for row in year if is_redacted(row["Supplier Name"])]
    assert 0.03 * len(year) < len(redacted) < 0.2 * len(year)
    assert {row["Supplier Name"] for row in redacted} == {"Redacted Personal Data", "REDACTED"}
    assert not any(r["Company Registration Number"] or r["Supplier Postcode"] for r in redacted)


def test_amounts_are_over_500_but_credit_notes_which_are_negative(year):
    amounts = [amount(row["Net Amount"]) for row in year]
    credits = [a for a in amounts if a < 0]
    assert all(abs(a) >= 500 for a in amounts if a >= 0)
    assert 0.005 * len(year) < len(credits) < 0.03 * len(year)
    texts = [row["Net Amount"] for row in year]
    assert any(t.startswith("-") for t in texts) and any(t.startswith("(") for t in texts)
    assert all("Credit note" in r["Purpose"] for r in year if amount(r["Net Amount"]) < 0)
    # £ signs and thousands separators in some amounts, plain in most.
    assert 0.03 * len(year) < sum("£" in t for t in texts) < 0.2 * len(year)
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+\.\d\d", t) for t in texts)
    assert sum(re.fullmatch(r"\d+\.\d\d", t) is not None for t in texts) > 0.7 * len(year)


def test_payees_are_a_realistic_mix_under_names_written_in_varied_ways(year):
    names = {row["Supplier Name"] for row in year}
    assert {"Aire Valley Cleaning Ltd", "AIRE VALLEY CLEANING LIMITED"} <= names
    assert "Northern Facilities Management Group PLC" in names  # national, not a supplier
    assert "Thackley Joinery Ltd" in names  # local, not a registered supplier
    assert "Bradford Carers' Resource" in names  # a charity
    # The written variants of one supplier are one payee once normalised.
    for legal in ("Aire Valley Cleaning Ltd", "Keighley Print & Design Ltd"):
        written = {n for n in names if normalise(n) == normalise(legal)}
        assert len(written) >= 3, written
    # Misspelt ones are not (an officer confirms them).
    assert normalise("Aire Vally Cleaning Ltd") in {normalise(n) for n in names}
    assert 250 <= len({normalise(n) for n in names if not is_redacted(n)}) <= 600


def test_companies_house_numbers_match_the_demo_suppliers_where_given(year):
    numbers = {row[1] for row in demo.SUPPLIERS + demo.EXTRA_SUPPLIERS if row[1]}
    by_name = {}
    for row in year:
        if row["Company Registration Number"]:
            by_name.setdefault(normalise(row["Supplier Name"]), set()).add(
                row["Company Registration Number"]
            )
    assert all(len(found) == 1 for found in by_name.values())  # one number per payee
    written = {n for found in by_name.values() for n in found}
    assert len(written & numbers) >= 12
    assert by_name[normalise("Aire Valley Cleaning Ltd")] == {"09123456"}
    # One has lost its leading zero in a spreadsheet, as numbers do.
    assert by_name[normalise("Keighley Print & Design Ltd")] == {"7456789"}
    assert not any(
        normalise(r["Supplier Name"]) == normalise("Shipley Grounds Maintenance Ltd")
        and r["Company Registration Number"]
        for r in year
    )


def test_categories_map_onto_the_demos_cpv_groups_and_leak_where_locals_exist(year):
    groups = {code[:3] for codes in demo.CATEGORIES.values() for code in codes}
    cpv = demo_spending.CATEGORY_CPV
    assert (cpv["Cleaning Services"], cpv["Grounds Maintenance"], cpv["Home Care"]) == (
        "909",
        "773",
        "853",
    )
    for category in ("Cleaning Services", "Grounds Maintenance", "Home Care"):
        assert cpv[category] in groups
        rows = [r for r in year if r["Expenditure Category"] == category]
        postcodes = [r["Supplier Postcode"].split(" ")[0] for r in rows if r["Supplier Postcode"]]
        local = sum(p in LOCAL for p in postcodes)
        # Money goes out of the district although local suppliers do this work.
        assert local > 0.1 * len(rows) and len(postcodes) - local > 0.3 * len(rows)
    assert {r["Expenditure Category"] for r in year} <= set(cpv)


def test_the_generator_is_deterministic():
    march = datetime.date(2026, 3, 1)
    assert list(spending_rows(BODY, march, 1)) == list(spending_rows(BODY, march, 1))
    assert list(spending_rows(BODY, march, 1, seed=1)) != list(spending_rows(BODY, march, 1))


def test_the_second_file_starts_with_the_first_files_last_month_row_for_row(tmp_path):
    first_path, second_path = tmp_path / FIRST.name, tmp_path / SECOND.name
    write_csv(spending_rows(BODY, FIRST.start, FIRST.months), first_path, FIRST.encoding)
    write_csv(spending_rows(BODY, SECOND.start, 3), second_path, SECOND.encoding)

    def months(path, encoding):
        with open(path, encoding=encoding, newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == HEADERS
        by_month: dict[str, list[list[str]]] = {}
        for row in rows[1:]:
            by_month.setdefault(row[4][3:], []).append(row)
        return by_month

    first, second = months(first_path, "utf-8-sig"), months(second_path, "cp1252")
    assert list(second) == ["03/2026", "04/2026", "05/2026"]
    assert list(first)[-1] == "03/2026"
    assert second["03/2026"] == first["03/2026"]
    assert len(first["03/2026"]) > 900


def test_the_files_encodings_utf8_with_a_bom_and_windows_1252(tmp_path):
    assert (FIRST.encoding, SECOND.encoding) == ("utf-8-sig", "cp1252")
    rows = list(spending_rows(BODY, SECOND.start, 1))
    path = tmp_path / "cp1252.csv"
    assert write_csv(rows, path, "cp1252") == len(rows)
    raw = path.read_bytes()
    assert b"\xa3" in raw  # £ in Windows-1252
    assert b"\x96" in raw or b"\x92" in raw  # the en dash or the curly apostrophe
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert "£" in text and text.startswith("Body Name,")
    assert list(csv.DictReader(io.StringIO(text, newline=""))) == rows
    write_csv(rows, tmp_path / "utf8.csv", "utf-8-sig")
    utf8 = (tmp_path / "utf8.csv").read_bytes()
    assert utf8.startswith(b"\xef\xbb\xbfBody Name,") and "£".encode() in utf8


def test_only_the_months_that_are_over_are_imported():
    on = demo_spending.months_to_import
    assert on(FIRST, datetime.date(2026, 12, 6)) == 12
    assert on(SECOND, datetime.date(2026, 12, 6)) == 9  # March to November 2026
    assert on(SECOND, datetime.date(2027, 6, 1)) == 13
    assert on(SECOND, datetime.date(2026, 3, 31)) == 0
    assert on(FIRST, datetime.date(2025, 7, 1)) == 3


def test_seed_imports_both_files_and_the_overlap_adds_no_payment(
    council, officer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path  # the files go with the test's rows
    from django.utils import timezone

    from ledger.models import ImportStatus, Payment

    today = timezone.localdate()
    if demo_spending.months_to_import(SECOND, today) == 0:
        pytest.skip("The second demo file has no month over yet.")
    first, second = demo_spending.seed(council, officer)
    assert [first.status, second.status] == [ImportStatus.DONE, ImportStatus.DONE]
    assert (first.original_name, second.original_name) == (FIRST.name, SECOND.name)
    assert (first.encoding, second.encoding) == ("utf-8-sig", "cp1252")
    assert first.rows_refused == second.rows_refused == 0
    overlap = len(list(spending_rows(council, datetime.date(2026, 3, 1), 1)))
    assert first.rows_imported == first.rows_read and first.rows_duplicate == 0
    # The second file's first month was in the first file: no payment twice.
    assert second.rows_duplicate == overlap
    assert second.rows_imported == second.rows_read - overlap
    payments = Payment.objects.filter(buyer=council)
    assert payments.count() == first.rows_read + second.rows_read - overlap
    assert payments.filter(redacted=True, payee=None).count() > 1000
    assert payments.filter(amount__lt=0).exists()
    # Safe to run again: nothing more, and the summary names both imports.
    assert demo_spending.seed(council, officer) == []
    assert payments.count() == first.rows_read + second.rows_read - overlap
    lines = demo_spending.describe(council)
    assert len(lines) == 2 and lines[0].startswith(FIRST.name) and "refused" in lines[1]


def test_the_demo_files_headers_are_suggested_as_the_codes_fields():
    from ledger import spendfile

    suggested = spendfile.suggest_columns(HEADERS)
    assert suggested["transaction_date"] == "Transaction Date"
    assert suggested["payee"] == "Supplier Name"
    assert suggested["amount"] == "Net Amount"
