"""Importing the council's spending file (issue 18; ADR 15): every awkward
input real files carry, what identifies a payment (the same file twice,
overlapping files, identical payments on one day), withdrawing, a job killed
mid-import, XLSX, the command, the pages and who may use them."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from ledger import spendfile
from ledger.models import (
    ImportStatus,
    Payee,
    Payment,
    PaymentSource,
    RefusedRow,
    SpendImport,
    SpendMapping,
)
from ledger.services import imports
from ledger.services.imports import (
    headers_of,
    import_run,
    import_start,
    import_upload,
    import_withdraw,
    preview,
    remembered_columns,
)
from ledger.services.totals import verify_totals
from ledger.spendfile import (
    ImportRefused,
    ParsedRow,
    Reader,
    parse_row,
    payment_key,
    read_table,
    suggest_columns,
)
from portal.models import AuditEvent, BuyerOrganisation

D = Decimal
HEADER = "Transaction date,Supplier (beneficiary),Transaction number,Amount,Department\r\n"


def csv_file(rows: list[str], *, header: str = HEADER, encoding: str = "utf-8", bom=False):
    text = header + "".join(r + "\r\n" for r in rows)
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def upload(name: str, data: bytes):
    return SimpleUploadedFile(name, data, content_type="text/csv")


def imported(demo_data, officer, data: bytes, name: str = "spend.csv", columns=None):
    spend_import = import_upload(buyer=demo_data, upload=upload(name, data), by=officer)
    table = read_table(io.BytesIO(data), name)
    import_start(
        spend_import=spend_import,
        columns=columns or suggest_columns(table.headers),
        by=officer,
        queue=False,
    )
    return import_run(spend_import.pk)


def held(council) -> int:
    return Payment.objects.filter(buyer=council).count()


@pytest.fixture(params=["bulk", "rows"])
def read_by(request, monkeypatch):
    """Each import test twice: the bulk path (a CSV on PostgreSQL) and row by row."""
    monkeypatch.setattr(imports, "BULK", request.param == "bulk")
    return request.param


# --- Reading ------------------------------------------------------------------------


def test_utf8_with_a_bom_is_read_and_the_bom_is_not_part_of_the_first_header():
    table = read_table(
        io.BytesIO(csv_file(["01/04/2024,Café Ltd,T1,£10.00,Parks"], bom=True)), "a.csv"
    )
    assert table.encoding == "utf-8-sig"
    assert table.headers[0] == "Transaction date"
    assert list(table.rows) == [(2, ["01/04/2024", "Café Ltd", "T1", "£10.00", "Parks"])]


def test_windows_1252_pound_and_accent_are_read():
    data = csv_file(['01/04/2024,Café Crème Ltd,T1,"£1,234.50",Parks'], encoding="cp1252")
    table = read_table(io.BytesIO(data), "a.csv")
    assert table.encoding == "cp1252"
    ((_line, values),) = list(table.rows)
    assert values[1] == "Café Crème Ltd"
    assert values[3] == "£1,234.50"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_a_csv_file_in_utf16_is_refused_saying_how_to_save_it(demo_data, officer, encoding):
    # "utf-16" writes a byte order mark (little-endian here); the other two none.
    data = ("\ufeff" if encoding == "utf-16-be" else "").encode(encoding) + csv_file(
        MONTH_1
    ).decode().encode(encoding)
    with pytest.raises(spendfile.UnreadableFile) as refused:
        read_table(io.BytesIO(data), "spend.csv")
    assert refused.value.problems == [
        "The file is saved as UTF-16 (Unicode text). "
        "Save it as CSV UTF-8 (comma delimited) and upload it again."
    ]
    with pytest.raises(ImportRefused) as refused:
        import_upload(buyer=demo_data, upload=upload("spend.csv", data), by=officer)
    assert refused.value.problems == [
        "The selected file spend.csv is saved as UTF-16 (Unicode text). "
        "Save it as CSV UTF-8 (comma delimited) and upload it again"
    ]


def test_line_numbers_count_quoted_line_breaks_and_blank_lines_as_a_person_does():
    data = csv_file(['01/04/2024,"Two\nlines",T1,1,P', "", "02/04/2024,B,T2,2,P"])
    assert [line for line, _ in read_table(io.BytesIO(data), "a.csv").rows] == [2, 5]


# The header of the file the reviewer imported (eight columns).
WIDE_HEADER = (
    "Transaction Date,Supplier Name,Transaction Number,Amount,Department,Category,"
    "Postcode,Company Number\r\n"
)


def read_rows(data: bytes, name: str = "a.csv") -> list[tuple[int, ParsedRow | str]]:
    """Each row of a file as the suggested columns read it: (line, row or why)."""
    table = read_table(io.BytesIO(data), name)
    return [(line, row) for line, row, _raw in Reader(table, suggest_columns(table.headers))]


def test_a_row_with_more_values_than_headers_is_refused_saying_where_and_why():
    rows = read_rows(
        csv_file(["01/04/2025,Acme Ltd,S1,£1,234.56,Highways,Roads,,"], header=WIDE_HEADER)
    )
    assert rows == [
        (
            2,
            "Line 2 has 9 values but the file's headers name 8: "
            "check for an amount with a comma that is not in quotes, "
            "or a comma at the end of each row that the headers do not have",
        )
    ]


def test_a_row_with_fewer_values_than_headers_is_read_with_the_missing_values_empty():
    ((line, row),) = read_rows(
        csv_file(["01/04/2025,Acme Ltd,S1,£12.00,Highways"], header=WIDE_HEADER)
    )
    assert isinstance(row, ParsedRow)
    assert (line, row.amount, row.department, row.category, row.postcode) == (
        2,
        Decimal("12.00"),
        "Highways",
        "",
        "",
    )


def test_a_value_beyond_the_headers_of_an_xlsx_sheet_is_no_misreading():
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Payment Date", "Vendor Name", "Amount"])
    book.active.append(["01/04/2024", "Acme Ltd", 1234.56, "a note"])
    buffer = io.BytesIO()
    book.save(buffer)
    ((_line, row),) = read_rows(buffer.getvalue(), "a.xlsx")
    assert isinstance(row, ParsedRow) and row.amount == Decimal("1234.56")


def test_a_row_with_a_value_too_many_is_refused_either_way(demo_data, officer, read_by):
    rows = [
        "01/04/2025,Acme Ltd,S1,£1,234.56,Highways,Roads,,",
        '02/04/2025,Bolt Ltd,S2,"£1,234.56",Highways,Roads,,',
        "03/04/2025,Cog Ltd,S3,£5.00,Highways",
    ]
    spend_import = imported(demo_data, officer, csv_file(rows, header=WIDE_HEADER))
    assert (spend_import.rows_read, spend_import.rows_imported, spend_import.rows_refused) == (
        3,
        2,
        1,
    )
    assert list(
        RefusedRow.objects.filter(spend_import=spend_import).values_list("line", "reason")
    ) == [
        (
            2,
            "Line 2 has 9 values but the file's headers name 8: "
            + "check for an amount with a comma that is not in quotes, "
            + "or a comma at the end of each row that the headers do not have",
        )
    ]
    assert dict(
        Payment.objects.filter(first_import=spend_import).values_list("payee_name", "amount")
    ) == {"Bolt Ltd": Decimal("1234.56"), "Cog Ltd": Decimal("5.00")}


UNCLOSED = [
    "01/04/2025,Acme Ltd,S1,1.00,Highways,Roads,,",
    '02/04/2025,"Bad Quote Ltd,Q2,200.00,Highways,Roads,,',
    "03/04/2025,Cog Ltd,S3,3.00,Highways,Roads,,",
    "04/04/2025,Dial Ltd,S4,4.00,Highways,Roads,,",
]


def test_a_quote_left_open_refuses_every_line_it_took_saying_which():
    rows = read_rows(csv_file(UNCLOSED, header=WIDE_HEADER))
    assert [line for line, _row in rows] == [2, 3]
    assert isinstance(rows[0][1], ParsedRow)
    assert (
        rows[1][1] == "Line 3: a quote opened here is not closed, so lines 3 to 5 could not be read"
    )


def test_a_quote_left_open_until_a_later_quote_refuses_the_lines_between_and_reads_on():
    rows = read_rows(
        csv_file(
            [*UNCLOSED, '05/04/2025,Eel Ltd,S5,"£5.00",Highways,Roads,,', *UNCLOSED[2:]],
            header=WIDE_HEADER,
        )
    )
    assert [(line, row) for line, row in rows if isinstance(row, str)] == [
        (3, "Line 3: a quote opened here is not closed, so lines 3 to 6 could not be read")
    ]
    assert [(line, row.payee_name) for line, row in rows if isinstance(row, ParsedRow)] == [
        (2, "Acme Ltd"),
        (7, "Cog Ltd"),
        (8, "Dial Ltd"),
    ]


def test_a_quote_left_open_on_the_last_line_is_refused():
    rows = read_rows(
        csv_file([*UNCLOSED[:1], '02/04/2025,Bad Ltd,Q2,200.00,"Highways'], header=WIDE_HEADER)
    )
    assert rows[1] == (3, "Line 3: a quote opened here is not closed, so line 3 could not be read")
    rows = read_rows((WIDE_HEADER + '02/04/2025,Bad Ltd,Q2,200.00,"Highways').encode())
    assert rows == [(2, "Line 2: a quote opened here is not closed, so line 2 could not be read")]


def test_a_quote_left_open_over_more_than_a_value_holds_is_refused_and_reading_goes_on():
    rows = read_rows(
        csv_file(
            UNCLOSED[:2]
            + [
                f"{d % 28 + 1:02d}/05/2025,Payee {d} Ltd,R{d},{d}.00,Highways,Roads,,"
                for d in range(4000)
            ],
            header=WIDE_HEADER,
        )
    )
    (refused,) = [(line, row) for line, row in rows if isinstance(row, str)]
    match = re.fullmatch(
        r"Line 3: a quote opened here is not closed, so lines 3 to (\d+) could not be read",
        refused[1],
    )
    assert match and refused[0] == 3
    last = int(match.group(1))
    # Every line is a row read or one of the lines refused.
    read = [line for line, row in rows if isinstance(row, ParsedRow)]
    assert read == [2, *range(last + 1, 4004)]


def test_a_value_in_quotes_with_a_line_break_is_read_and_the_lines_after_it_counted():
    rows = read_rows(
        csv_file(
            ['01/04/2025,"Acme\nCleaning Ltd",S1,1.00,Highways,Roads,,', *UNCLOSED[2:]],
            header=WIDE_HEADER,
        )
    )
    assert [(line, row.payee_name) for line, row in rows if isinstance(row, ParsedRow)] == [
        (2, "Acme Cleaning Ltd"),
        (4, "Cog Ltd"),
        (5, "Dial Ltd"),
    ]


def test_a_row_running_on_to_another_line_with_the_wrong_number_of_values_is_refused():
    rows = read_rows(
        csv_file(['01/04/2025,"Acme\nCleaning Ltd",S1,1.00', *UNCLOSED[2:3]], header=WIDE_HEADER)
    )
    assert rows[0] == (
        2,
        "Line 2 has 4 values but the file's headers name 8, and a value in quotes runs on "
        "to line 3: check for a quote that is not closed",
    )
    assert rows[1][0] == 4 and isinstance(rows[1][1], ParsedRow)


def test_a_quote_left_open_is_refused_either_way(demo_data, officer, read_by):
    spend_import = imported(demo_data, officer, csv_file(UNCLOSED, header=WIDE_HEADER))
    assert spend_import.status == ImportStatus.DONE
    assert (spend_import.rows_read, spend_import.rows_imported, spend_import.rows_refused) == (
        2,
        1,
        1,
    )
    ((line, reason),) = RefusedRow.objects.filter(spend_import=spend_import).values_list(
        "line", "reason"
    )
    assert (line, reason) == (
        3,
        "Line 3: a quote opened here is not closed, so lines 3 to 5 could not be read",
    )


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("£1,234.50", Decimal("1234.50")),
        ("1 234.5", Decimal("1234.50")),
        ("-£500", Decimal("-500.00")),
        ("(1,234.50)", Decimal("-1234.50")),
        ("£(12.00)", Decimal("-12.00")),
        ("1234", Decimal("1234.00")),
        ("1,234", Decimal("1234.00")),
        ("12,345,678.90", Decimal("12345678.90")),
        ("(50)", Decimal("-50.00")),
        ("50.00-", Decimal("-50.00")),
    ],
)
def test_amounts_as_councils_write_them(text, amount):
    row = parse_row({"transaction_date": "01/04/2024", "payee": "Acme Ltd", "amount": text})
    assert isinstance(row, ParsedRow)
    assert row.amount == amount
    assert row.amount_pence == int(amount * 100)


DECIMAL_COMMA = "has a comma before the pence: use a full stop, such as £1,234.50"
COMMA_MISPLACED = (
    "has a comma in the wrong place: use commas only between thousands, such as £1,234,567.00"
)
BRACKETS_AND_MINUS = (
    "is in brackets and has a minus sign: show a credit one way, such as -50.00 or (50.00)"
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1234,50", DECIMAL_COMMA),
        ("1,23", DECIMAL_COMMA),
        ("£1 234,5", DECIMAL_COMMA),
        ("12,34,567", COMMA_MISPLACED),
        ("1,2345", COMMA_MISPLACED),
        ("1,234,5", COMMA_MISPLACED),
        ("1234,567.00", COMMA_MISPLACED),
        ("(-50)", BRACKETS_AND_MINUS),
        ("(£50.00-)", BRACKETS_AND_MINUS),
        ("1.234,50", "is not an amount such as £1,234.50"),
    ],
)
def test_an_amount_with_a_comma_that_is_no_thousands_separator_is_refused_saying_why(text, reason):
    row = parse_row({"transaction_date": "01/04/2024", "payee": "Acme Ltd", "amount": text})
    assert row == f"The amount “{text}” {reason}"
    row = parse_row(
        {
            "transaction_date": "01/04/2024",
            "payee": "Acme Ltd",
            "amount": "1.00",
            "irrecoverable_vat": text,
        }
    )
    assert row == f"The irrecoverable VAT “{text}” {reason}"


@pytest.mark.parametrize(
    "text",
    [
        "31/01/2024",
        "2024-01-31",
        "31-Jan-2024",
        "45322",
        "31.01.2024",
        "31/01/2024 00:00:00",
        "31/01/2024 00:00",
        "31/01/2024 13:45:10",
        "31/01/2024 1:45 PM",
        "31-Jan-2024 00:00:00",
        "2024-01-31T12:00:00",
        "31-JAN-24",  # as finance systems export it: this century's, being past
        "31/01/24",
        "31/01/24 00:00",
    ],
)
def test_dates_as_councils_write_them(text):
    row = parse_row({"transaction_date": text, "payee": "Acme Ltd", "amount": "1"})
    assert isinstance(row, ParsedRow)
    assert row.transaction_date == datetime.date(2024, 1, 31)


TWO_DIGITS_AHEAD = (
    "has a two-digit year that would be after today: write the year in full, such as 31/01/2024"
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("01/04/99", TWO_DIGITS_AHEAD),  # not 2099: a payment is never in a year to come
        ("31/12/60", TWO_DIGITS_AHEAD),
        ("31/01/2024 25:00", "is not a date such as 31/01/2024"),
        ("31/01/2024 13:45 PM", "is not a date such as 31/01/2024"),
        ("31/01/2024 noon", "is not a date such as 31/01/2024"),
        ("31/01/202", "is not a date such as 31/01/2024"),
        ("31/02/99", TWO_DIGITS_AHEAD),  # which February is not known
    ],
)
def test_a_date_with_a_two_digit_year_or_an_impossible_time_is_refused_saying_why(text, reason):
    """A two-digit year is this century's unless that is after today (and a
    month): "31-JAN-24", as finance systems export it, is read."""
    row = parse_row({"transaction_date": text, "payee": "Acme Ltd", "amount": "1"})
    assert row == f"The transaction date “{text}” {reason}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31/02/2026", "February 2026 has 28 days"),
        ("30/02/2024", "February 2024 has 29 days"),
        ("31/04/2024 00:00:00", "April 2024 has 30 days"),
        ("31.06.2025", "June 2025 has 30 days"),
        ("2025-09-31", "September 2025 has 30 days"),
        ("31-Nov-2025", "November 2025 has 30 days"),
        ("29-FEB-23", "February 2023 has 28 days"),
        ("31/02/24", "February 2024 has 29 days"),
        ("01/13/2024", "there is no month 13"),
        ("2024-00-10", "there is no month 0"),
        ("00/01/2024", "there is no day 0"),
        ("0000-01-01", "there is no year 0"),
    ],
)
def test_a_date_of_a_known_shape_that_is_no_real_day_says_so(text, reason):
    """ "31/02/2026" has the shape of a date: the refusal says the day does not
    exist, not that it should be written like 31/01/2024."""
    row = parse_row({"transaction_date": text, "payee": "Acme Ltd", "amount": "1"})
    assert row == f"The transaction date “{text}” is not a real date: {reason}"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"transaction_date": "31/02/2024", "payee": "A", "amount": "1"}, "is not a real date"),
        ({"transaction_date": "", "payee": "A", "amount": "1"}, "no transaction date"),
        ({"transaction_date": "01/02/2024", "payee": "", "amount": "1"}, "no supplier"),
        ({"transaction_date": "01/02/2024", "payee": "A", "amount": "12.345"}, "not an amount"),
        ({"transaction_date": "01/02/2024", "payee": "A", "amount": "ten"}, "not an amount"),
        ({"transaction_date": "01/02/2024", "payee": "A", "amount": ""}, "no amount"),
    ],
)
def test_a_row_that_cannot_be_read_is_refused_saying_why(values, reason):
    refusal = parse_row(values)
    assert isinstance(refusal, str)
    assert reason in refusal


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Limited", "is only a legal form, such as Ltd or PLC: it does not say who was paid"),
        ("Ltd.", "is only a legal form, such as Ltd or PLC: it does not say who was paid"),
        ("Co. Ltd", "is only a legal form, such as Ltd or PLC: it does not say who was paid"),
        ("C.I.C.", "is only a legal form, such as Ltd or PLC: it does not say who was paid"),
        ("!!!", "has no letters or digits"),
        ("Ελλάδα", "has no letters from A to Z or digits"),
    ],
)
def test_a_supplier_name_that_names_no_one_is_refused_saying_why(name, reason):
    row = parse_row({"transaction_date": "01/02/2024", "payee": name, "amount": "10"})
    assert row == f"The supplier name “{name}” {reason}"


@pytest.mark.parametrize(
    "name",
    [
        "Redacted Personal Data",
        "REDACTED",
        "redacted",
        "*****",
        "Name withheld",
        "Private Individual",
        "Redacted due to personal data",
        "Personal Data - Redacted under GDPR",
    ],
)
def test_redacted_rows_are_read_and_never_named(name):
    row = parse_row({"transaction_date": "01/02/2024", "payee": name, "amount": "10"})
    assert isinstance(row, ParsedRow)
    assert row.redacted
    assert row.normalised == ""


def test_companies_house_numbers_and_postcodes_are_tidied():
    row = parse_row(
        {
            "transaction_date": "01/02/2024",
            "payee": "Acme Limited",
            "amount": "10",
            "companies_house_number": "1234567",
            "postcode": "ls1 4ap",
        }
    )
    assert isinstance(row, ParsedRow)
    assert (row.companies_house_number, row.postcode, row.normalised) == (
        "01234567",
        "LS1 4AP",
        "ACME",
    )
    assert spendfile.tidy_companies_house_number("sc 12345") == "SC012345"
    assert spendfile.tidy_companies_house_number("not one") == ""


@pytest.mark.parametrize(
    ("written", "tidied"),
    [
        ("1234567", "01234567"),
        ("1234567.0", "01234567"),
        ("1234567.00", "01234567"),
        ("01234567", "01234567"),
        ("SC123456", "SC123456"),
        ("R0000123", "R0000123"),
        ("r0 000 123", "R0000123"),
        ("1234567.5", ""),
        ("1.23457E+06", ""),
        ("R1234567", ""),
    ],
)
def test_a_companies_house_number_is_tidied_as_suppliers_register_theirs(written, tidied):
    from suppliers.identifiers import normalise_company_number

    assert spendfile.tidy_companies_house_number(written) == tidied
    # A number read from the file is one a supplier could register, written the same way.
    if tidied:
        assert normalise_company_number(tidied) == tidied


def test_a_number_a_spreadsheet_wrote_as_a_fraction_matches_its_own_company(
    demo_data, officer, read_by
):
    from suppliers.models import SupplierApproval, SupplierOrganisation, SupplierStatus

    def approved(legal: str, number: str) -> SupplierOrganisation:
        org = SupplierOrganisation.objects.create(legal_name=legal, companies_house_number=number)
        SupplierApproval.objects.create(
            supplier=org, buyer=demo_data, status=SupplierStatus.APPROVED
        )
        return org

    right = approved("Quenby Roadworks Ltd", "01234567")
    approved("Some Other Company Ltd", "12345670")
    ulster = approved("Lagan Old Firm Ltd", "R0000123")
    rows = [
        "01/04/2025,Quenby Roads,S1,£100.00,Highways,Roads,,1234567.0",
        "02/04/2025,Lagan Old Firm,S2,£200.00,Highways,Roads,,R0000123",
    ]
    imported(demo_data, officer, csv_file(rows, header=WIDE_HEADER))
    quenby = Payee.objects.get(buyer=demo_data, normalised="QUENBY ROADS")
    lagan = Payee.objects.get(buyer=demo_data, normalised="LAGAN OLD FIRM")
    assert (quenby.companies_house_number, quenby.supplier) == ("01234567", right)
    assert (lagan.companies_house_number, lagan.supplier) == ("R0000123", ulster)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Transaction date", "Supplier (beneficiary)", "Net amount"],
            {
                "transaction_date": "Transaction date",
                "payee": "Supplier (beneficiary)",
                "amount": "Net amount",
            },
        ),
        (
            ["Date", "Supplier_Name", "SumOfAmount_Inc_VAT"],
            {"transaction_date": "Date", "payee": "Supplier_Name", "amount": "SumOfAmount_Inc_VAT"},
        ),
        (
            [
                "PAYMENT DATE",
                "vendor name",
                "Amount",
                "Service Area",
                "Company Number",
                "Post Code",
            ],
            {
                "transaction_date": "PAYMENT DATE",
                "payee": "vendor name",
                "amount": "Amount",
                "department": "Service Area",
                "companies_house_number": "Company Number",
                "postcode": "Post Code",
            },
        ),
    ],
)
def test_the_headers_real_files_use_are_suggested(headers, expected):
    assert suggest_columns(headers) == expected


def test_the_key_counts_the_occurrence_of_identical_payments():
    common = {
        "transaction_number": "",
        "transaction_date": datetime.date(2024, 4, 1),
        "amount_pence": 100,
        "payee": "ACME",
    }
    assert payment_key(**common, occurrence=1) != payment_key(**common, occurrence=2)
    assert payment_key(**common, occurrence=1) == payment_key(**common, occurrence=1)


# --- Importing ----------------------------------------------------------------------

AWKWARD = [
    '01/04/2024,Acme Cleaning Ltd,T1,"£1,234.50",Parks',
    "02/04/2024,ACME CLEANING LIMITED,T2,-£200.00,Parks",
    "03/04/2024,Redacted Personal Data,T3,£350.00,Care",
    "04/04/2024,REDACTED,T4,(50.00),Care",
    '05/04/2024,Café Crème,T5,"1,000",Leisure',
    "31/04/2024,Bad Date Ltd,T6,£1.00,Parks",
    "06/04/2024,Nothing Ltd,T7,lots,Parks",
]


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", True), ("cp1252", False)])
def test_an_awkward_file_is_imported_with_every_row_accounted_for(
    demo_data, officer, read_by, encoding, bom
):
    before = held(demo_data)
    spend_import = imported(demo_data, officer, csv_file(AWKWARD, encoding=encoding, bom=bom))

    assert spend_import.status == ImportStatus.DONE
    assert (spend_import.rows_read, spend_import.rows_imported) == (7, 5)
    assert (spend_import.rows_duplicate, spend_import.rows_refused) == (0, 2)
    assert held(demo_data) == before + 5
    payments = Payment.objects.filter(first_import=spend_import)
    assert sum(p.amount for p in payments) == Decimal("2334.50")
    redacted = payments.filter(redacted=True)
    assert redacted.count() == 2
    assert all(p.payee_id is None for p in redacted)
    assert not Payee.objects.filter(buyer=demo_data, normalised__contains="REDACTED").exists()
    # "Acme Cleaning Ltd" and "ACME CLEANING LIMITED" are one payee, named as first seen.
    acme = Payee.objects.get(buyer=demo_data, normalised="ACME CLEANING")
    assert acme.name == "Acme Cleaning Ltd"
    assert acme.payments.count() == 2
    assert Payee.objects.get(buyer=demo_data, normalised="CAFE CREME").name == "Café Crème"
    refused = list(
        RefusedRow.objects.filter(spend_import=spend_import).values_list("line", "reason")
    )
    assert [line for line, _ in refused] == [7, 8]
    assert "31/04/2024" in refused[0][1]
    assert "lots" in refused[1][1]
    assert (spend_import.first_date, spend_import.last_date) == (
        datetime.date(2024, 4, 1),
        datetime.date(2024, 4, 5),
    )
    actions = set(
        AuditEvent.objects.filter(object_id=str(spend_import.pk)).values_list("action", flat=True)
    )
    assert {
        "spend_import.uploaded",
        "spend_import.queued",
        "spend_import.started",
        "spend_import.imported",
    } <= actions


def test_a_cic_however_its_suffix_is_written_is_one_payee(demo_data, officer, read_by):
    rows = [
        "01/04/2024,Wharfedale Meals CIC,,10.00,Care",
        "02/04/2024,WHARFEDALE MEALS C.I.C.,,20.00,Care",
        "03/04/2024,Wharfedale Meals C.I.C,,30.00,Care",
    ]
    spend_import = imported(demo_data, officer, csv_file(rows))
    assert spend_import.rows_imported == 3
    (payee,) = Payee.objects.filter(buyer=demo_data, normalised__startswith="WHARFEDALE")
    assert (payee.normalised, payee.name) == ("WHARFEDALE MEALS", "Wharfedale Meals CIC")
    assert payee.payments.count() == 3


def test_the_same_file_twice_adds_no_payment(demo_data, officer, read_by):
    data = csv_file(AWKWARD[:5])
    imported(demo_data, officer, data)
    before = held(demo_data)
    again = imported(demo_data, officer, data)
    assert held(demo_data) == before
    assert (again.rows_imported, again.rows_duplicate) == (0, 5)
    # Held once; the second import is a source of each.
    assert PaymentSource.objects.filter(spend_import=again).count() == 5


MONTH_1 = ["01/04/2024,Acme,,100.00,P", "15/04/2024,Bolt & Co,,200.00,P"]
MONTH_2 = [
    "02/05/2024,Acme,,100.00,P",
    "02/05/2024,Acme,,100.00,P",  # two genuine identical payments on one day
    "20/05/2024,Bolt and Co Ltd,,300.00,P",
]
MONTH_3 = ["03/06/2024,Acme,,400.00,P"]


def test_the_database_itself_holds_a_payment_once_on_sqlite_as_on_postgresql(demo_data, officer):
    """ADR 15: a payment is held once per council (its date and key), and the
    database refuses a second, not only the import's own lookup: on SQLite by
    ledger migration 0006's index (Django creates no constraint with included
    columns there), on PostgreSQL by the constraint."""
    from django.db import IntegrityError, transaction

    from tests.ledger_helpers import make_import, pay

    buyer = BuyerOrganisation.objects.get(slug="demo-council")
    spend_import = make_import(buyer, officer)
    held = pay(buyer, spend_import, "Aire Valley Cleaning Ltd", "120.00", "2025-05-01")
    with pytest.raises(IntegrityError), transaction.atomic():
        pay(buyer, spend_import, "Aire Valley Cleaning Ltd", "99.00", "2025-05-01", key=held.key)
    # Another day, or another council, is another payment.
    pay(buyer, spend_import, "Aire Valley Cleaning Ltd", "120.00", "2025-05-02", key=held.key)
    other = BuyerOrganisation.objects.create(name="Other Borough Council", slug="other-borough")
    pay(
        other,
        make_import(other, officer),
        "Aire Valley Cleaning Ltd",
        "120.00",
        "2025-05-01",
        key=held.key,
    )


def test_overlapping_files_never_count_a_payment_twice_and_identical_payments_both_count(
    demo_data, officer, read_by
):
    before = held(demo_data)
    first = imported(demo_data, officer, csv_file(MONTH_1 + MONTH_2), "apr-may.csv")
    second = imported(demo_data, officer, csv_file(MONTH_2 + MONTH_3), "may-jun.csv")
    assert (first.rows_imported, first.rows_duplicate) == (5, 0)
    assert (second.rows_imported, second.rows_duplicate) == (1, 3)
    assert held(demo_data) == before + 6
    may = Payment.objects.filter(
        buyer=demo_data, transaction_date=datetime.date(2024, 5, 2), payee__normalised="ACME"
    )
    assert may.count() == 2


def test_withdrawing_keeps_the_payments_another_import_carried(demo_data, officer, read_by):
    before = held(demo_data)
    first = imported(demo_data, officer, csv_file(MONTH_1 + MONTH_2), "apr-may.csv")
    second = imported(demo_data, officer, csv_file(MONTH_2 + MONTH_3), "may-jun.csv")
    assert verify_totals(demo_data.pk) == {}  # the figures' running totals (ADR 16)

    import_withdraw(spend_import=first, by=officer, reason="Wrong file")
    assert verify_totals(demo_data.pk) == {}

    first.refresh_from_db()
    assert first.status == ImportStatus.WITHDRAWN
    # April went with the first file; May (carried by both) and June stay.
    assert held(demo_data) == before + 4
    assert not Payment.objects.filter(
        buyer=demo_data, transaction_date__month=4, first_import__in=[first, second]
    ).exists()
    # The second import is now the first of May's payments (and June's).
    assert Payment.objects.filter(buyer=demo_data, first_import=second).count() == 4
    assert not PaymentSource.objects.filter(spend_import__in=[first, second]).exists()
    event = AuditEvent.objects.get(action="spend_import.withdrawn", object_id=str(first.pk))
    assert event.context["reason"] == "Wrong file"
    with pytest.raises(ImportRefused):
        import_withdraw(spend_import=first, by=officer, reason="Again")


def test_withdrawing_is_refused_while_the_import_runs(demo_data, officer):
    spend_import = import_upload(
        buyer=demo_data, upload=upload("a.csv", csv_file(MONTH_1)), by=officer
    )
    import_start(
        spend_import=spend_import,
        columns=suggest_columns(HEADER.strip().split(",")),
        by=officer,
        queue=False,
    )
    with pytest.raises(ImportRefused, match="while it is being imported"):
        import_withdraw(spend_import=spend_import, by=officer, reason="Stop")


def test_a_job_killed_mid_import_resumes_from_its_position(
    demo_data, officer, monkeypatch, read_by
):
    from ledger.services import bulk

    rows = [f"{d:02d}/04/2024,Payee {d % 7},,{d}.00,P" for d in range(1, 26)]
    rows[12] = "13/04/2024,Payee 6,,not money,P"
    monkeypatch.setattr(imports, "CHUNK_ROWS", 10)
    monkeypatch.setattr(bulk, "CHUNK", 10)
    calls = []

    def killed(spend_import):
        calls.append(spend_import.position)
        if len(calls) == 1:
            raise RuntimeError("worker killed")

    monkeypatch.setattr(imports, "_after_chunk", killed)
    before = held(demo_data)
    spend_import = import_upload(
        buyer=demo_data, upload=upload("a.csv", csv_file(rows)), by=officer
    )
    import_start(
        spend_import=spend_import,
        columns=suggest_columns(HEADER.strip().split(",")),
        by=officer,
        queue=False,
    )
    with pytest.raises(RuntimeError):
        import_run(spend_import.pk)
    spend_import.refresh_from_db()
    assert spend_import.status == ImportStatus.RUNNING
    assert (spend_import.position, spend_import.rows_read) == (11, 10)

    done = import_run(spend_import.pk)

    assert done.status == ImportStatus.DONE
    assert (done.rows_read, done.rows_imported, done.rows_refused) == (25, 24, 1)
    assert done.rows_duplicate == 0
    assert held(demo_data) == before + 24
    assert calls == [11, 21, 26]
    assert AuditEvent.objects.filter(action="spend_import.resumed", object_id=str(done.pk)).exists()


def test_a_running_import_whose_heartbeat_stopped_is_requeued(demo_data, officer):
    spend_import = import_upload(
        buyer=demo_data, upload=upload("a.csv", csv_file(MONTH_1)), by=officer
    )
    old = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    SpendImport.objects.filter(pk=spend_import.pk).update(
        status=ImportStatus.RUNNING, heartbeat_at=old
    )
    assert spend_import.pk in imports.requeue_stale()
    spend_import.refresh_from_db()
    assert spend_import.status == ImportStatus.QUEUED


def test_in_process_the_queued_import_just_runs(
    demo_data, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    spend_import = import_upload(
        buyer=demo_data, upload=upload("a.csv", csv_file(MONTH_1)), by=officer
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_start(
            spend_import=spend_import,
            columns=suggest_columns(HEADER.strip().split(",")),
            by=officer,
        )
    spend_import.refresh_from_db()
    assert spend_import.status == ImportStatus.DONE
    assert spend_import.rows_imported == 2


def test_an_xlsx_file_is_imported(demo_data, officer):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Payment Date", "Vendor Name", "SumOfAmount_Inc_VAT"])
    sheet.append([datetime.datetime(2024, 4, 1), "Acme Ltd", 1234.5])  # noqa: DTZ001
    sheet.append([45383, "Bolt Ltd", -20])
    sheet.append(["02/04/2024", "REDACTED", "£30.00"])
    buffer = io.BytesIO()
    book.save(buffer)
    spend_import = imported(demo_data, officer, buffer.getvalue(), "spend.xlsx")
    assert spend_import.encoding == "xlsx"
    assert (spend_import.rows_imported, spend_import.rows_refused) == (3, 0)
    amounts = dict(
        Payment.objects.filter(first_import=spend_import).values_list("payee_name", "amount")
    )
    assert amounts == {
        "Acme Ltd": Decimal("1234.50"),
        "Bolt Ltd": Decimal("-20.00"),
        "REDACTED": Decimal("30.00"),
    }
    assert Payment.objects.get(
        first_import=spend_import, payee_name="Bolt Ltd"
    ).transaction_date == datetime.date(2024, 4, 1)


def test_an_unreadable_file_fails_with_a_plain_message(demo_data, officer):
    data = b"PK\x03\x04" + b"not really a workbook" * 10
    with pytest.raises(ImportRefused):
        import_upload(buyer=demo_data, upload=upload("spend.xlsx", data), by=officer)


def test_a_file_of_another_kind_is_refused(demo_data, officer):
    with pytest.raises(ImportRefused, match="CSV or an Excel"):
        import_upload(buyer=demo_data, upload=upload("spend.pdf", b"%PDF-1.4"), by=officer)


def test_start_refuses_an_unmapped_required_field_and_remembers_the_mapping(demo_data, officer):
    spend_import = import_upload(
        buyer=demo_data, upload=upload("a.csv", csv_file(MONTH_1)), by=officer
    )
    with pytest.raises(ImportRefused, match="amount"):
        import_start(
            spend_import=spend_import,
            columns={"transaction_date": "Transaction date", "payee": "Supplier (beneficiary)"},
            by=officer,
            queue=False,
        )
    columns = suggest_columns(HEADER.strip().split(","))
    import_start(
        spend_import=spend_import,
        columns=columns,
        by=officer,
        mapping_name="Monthly file",
        queue=False,
    )
    assert SpendMapping.objects.get(buyer=demo_data, name="Monthly file").columns == columns


def test_a_renamed_header_is_still_offered_and_the_same_month_is_not_counted_twice(
    demo_data, officer
):
    """The council's remembered mapping reads "Transaction number"; next month's
    file calls it "Transaction ID". The columns offered still read the number
    (the header's suggestion fills what the remembered mapping cannot), so the
    same payments are recognised as already held."""
    rows = ["01/04/2024,Acme,T-1,100.00,P", "01/04/2024,Acme,T-2,100.00,P"]
    first = import_upload(buyer=demo_data, upload=upload("a.csv", csv_file(rows)), by=officer)
    columns = remembered_columns(demo_data, headers_of(first))
    assert columns["transaction_number"] == "Transaction number"
    import_run(import_start(spend_import=first, columns=columns, by=officer, queue=False).pk)
    renamed = HEADER.replace("Transaction number", "Transaction ID")
    again = import_upload(
        buyer=demo_data, upload=upload("b.csv", csv_file(rows, header=renamed)), by=officer
    )
    columns = remembered_columns(demo_data, headers_of(again))
    assert columns["transaction_number"] == "Transaction ID"
    assert columns["amount"] == "Amount" and columns["payee"] == "Supplier (beneficiary)"
    done = import_run(import_start(spend_import=again, columns=columns, by=officer, queue=False).pk)
    assert (done.rows_imported, done.rows_duplicate) == (0, 2)
    assert Payment.objects.filter(buyer=demo_data).count() == 2


def test_the_preview_shows_the_first_rows_and_every_refused_row(demo_data, officer):
    rows = AWKWARD + [f"{d:02d}/05/2024,Acme,,{d},P" for d in range(1, 20)] + ["x,y,,z,P"]
    spend_import = import_upload(
        buyer=demo_data, upload=upload("a.csv", csv_file(rows)), by=officer
    )
    shown = preview(spend_import, suggest_columns(HEADER.strip().split(",")), n=3)
    assert [line for line, _ in shown.rows] == [2, 3, 4]
    assert shown.refused[0][0] == 7 and shown.refused[1][0] == 8
    assert shown.refused[-1][0] == len(rows) + 1
    assert len(shown.refused) == 3


# --- The command --------------------------------------------------------------------


def test_the_command_imports_and_prints_one_line(demo_data, tmp_path, capsys):
    path = tmp_path / "april.csv"
    path.write_bytes(csv_file(AWKWARD, bom=True))
    call_command("import_spend", "--buyer", "demo-council", str(path))
    out = capsys.readouterr().out.strip()
    assert out == (
        "Imported april.csv: 7 rows read, 5 new payments, 0 already held, 2 refused "
        "(first refused: line 7: The transaction date “31/04/2024” is not a real date: "
        "April 2024 has 30 days)"
    )
    call_command(
        "import_spend", "--buyer", "demo-council", str(path), "--mapping", "Our spending file"
    )
    assert "0 new payments, 5 already held" in capsys.readouterr().out


def test_the_command_reads_a_file_unlike_the_remembered_mapping_as_the_page_does(
    demo_data, officer, tmp_path, capsys
):
    """A remembered mapping whose columns this file lacks does not stop the
    command: it takes the columns the page would offer. A new mapping name
    remembers them; a named mapping the file does not fit is refused, naming
    the columns it lacks."""
    SpendMapping.objects.create(
        buyer=demo_data,
        name="Our spending file",
        columns={"transaction_date": "Service Date", "payee": "Vendor", "amount": "Net"},
        created_by=officer,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    path = tmp_path / "simple.csv"
    path.write_bytes(csv_file(["01/04/2024,Acme Ltd,T1,100.00,Highways"]))
    call_command("import_spend", "--buyer", "demo-council", str(path), "--mapping", "Simple")
    assert "1 row read, 1 new payment, 0 already held" in capsys.readouterr().out
    assert SpendMapping.objects.get(buyer=demo_data, name="Simple").columns["amount"] == "Amount"
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_spend", "--buyer", "demo-council", str(path), "--mapping", "Our spending file"
        )
    assert "the mapping 'Our spending file' reads the columns Service Date, Vendor, Net" in str(
        refused.value
    )
    call_command("import_spend", "--buyer", "demo-council", str(path))
    assert "0 new payments, 1 already held" in capsys.readouterr().out


def test_the_command_fails_with_one_line_on_a_bad_file(demo_data, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"When,Who,How much\r\n01/04/2024,Acme,1\r\n")
    with pytest.raises(CommandError) as failure:
        call_command("import_spend", "--buyer", "demo-council", str(path))
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("bad.csv: line 1: no column found for transaction date")

    path.write_bytes(csv_file(["31/31/2024,Acme,,1,P"]))
    with pytest.raises(CommandError, match=r"bad.csv: no row could be read \(line 2: "):
        call_command("import_spend", "--buyer", "demo-council", str(path))


def test_the_command_exits_non_zero(demo_data, tmp_path, capsys):
    """As run from the shell (``run_from_argv``): exit status 1 and one line."""
    from django.core.management import ManagementUtility

    path = tmp_path / "bad.csv"
    path.write_bytes(b"When,Who\r\n1,2\r\n")
    utility = ManagementUtility(
        ["manage.py", "import_spend", "--buyer", "no-such-council", str(path)]
    )
    with pytest.raises(SystemExit) as exited:
        utility.execute()
    assert exited.value.code == 1
    assert (
        capsys.readouterr().err.strip().splitlines()[-1].endswith("No council 'no-such-council'.")
    )


# --- The pages ----------------------------------------------------------------------


def test_upload_columns_preview_and_progress_pages(client, demo_data, officer, monkeypatch):
    sent = []
    monkeypatch.setattr(imports, "enqueue", sent.append)
    client.force_login(officer)
    assert "Spending" in client.get(reverse("ledger:imports")).content.decode()
    response = client.post(
        reverse("ledger:import_new"), {"file": upload("april.csv", csv_file(AWKWARD))}
    )
    spend_import = SpendImport.objects.filter(buyer=demo_data).first()
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:import_columns", args=[spend_import.pk])

    page = client.get(response["Location"]).content.decode()
    assert '<option value="Amount" selected>' in page
    assert '<option value="Supplier (beneficiary)" selected>' in page
    assert "31/04/2024" in page  # the refused row, with its line
    assert "Acme Cleaning Ltd" in page

    data = {f"field_{f}": h for f, h in suggest_columns(HEADER.strip().split(",")).items()}
    data["mapping_name"] = "Our spending file"
    with_capture = client.post(response["Location"], data)
    assert with_capture.status_code == 302
    spend_import.refresh_from_db()
    assert spend_import.status == ImportStatus.QUEUED
    import_run(spend_import.pk)

    progress = client.get(reverse("ledger:import_progress", args=[spend_import.pk])).json()
    assert progress["status"] == "done"
    assert (progress["rows_read"], progress["rows_imported"], progress["rows_refused"]) == (7, 5, 2)
    assert progress["percent"] == 100
    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page
    refused = client.get(reverse("ledger:import_refused", args=[spend_import.pk])).content.decode()
    assert "31/04/2024" in refused

    withdraw = client.post(
        reverse("ledger:import_withdraw", args=[spend_import.pk]), {"reason": "Wrong month"}
    )
    assert withdraw.status_code == 302
    spend_import.refresh_from_db()
    assert spend_import.status == ImportStatus.WITHDRAWN


def test_the_list_of_imports_has_a_fixed_query_count(client, demo_data, officer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(officer)
    counts = []
    for month in (MONTH_1, MONTH_2, MONTH_3):
        imported(demo_data, officer, csv_file(month))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("ledger:imports")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2]


def test_the_columns_page_refuses_a_missing_required_column(client, demo_data, officer):
    client.force_login(officer)
    spend_import = import_upload(
        buyer=demo_data, upload=upload("a.csv", csv_file(MONTH_1)), by=officer
    )
    response = client.post(
        reverse("ledger:import_columns", args=[spend_import.pk]),
        {
            "field_transaction_date": "Transaction date",
            "field_payee": "Supplier (beneficiary)",
            "mapping_name": "x",
        },
    )
    assert response.status_code == 200
    assert "Choose the column that holds the amount" in response.content.decode()
    spend_import.refresh_from_db()
    assert spend_import.status == ImportStatus.UPLOADED


def test_who_may_see_and_act(
    client, demo_data, officer, auditor, other_officer, local_supplier_user
):
    spend_import = import_upload(
        buyer=demo_data, upload=upload("a.csv", csv_file(MONTH_1)), by=officer
    )
    pages = [
        reverse("ledger:imports"),
        reverse("ledger:import_columns", args=[spend_import.pk]),
        reverse("ledger:import_progress", args=[spend_import.pk]),
        reverse("ledger:import_refused", args=[spend_import.pk]),
    ]
    client.force_login(auditor)
    assert [client.get(p).status_code for p in pages] == [200, 200, 200, 200]
    assert client.get(reverse("ledger:import_new")).status_code == 403
    assert client.get(reverse("ledger:import_withdraw", args=[spend_import.pk])).status_code == 403
    assert client.post(pages[1], {}).status_code == 403
    client.force_login(other_officer)
    assert [client.get(p).status_code for p in pages[1:]] == [404, 404, 404]
    assert client.get(pages[0]).status_code == 200
    assert "a.csv" not in client.get(pages[0]).content.decode()
    client.force_login(local_supplier_user)
    assert [client.get(p).status_code for p in pages] == [404, 404, 404, 404]


# --- The real worker ------------------------------------------------------------------


@pytest.fixture
def worker_sharing_files(transactional_db, settings, tmp_path):
    """A real worker (real Redis, the PostgreSQL test database) that reads the
    files this process stores: both in the test's own folder."""
    from tests.conftest import need
    from tests.worker import redis_problem, start_worker

    problem = redis_problem()
    need(problem is None, problem or "")
    settings.MEDIA_ROOT = tmp_path / "media"
    worker = start_worker(tmp_path, env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)})
    yield worker
    worker.stop()


def test_an_import_runs_in_a_real_worker(worker_sharing_files, demo_data, officer):
    from ledger.tasks import import_spend
    from tests.worker import wait_for

    celery_worker = worker_sharing_files
    spend_import = import_upload(
        buyer=demo_data, upload=upload("a.csv", csv_file(AWKWARD)), by=officer
    )
    import_start(
        spend_import=spend_import,
        columns=suggest_columns(HEADER.strip().split(",")),
        by=officer,
        queue=False,
    )
    import_spend.apply_async(args=[spend_import.pk], queue=celery_worker.queue)

    def done():
        spend_import.refresh_from_db()
        return spend_import.status == ImportStatus.DONE

    assert wait_for(done, timeout=60), (spend_import.error, celery_worker.output()[-3000:])
    assert (spend_import.rows_imported, spend_import.rows_refused) == (5, 2)


# --- The bulk path (ADR 15) ------------------------------------------------------------

# Every shape of value the bulk path reads apart from the row-by-row rules.
PARITY_HEADER = (
    "Date,Supplier,Number,Amount,VAT,Service,Category,CIPFA,Purpose,Supplier id,"
    "Company,Postcode\r\n"
)
PARITY_COLUMNS = {
    "transaction_date": "Date",
    "payee": "Supplier",
    "transaction_number": "Number",
    "amount": "Amount",
    "irrecoverable_vat": "VAT",
    "department": "Service",
    "category": "Category",
    "cipfa_code": "CIPFA",
    "purpose": "Purpose",
    "supplier_id": "Supplier id",
    "companies_house_number": "Company",
    "postcode": "Postcode",
}
PARITY = [
    '01/04/2024,Acme Cleaning Ltd,t-1,"£1,234.50",0.00,Parks,Cleaning,Contracts,Monthly,S1,'
    "1234567,ls1 4ap",
    "01/04/2024,  ACME CLEANING LIMITED ,T-1,1234.5,,Parks,Cleaning,Contracts,Monthly,S1,,",
    "01/04/2024,Acme Cleaning Ltd.,T-1,£1234.50,,Parks,Cleaning,Contracts,Monthly,S1,,BD1 1AA",
    "2024-04-02,Redacted Personal Data,R1,£350.00,,Care,Direct payments,Transfers,,,,",
    "02-Apr-2024,REDACTED,R2,(50.00),,Care,Direct payments,Transfers,,,,",
    '3/4/24,Café Crème,é-9,"GBP 1,000",,Leisure,Food,Supplies,Lunch\u00a0,,sc12345,',
    "45385,Bolt & Co,,12-,,Highways,Works,Contracts,,,,wf1 2bb",
    "04/04/2024,Bolt and Co Ltd,,-£12,(£1.50),Highways,Works,Contracts,,,,",
    "05/04/2024,Bolt and Co Ltd,,-£12,(£1.50),Highways,Works,Contracts,,,,",
    "05/04/2024,Bolt and Co Ltd,,-£12,(£1.50),Highways,Works,Contracts,,,,",
    "31/04/2024,Bad Date Ltd,B1,£1.00,,Parks,,,,,,",
    "06/04/2024,Nothing Ltd,B2,lots,,Parks,,,,,,",
    "07/04/2024,,B3,£1.00,,Parks,,,,,,",
    "07/04/2024,!!!,B4,£1.00,,Parks,,,,,,",
    "07/04/2024,Vat Ltd,B5,£1.00,some,Parks,,,,,,",
    ",,,,,,,,,,,",
    " , , , , , , , , , , , ",
    "08/04/2024,Big Ltd,B6,1234567890123.00,,Parks,,,,,,",
    "08/04/2024,Small Ltd,B7,.5,,Parks,,,,,,",
    "08/04/2024,Small Ltd,B8,1.500,,Parks,,,,,,",
    "09/04/2024,Spaced Ltd,B9,£ 1 000.00,,Parks,,,,,,",
    "09/04/2024,\u00a0Spaced Ltd\u00a0,B10,1\u202f000.00,,Parks,,,,,,",
    # The number and postcode come on a later row than the name.
    "10/04/2024,Late Ltd,L1,£5.00,,Parks,,,,,,",
    "11/04/2024,LATE LIMITED,L2,£6.00,,Parks,,,,,7654321,hx1 1aa",
    "12/04/2024,Late Ltd,Straße-1,£7.00,,Parks,,,,,,",
    # Refused (no such day), and kept as the file wrote it: the amount in quotes.
    '31/02/2024,Wibsey Building Services Ltd,W1,"3,000.00",0.00,Roof repair,,,,,,BD6 1JY',
]


def _ledger_of(council):
    payments = sorted(
        Payment.objects.filter(buyer=council).values_list(
            "key",
            "payee__normalised",
            "payee_name",
            "redacted",
            "transaction_date",
            "transaction_number",
            "amount",
            "irrecoverable_vat",
            "department",
            "category",
            "cipfa_code",
            "purpose",
            "supplier_id_in_file",
            "postcode",
        ),
        key=str,
    )
    payees = sorted(
        Payee.objects.filter(buyer=council).values_list(
            "normalised", "name", "companies_house_number", "postcode"
        )
    )
    return payments, payees


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", True), ("utf-8", False), ("cp1252", False)]
)
def test_the_bulk_path_and_the_row_by_row_rules_hold_the_same_ledger(
    demo_data, other_council, officer, other_officer, monkeypatch, encoding, bom
):
    if encoding == "cp1252":
        rows = [r.replace("\u202f", " ").replace("\u00a0", " ") for r in PARITY]
    else:
        rows = PARITY
    data = csv_file(rows, header=PARITY_HEADER, encoding=encoding, bom=bom)
    results = {}
    for council, person, bulk in (
        (demo_data, officer, True),
        (other_council, other_officer, False),
    ):
        Payment.objects.filter(buyer=council).delete()
        Payee.objects.filter(buyer=council).delete()
        monkeypatch.setattr(imports, "BULK", bulk)
        spend_import = imported(council, person, data, "parity.csv", columns=PARITY_COLUMNS)
        refused = list(
            RefusedRow.objects.filter(spend_import=spend_import)
            .order_by("line")
            .values_list("line", "reason", "raw")
        )
        counts = (
            spend_import.rows_read,
            spend_import.rows_imported,
            spend_import.rows_duplicate,
            spend_import.rows_refused,
            spend_import.first_date,
            spend_import.last_date,
        )
        results[bulk] = (_ledger_of(council), refused, counts)

    assert results[True] == results[False]
    (payments, payees), refused, counts = results[True]
    # Three Acmes are one payee; the identical Bolt payments on 5 April both count.
    assert counts[:4] == (24, 17, 0, 7)
    assert len(payments) == 17
    assert ("ACME CLEANING", "Acme Cleaning Ltd", "01234567", "LS1 4AP") in payees
    assert ("LATE", "Late Ltd", "07654321", "HX1 1AA") in payees
    # Line 7's date has a two-digit year (3/4/24): read as 2024 either way.
    assert [line for line, _reason, _raw in refused] == [12, 13, 14, 15, 16, 19, 27]
    # A refused row is kept with its quotes: "3,000.00" is one value.
    assert refused[-1][2] == (
        '31/02/2024,Wibsey Building Services Ltd,W1,"3,000.00",0.00,Roof repair,,,,,,BD6 1JY'
    )


# The rows the reviewer found misread, each on one line with a value for each
# header, so that PostgreSQL's bulk path reads them itself.
REVIEWED = [
    # Dates with a time after them: the date is what counts.
    "01/04/2025 00:00:00,Acme Cleaning Ltd,D1,£10.00,,Parks,,,,,,",
    "01/04/2025 00:00,Acme Cleaning Ltd,D2,£11.00,,Parks,,,,,,",
    "01/04/2025 13:45,Acme Cleaning Ltd,D3,£12.00,,Parks,,,,,,",
    "01-Apr-2025 09:30:00,Acme Cleaning Ltd,D4,£13.00,,Parks,,,,,,",
    # Two-digit years: this century's, unless that is after today.
    "01/04/99,Acme Cleaning Ltd,Y1,£14.00,,Parks,,,,,,",
    "01-Apr-25,Acme Cleaning Ltd,Y2,£15.00,,Parks,,,,,,",
    # A comma only between thousands.
    '02/04/2025,Bolt Ltd,A1,"1234,50",,Highways,,,,,,',
    '02/04/2025,Bolt Ltd,A2,"1,23",,Highways,,,,,,',
    '02/04/2025,Bolt Ltd,A3,"12,34,567",,Highways,,,,,,',
    '02/04/2025,Bolt Ltd,A4,"£12,345,678.90",,Highways,,,,,,',
    '02/04/2025,Bolt Ltd,A5,"1,234",,Highways,,,,,,',
    '02/04/2025,Bolt Ltd,A6,£5.00,"1,5",Highways,,,,,,',
    # Brackets: negative; brackets and a minus sign: refused.
    "02/04/2025,Bolt Ltd,A7,(-50),,Highways,,,,,,",
    "02/04/2025,Bolt Ltd,A8,(50),,Highways,,,,,,",
    "02/04/2025,Bolt Ltd,A9,(£50.00-),,Highways,,,,,,",
    # Redactions, and a firm whose name has a redaction's word.
    "03/04/2025,Name withheld,R1,£100.00,,Care,,,,,,",
    "03/04/2025,Private Individual,R2,£101.00,,Care,,,,,,",
    "03/04/2025,Redacted due to personal data,R3,£102.00,,Care,,,,,,",
    "03/04/2025,Personal Data - Redacted under GDPR,R4,£103.00,,Care,,,,,,",
    "03/04/2025,Personal data redacted,R5,£104.00,,Care,,,,,,",
    "03/04/2025,Individual,R6,£105.00,,Care,,,,,,",
    "03/04/2025,Private individual,R7,£106.00,,Care,,,,,,",
    "03/04/2025,Withheld Tax Advisers Ltd,R8,£107.00,,Care,,,,,,",
    # Companies House numbers as spreadsheets write them.
    "04/04/2025,Quenby Roads Ltd,C1,£20.00,,Highways,,,,,1234567.0,",
    "04/04/2025,Quenby Roads Ltd,C2,£21.00,,Highways,,,,,1234567.00,",
    "04/04/2025,Lagan Old Firm,C3,£22.00,,Highways,,,,,R0000123,",
    "04/04/2025,Half Number Ltd,C4,£23.00,,Highways,,,,,1234567.5,",
    # A name that is only a legal form; a CIC written three ways.
    "05/04/2025,Limited,N1,£30.00,,Parks,,,,,,",
    "05/04/2025,Wharfedale Meals CIC,N2,£31.00,,Care,,,,,,",
    "05/04/2025,WHARFEDALE MEALS C.I.C.,N3,£32.00,,Care,,,,,,",
    "05/04/2025,Wharfedale Meals C.I.C,N4,£33.00,,Care,,,,,,",
]


def test_the_bulk_path_and_the_row_by_row_rules_read_the_reviewed_rows_alike(
    demo_data, other_council, officer, other_officer, monkeypatch
):
    data = csv_file(REVIEWED, header=PARITY_HEADER)
    chunks = []
    real = imports._commit_chunk
    monkeypatch.setattr(imports, "_commit_chunk", lambda *a: chunks.append(1) or real(*a))
    results = {}
    for council, person, bulk in (
        (demo_data, officer, True),
        (other_council, other_officer, False),
    ):
        Payment.objects.filter(buyer=council).delete()
        Payee.objects.filter(buyer=council).delete()
        monkeypatch.setattr(imports, "BULK", bulk)
        chunks.clear()
        spend_import = imported(council, person, data, "reviewed.csv", columns=PARITY_COLUMNS)
        # On PostgreSQL the file goes by the bulk path: the comparison is of two readers.
        assert bool(chunks) == (not bulk or imports.connection.vendor != "postgresql")
        refused = list(
            RefusedRow.objects.filter(spend_import=spend_import)
            .order_by("line")
            .values_list("line", "reason")
        )
        counts = (
            spend_import.rows_read,
            spend_import.rows_imported,
            spend_import.rows_refused,
            spend_import.first_date,
            spend_import.last_date,
        )
        results[bulk] = (_ledger_of(council), refused, counts)

    assert results[True] == results[False]
    (payments, payees), refused, counts = results[True]
    assert counts == (31, 23, 8, datetime.date(2025, 4, 1), datetime.date(2025, 4, 5))
    amounts = {number: amount for _key, _p, _n, _r, _d, number, amount, *_ in payments}
    assert amounts["Y2"] == D("15.00")  # "01-Apr-25": this century's, being past
    assert [amounts[n] for n in ("D1", "D2", "D3", "D4")] == [
        D("10.00"),
        D("11.00"),
        D("12.00"),
        D("13.00"),
    ]
    assert (amounts["A4"], amounts["A5"], amounts["A8"]) == (
        D("12345678.90"),
        D("1234.00"),
        D("-50.00"),
    )
    redacted = {number for _key, _p, _n, was_redacted, _d, number, *_ in payments if was_redacted}
    assert redacted == {"R1", "R2", "R3", "R4", "R5", "R6", "R7"}
    assert [p[:3] for p in payees] == [
        ("ACME CLEANING", "Acme Cleaning Ltd", ""),
        ("BOLT", "Bolt Ltd", ""),
        ("HALF NUMBER", "Half Number Ltd", ""),
        ("LAGAN OLD FIRM", "Lagan Old Firm", "R0000123"),
        ("QUENBY ROADS", "Quenby Roads Ltd", "01234567"),
        ("WHARFEDALE MEALS", "Wharfedale Meals CIC", ""),
        ("WITHHELD TAX ADVISERS", "Withheld Tax Advisers Ltd", ""),
    ]
    assert [(line, reason.split("”")[-1].strip()) for line, reason in refused] == [
        (6, TWO_DIGITS_AHEAD),
        (8, DECIMAL_COMMA),
        (9, DECIMAL_COMMA),
        (10, COMMA_MISPLACED),
        (13, DECIMAL_COMMA),
        (14, BRACKETS_AND_MINUS),
        (16, BRACKETS_AND_MINUS),
        (29, "is only a legal form, such as Ltd or PLC: it does not say who was paid"),
    ]


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1234,50", None),
        ("1,23", None),
        ("12,34,567", None),
        ("1,2345", None),
        ("1234,567.00", None),
        ("1234567890123", None),
        ("1,234", D("1234.00")),
        ("12,345,678.90", D("12345678.90")),
        ("1,234,567,890", D("1234567890.00")),
        ("-£1,234.50", D("-1234.50")),
        ("£1234.5", D("1234.50")),
        ("123456789012", D("123456789012.00")),
    ],
)
def test_an_amount_the_bulk_path_reads_in_sql_the_rules_read_alike(text, amount):
    """The bulk path casts an amount matching its plain pattern in SQL (the
    pound sign and commas away); any other it hands to ``parse_amount``. So
    the pattern matches no amount the rules refuse, and each it matches is
    cast to what the rules read."""
    from ledger.services import bulk

    assert spendfile.parse_amount(text) == amount
    if re.fullmatch(bulk._PLAIN_AMOUNT.strip("^$"), text):
        assert amount == Decimal(text.replace("£", "").replace(",", ""))


def test_a_plain_csv_goes_by_the_bulk_path_on_postgresql(demo_data, officer, monkeypatch):
    chunks = []
    real = imports._commit_chunk
    monkeypatch.setattr(imports, "_commit_chunk", lambda *a: chunks.append(1) or real(*a))
    settings, during = _run_settings(), []
    monkeypatch.setattr(imports, "_after_chunk", lambda *a: during.append(_run_settings()))
    spend_import = imported(demo_data, officer, csv_file(AWKWARD))
    assert (spend_import.rows_imported, spend_import.rows_refused) == (5, 2)
    # PostgreSQL reads the file itself; the embedded SQLite default, row by row.
    assert bool(chunks) == (imports.connection.vendor != "postgresql")
    if imports.connection.vendor == "postgresql":
        # Both cores and a quarter of a gigabyte while the file is read …
        assert during == [["0", "0", str(256 * 1024)]]
    # … and the settings end with it: the worker's connection serves the next
    # task with the server's own.
    assert _run_settings() == settings


def _run_settings() -> list[str]:
    """The connection's values of the settings the bulk path sets, by name."""
    from ledger.services import bulk

    if imports.connection.vendor != "postgresql":
        return []
    with imports.connection.cursor() as cursor:
        cursor.execute(
            "SELECT setting FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
            [sorted(bulk._RUN_SETTINGS)],
        )
        return [value for (value,) in cursor.fetchall()]


@pytest.mark.parametrize(
    "rows",
    [
        ['01/04/2024,"Acme\r\nCleaning",T1,£1.00,Parks', "02/04/2024,Bolt,T2,£2.00,Parks"],
        ["01/04/2024,Acme,T1,£1.00,Parks,extra", "02/04/2024,Bolt,T2,£2.00,Parks"],
        ["01/04/2024,Acme,T1,£1.00", "02/04/2024,Bolt,T2,£2.00,Parks"],
        ["01/04/2024,Acme,T1,£1.00,Parks", "", "02/04/2024,Bolt,T2,£2.00,Parks"],
        ['01/04/2024,Acme "Quoted" Ltd,T1,£1.00,Parks', "02/04/2024,Bolt,T2,£2.00,Parks"],
        ['01/04/2024,Acme,T1,£1.00,Monitor 24"" wide', "02/04/2024,Bolt,T2,£2.00,Parks"],
        ['01/04/2024,Acme,T1,1""000.00,Parks', "02/04/2024,Bolt,T2,£2.00,Parks"],
        ['01/04/2024,Acme,T1,£1.00,Monitor 24",27"', "02/04/2024,Bolt,T2,£2.00,Parks"],
        ['01/04/2024,"Acme\rCleaning",T1,£1.00,Parks', "02/04/2024,Bolt,T2,£2.00,x", "bad"],
    ],
    ids=[
        "line break in a value",
        "a value too many",
        "a value too few",
        "blank line",
        "quote",
        "doubled quote unquoted",
        "doubled quote in an amount",
        "quote before a comma",
        "lone CR",
    ],
)
def test_a_file_the_bulk_path_cannot_read_exactly_is_read_row_by_row(demo_data, officer, rows):
    spend_import = imported(demo_data, officer, csv_file(rows))
    expected = read_rows(csv_file(rows))
    assert spend_import.status == ImportStatus.DONE
    assert spend_import.rows_imported == sum(isinstance(r, ParsedRow) for _l, r in expected)
    assert spend_import.rows_read == len(expected)
    names = set(
        Payment.objects.filter(first_import=spend_import).values_list("payee_name", flat=True)
    )
    assert names == {r.payee_name for _l, r in expected if isinstance(r, ParsedRow)}


def test_no_payment_points_at_a_payee_or_import_that_is_not_there(demo_data, officer, read_by):
    imported(demo_data, officer, csv_file(MONTH_1 + MONTH_2), "apr-may.csv")
    second = imported(demo_data, officer, csv_file(MONTH_2 + MONTH_3), "may-jun.csv")
    import_withdraw(spend_import=second, by=officer, reason="Again")
    payments = Payment.objects.filter(buyer=demo_data)
    assert not payments.exclude(payee=None).filter(payee__isnull=True).exists()
    assert not payments.filter(first_import__isnull=True).exists()
    assert set(payments.values_list("payee_id", flat=True)) - {None} <= set(
        Payee.objects.values_list("pk", flat=True)
    )
    assert set(payments.values_list("first_import_id", flat=True)) <= set(
        SpendImport.objects.exclude(status=ImportStatus.WITHDRAWN).values_list("pk", flat=True)
    )


def test_the_import_benchmark_reports_its_ratio_and_leaves_nothing_behind(db, capsys):
    import json

    from django.db import connection

    from tests.conftest import need

    need(connection.vendor == "postgresql", "the import benchmark measures PostgreSQL's COPY")
    call_command("bench", "spend_import", "--rows", "3000")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["rows"] == 3000 and result["status"] == "done"
    assert result["payments"] + result["refused"] == 3000
    assert result["reimport_added"] == 0
    assert {"rows_per_s", "copy_rows_per_s", "ratio", "ratio_logged"} <= set(result)
    bench_council = BuyerOrganisation.objects.get(slug="bench-spend-import")
    assert not Payment.objects.filter(buyer=bench_council).exists()
    assert not SpendImport.objects.filter(buyer=bench_council).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'ledger\\_bulk%%'")
        assert cursor.fetchone()[0] == 0


def test_the_floors_benchmark_reports_each_part_against_the_copy_and_leaves_nothing(db, capsys):
    import json

    from django.db import connection

    from tests.conftest import need

    need(connection.vendor == "postgresql", "the floors benchmark measures PostgreSQL's COPY")
    call_command("bench", "spend_floors", "--rows", "3000")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["rows"] == 3000
    writes = [
        "write_as_is_s",
        "write_narrow_s",
        "write_then_index_s",
        "write_narrow_then_index_s",
    ]
    parts = ["copy_s", "stage_s", "minimal_parse_s", *writes]
    assert all(result[name] > 0 for name in parts)
    floor = result["stage_s"] + result["minimal_parse_s"] + min(result[w] for w in writes)
    # (each figure is reported to the microsecond; the ratio to three places)
    assert result["floor_s"] == pytest.approx(floor, abs=0.00001)
    assert result["best_ratio"] == pytest.approx(result["copy_s"] / floor, abs=0.001)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'bench\\_floor%%'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] != "256MB"


def test_the_key_reads_a_transaction_number_in_capitals_as_python_writes_them():
    assert spendfile.key_number(" é-9 ") == "É-9"
    assert spendfile.key_number("straße-1") == "STRASSE-1"


def test_a_file_of_more_columns_than_a_table_holds_is_read_row_by_row(demo_data, officer):
    header = HEADER.strip() + "".join(f",Extra {i}" for i in range(1700)) + "\r\n"
    rows = [r + "," * 1700 for r in MONTH_1]
    spend_import = imported(demo_data, officer, csv_file(rows, header=header))
    assert spend_import.status == ImportStatus.DONE
    assert spend_import.rows_imported == 2


def test_a_value_longer_than_the_csv_reader_reads_fails_the_import_either_way(
    demo_data, officer, read_by
):
    rows = ["01/04/2024,Acme,T1,£1.00," + "x" * 140_000]
    spend_import = imported(demo_data, officer, csv_file(rows))
    assert spend_import.status == ImportStatus.FAILED
    assert "cannot be read" in spend_import.error
