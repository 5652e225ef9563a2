"""What an independent review of the ledger found (issue 18), each held by a
test of the behaviour as it now is."""

from __future__ import annotations

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from ledger.models import ImportStatus, Payee, SpendImport
from ledger.services.imports import import_run, import_start, import_upload, import_withdraw
from ledger.spendfile import ImportRefused, read_table, suggest_columns
from tests.two_factor_helpers import verified_force_login

pytestmark = pytest.mark.django_db

HEADER = (
    "Transaction date,Supplier (beneficiary),Transaction number,Amount,Department,"
    "Company number,Procurement category\r\n"
)
XLSX_COLUMNS = {"transaction_date": "Transaction date", "payee": "Supplier", "amount": "Amount"}


def _csv(rows, header=HEADER):
    return (header + "".join(r + "\r\n" for r in rows)).encode()


def _import(buyer, officer, data, name="s.csv"):
    spend = import_upload(
        buyer=buyer, upload=SimpleUploadedFile(name, data, "text/csv"), by=officer
    )
    columns = suggest_columns(read_table(io.BytesIO(data), name).headers)
    import_start(spend_import=spend, columns=columns, by=officer, queue=False)
    return spend


def _xlsx(rows, *, replace=()) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Transaction date", "Supplier", "Amount"])
    for row in rows:
        sheet.append(row)
    written = io.BytesIO()
    book.save(written)
    source = zipfile.ZipFile(io.BytesIO(written.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                for old, new in replace:
                    data = data.replace(old, new)
            archive.writestr(item, data)
    return out.getvalue()


def _run_xlsx(buyer, officer, data):
    spend = import_upload(buyer=buyer, upload=SimpleUploadedFile("s.xlsx", data), by=officer)
    import_start(spend_import=spend, columns=XLSX_COLUMNS, by=officer, queue=False)
    return import_run(spend.pk)


def test_a_payee_name_longer_than_a_name_can_be_is_held_cut_and_the_import_finishes(
    demo_data, officer
):
    name = "A & " * 100  # 400 characters; "A AND A AND …" normalised
    spend = _import(demo_data, officer, _csv([f"01/05/2025,{name},T1,10.00,X,,"]))
    spend = import_run(spend.pk)
    assert spend.status == ImportStatus.DONE and spend.rows_imported == 1
    assert len(Payee.objects.get(buyer=demo_data, name__startswith="A & A").normalised) <= 300


def test_excel_amounts_stored_with_their_binary_tail_are_read_as_written(demo_data, officer):
    data = _xlsx(
        [[datetime.date(2025, 5, 1), "Acme Ltd", 300.3], [datetime.date(2025, 5, 2), "Acme", 0.3]],
        replace=[
            (b"<v>300.3</v>", b"<v>300.29999999999995</v>"),
            (b"<v>0.3</v>", b"<v>0.30000000000000004</v>"),
        ],
    )
    spend = _run_xlsx(demo_data, officer, data)
    assert (spend.rows_imported, spend.rows_refused) == (2, 0)


def test_a_sheet_that_declares_fewer_rows_than_it_has_is_read_whole(demo_data, officer):
    rows = [[datetime.date(2025, 5, 1 + i), f"Dim Supplier {i}", 10] for i in range(5)]
    data = _xlsx(rows, replace=[(b'<dimension ref="A1:C6"', b'<dimension ref="A1:C2"')])
    spend = _run_xlsx(demo_data, officer, data)
    assert spend.status == ImportStatus.DONE and spend.rows_imported == 5


def test_one_stray_windows_byte_in_a_utf8_file_changes_nothing_else(demo_data, officer):
    clean = _csv(["01/05/2025,Sainsbury’s Supermarkets Ltd,,£10.00,X,,"])
    first = import_run(_import(demo_data, officer, clean, name="a.csv").pk)
    mixed = clean + "02/05/2025,Caf\xe9 Ltd,,10.00,X,,\r\n".encode("cp1252")
    second = import_run(_import(demo_data, officer, mixed, name="b.csv").pk)
    assert (first.rows_imported, second.rows_imported, second.rows_duplicate) == (1, 1, 1)
    assert second.rows_refused == 0
    names = set(Payee.objects.filter(buyer=demo_data).values_list("name", flat=True))
    assert {"Sainsbury’s Supermarkets Ltd", "Café Ltd"} <= names


def test_two_payments_whose_numbers_differ_only_in_case_both_count(demo_data, officer):
    rows = ["01/05/2025,Acme Ltd,inv1,10.00,X,,", "01/05/2025,Acme Ltd,INV1,10.00,X,,"]
    spend = import_run(_import(demo_data, officer, _csv(rows)).pk)
    # The key reads the number in capitals; the 1st and 2nd of one combination.
    assert (spend.rows_imported, spend.rows_duplicate) == (2, 0)


def test_an_import_is_not_withdrawn_while_another_of_the_council_runs(demo_data, officer):
    rows = ["01/05/2025,Race Ltd,R1,10.00,X,,"]
    first = import_run(_import(demo_data, officer, _csv(rows), name="a.csv").pk)
    second = _import(demo_data, officer, _csv(rows), name="b.csv")
    SpendImport.objects.filter(pk=second.pk).update(status=ImportStatus.RUNNING)
    with pytest.raises(ImportRefused, match="Another spending file is being imported"):
        import_withdraw(spend_import=first, by=officer, reason="Wrong file.")


def test_a_file_the_preview_cannot_read_says_so_without_a_server_error(demo_data, officer):
    big = "x" * 200_000
    data = _csv(["01/05/2025,Acme Ltd,T1,10.00,X,,", f'01/05/2025,Acme Ltd,T2,10.00,"{big}",,'])
    spend = import_upload(
        buyer=demo_data, upload=SimpleUploadedFile("s.csv", data, "text/csv"), by=officer
    )
    client = verified_force_login(Client())
    client.force_login(officer)
    client.raise_request_exception = False
    response = client.get(reverse("ledger:import_columns", args=[spend.pk]))
    assert response.status_code == 200
    assert "cannot be read" in response.content.decode()


def test_a_withdrawn_import_names_who_withdrew_it(demo_data, officer):
    """The import's page said "Uploaded … by Priya Shah" and "Withdrawn … by
    officer@demo-council.example": people by name, as everywhere else."""
    rows = ["01/05/2025,Named Ltd,N1,10.00,X,,"]
    spend = import_run(_import(demo_data, officer, _csv(rows), name="n.csv").pk)
    import_withdraw(spend_import=spend, by=officer, reason="Wrong file.")
    client = verified_force_login(Client())
    client.force_login(officer)
    page = client.get(reverse("ledger:import_columns", args=[spend.pk])).content.decode()
    assert f"by {officer.full_name}: Wrong file." in page
    assert f"by {officer.email}" not in page
