"""Hostile uploads: files that are not what their names say, empty, truncated or
too big, and names built to escape a folder, hide an extension or run on a
server. Checked directly (portal.uploads.check_upload and store) and through
the real pages (an officer's document, a supplier's bid file), with the
downloads that serve what was accepted."""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import (
    InMemoryUploadedFile,
    SimpleUploadedFile,
    UploadedFile,
)
from django.core.files.uploadhandler import FileUploadHandler, MemoryFileUploadHandler
from django.http.multipartparser import MultiPartParser
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st

from portal import uploads
from tenders.models import BidFile, Opportunity, OpportunityDocument
from tenders.services import (
    DECLARATIONS,
    bid_save_draft,
    bid_start,
    bid_submit,
    box_open,
    invite,
    opportunity_publish,
)
from tests.tenders_helpers import make_opportunity
from tests.two_factor_helpers import verified_force_login

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
LIMIT_MB = uploads.MAX_BYTES // (1024 * 1024)
# What a server could run or a browser could render as a page, if served as-is.
EXECUTABLE = re.compile(
    r"\.(php\d?|phtml|html?|xhtml|svg|js|mjs|exe|bat|cmd|sh|cgi|pl|py|asp|aspx|jsp)$", re.I
)
SAFE_TYPES = {content_type for content_type, _ in uploads.KINDS.values()}
pytestmark = pytest.mark.django_db

STORED_NAME = re.compile(r"^[0-9a-f]{16}-\d{20}(_[A-Za-z0-9]{7})?$")


def member(name: str, compression: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    """A zip member with a fixed date: the same bytes in every process, so the
    tests' parameters (their ids) are the same in each worker of ``make test``."""
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = compression
    return info


def docx() -> bytes:
    """A minimal, real Word document (a zip with [Content_Types].xml)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member("[Content_Types].xml"), '<?xml version="1.0"?><Types/>' * 20)
        archive.writestr(member("word/document.xml"), "<w:document>" + "Method statement. " * 200)
    return buffer.getvalue()


def zip_of(name: str = "notes.txt") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member(name, zipfile.ZIP_STORED), "hello")
    return buffer.getvalue()


DOCX = docx()

# (name, content, the start of the message)
MALFORMED = [
    ("specification.pdf", b"MZ\x90\x00 an executable, not a PDF", "is not a real PDF file"),
    ("specification.pdf", b"<html><script>alert(1)</script>", "is not a real PDF file"),
    ("archive.zip", PNG + zip_of(), "The selected file must be a PDF"),
    ("picture.docx", PNG + zip_of(), "is not a real DOCX file"),
    ("notes.docx", zip_of(), "is not a real DOCX file"),  # a zip, but not a Word file
    ("method.docx", DOCX[: len(DOCX) // 2], "is not a real DOCX file"),  # truncated
    ("method.docx", DOCX[:30], "is not a real DOCX file"),
    ("photo.png", b"GIF89a not a png", "is not a real PNG file"),
    ("photo.jpg", PNG, "is not a real JPG file"),
    ("prices.csv", b"a,b\x00c", "is not a real CSV file"),
    ("empty.pdf", b"", "is empty"),
]

# (uploaded name, the name kept and shown, or None when the type is refused)
HOSTILE_NAMES = [
    ("../../etc/passwd", None),
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\windows\\win.ini.pdf", "win.ini.pdf"),
    ("a\x00b.pdf", "ab.pdf"),
    ("a\x00.php", None),
    ("dir/sub/report.pdf", "report.pdf"),
    ("C:\\Users\\me\\report.pdf", "report.pdf"),
    ("a" * 496 + ".pdf", "a" * 146 + ".pdf"),
    ("invoice\u202efdp.exe", None),  # shows as "invoiceexe.pdf"
    ("invoice\u202efdp.pdf", "invoicefdp.pdf"),
    ("shell.php", None),
    ("shell.php.pdf", "shell.php.pdf"),
    ("shell.pdf.php", None),
    ("page.html", None),
    ("page.htm", None),
    ("image.svg", None),
    ("setup.exe", None),
    ("con.pdf", "con.pdf"),
    (".htaccess", None),
    ("...pdf", None),
    (".hidden.pdf", "hidden.pdf"),
    ('quote".pdf', "quote_.pdf"),
    ("new\r\nline.pdf", "newline.pdf"),
    ("<script>alert(1)<%2Fscript>.pdf", "_script_alert(1)_2Fscript_.pdf"),
    ("ｒｅｐｏｒｔ．ｐｄｆ", "report.pdf"),  # full-width letters, normalised
    # The punctuation people name documents with is kept (it was "_ final _5m"):
    ("Insurance cert (2026) – final £5m.pdf", "Insurance cert (2026) – final £5m.pdf"),
    ("Smith & Sons, quote #2 [v3] + CVs!.pdf", "Smith & Sons, quote #2 [v3] + CVs!.pdf"),
    # and what means something to a path, a header or a URL is not.
    ("O'Brien a;b%20c.pdf", "O'Brien a_b_20c.pdf"),
]


class HugeUpload(UploadedFile):
    """An upload that says it is 10 GB (nothing is read before the size check)."""

    def __init__(self, name: str, size: int) -> None:
        super().__init__(io.BytesIO(b"%PDF-"), name=name, size=size)


# --- check_upload and store, directly --------------------------------------------------------


@pytest.mark.parametrize(("name", "content", "message"), MALFORMED)
def test_a_malformed_file_is_refused_with_a_clear_message(name, content, message):
    with pytest.raises(ValidationError) as refused:
        uploads.check_upload(SimpleUploadedFile(name, content))
    (text,) = refused.value.messages
    assert message in text
    assert text.startswith("The selected file")


def test_a_real_file_of_each_kind_passes():
    for name, content in [
        ("a.pdf", PDF),
        ("a.docx", DOCX),
        ("a.png", PNG),
        ("a.jpg", b"\xff\xd8\xff\xe0 jpeg"),
        ("a.csv", b"Item,Price\nCleaning,3900.00\n"),
        ("a.txt", "Caf\u00e9 ok".encode()),
    ]:
        checked = uploads.check_upload(SimpleUploadedFile(name, content))
        assert checked.content_type == uploads.KINDS[name.rsplit(".")[-1]][0]
        assert checked.size == len(content)


@pytest.mark.parametrize(
    ("size", "refused"),
    [
        (uploads.MAX_BYTES, False),
        (uploads.MAX_BYTES + 1, True),
        (10 * 1024**3, True),  # way over: 10 GB
    ],
)
def test_the_size_limit(size, refused):
    upload = HugeUpload("big.pdf", size)
    if refused:
        with pytest.raises(ValidationError, match=f"must be smaller than {LIMIT_MB} MB"):
            uploads.check_upload(upload)
    else:
        assert uploads.check_upload(upload).size == size


@pytest.mark.parametrize(("name", "kept"), HOSTILE_NAMES)
def test_a_hostile_name_is_refused_or_made_safe(name, kept):
    upload = SimpleUploadedFile("x.pdf", PDF)
    upload.name = name  # as a multipart parser might hand it over, unsanitised
    if kept is None:
        with pytest.raises(ValidationError, match="The selected file must be a PDF"):
            uploads.check_upload(upload)
        return
    checked = uploads.check_upload(upload)
    assert checked.name == kept
    assert_safe_display_name(checked.name)


def assert_safe_display_name(name: str) -> None:
    assert "/" not in name and "\\" not in name and ".." not in name
    assert all(ch.isprintable() for ch in name)
    assert "\u202e" not in name and '"' not in name and "<" not in name
    assert not name.startswith(".") and len(name) <= 150
    assert not EXECUTABLE.search(name)


@settings(max_examples=50, deadline=None)
@given(
    extension=st.sampled_from(sorted(uploads.KINDS)),
    data=st.data(),
)
@example(extension="docx", data=None)
def test_no_bytes_make_the_check_fail_other_than_by_refusing(extension, data):
    """Real office files cut short, bit-flipped or random: refused or accepted,
    never an exception (a corrupt zip raises more than BadZipFile)."""
    if data is None:
        content = DOCX[:-22]  # the end-of-archive record cut off
    else:
        base = data.draw(st.sampled_from([DOCX, zip_of("mimetype"), PDF, PNG, b""]))
        cut = data.draw(st.integers(0, len(base)))
        flips = data.draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255))))
        content = bytearray(base[:cut] if data.draw(st.booleans()) else base)
        for at, value in flips:
            if content:
                content[at % len(content)] = value
        content = bytes(content) + data.draw(st.binary(max_size=200))
    try:
        checked = uploads.check_upload(SimpleUploadedFile(f"file.{extension}", content))
    except ValidationError as error:
        assert error.messages[0].startswith("The selected file")
    else:
        assert checked.content_type in SAFE_TYPES


def test_store_writes_under_a_generated_name_in_private_storage(officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    opportunity = make_opportunity(officer, "5000.00")
    upload = SimpleUploadedFile("x.pdf", PDF)
    upload.name = "../../static/evil.php.pdf"
    checked = uploads.check_upload(upload)
    document = uploads.store(
        OpportunityDocument(opportunity=opportunity), upload, checked, by=officer
    )
    stored = Path(document.file.path)
    assert_stored_safely(stored, settings.MEDIA_ROOT)
    assert document.original_name == "evil.php.pdf"
    assert stored.read_bytes() == PDF


def assert_stored_safely(stored: Path, media_root: Path) -> None:
    media = Path(media_root).resolve()
    assert stored.resolve().is_relative_to(media)
    assert STORED_NAME.match(stored.name), stored.name
    assert "." not in stored.name  # no extension for a server to act on
    statics = [Path(p).resolve() for p in django_settings.STATICFILES_DIRS]
    if django_settings.STATIC_ROOT:
        statics.append(Path(django_settings.STATIC_ROOT).resolve())
    for static in statics:
        assert not stored.resolve().is_relative_to(static)


def test_private_media_is_never_inside_the_static_files():
    media = Path(django_settings.MEDIA_ROOT).resolve()
    for static in [*django_settings.STATICFILES_DIRS, django_settings.STATIC_ROOT]:
        if static:
            assert not media.is_relative_to(Path(static).resolve())
            assert not Path(static).resolve().is_relative_to(media)


# --- Through the pages --------------------------------------------------------------------------

BOUNDARY = "----hostile-boundary"


def multipart(fields: dict[str, str], file_field: str, name: str, content: bytes) -> bytes:
    """A multipart body with the file name exactly as given (the test client
    would strip the folders itself)."""
    parts = []
    for key, value in fields.items():
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    # Quotes and line breaks escaped as browsers do; backslashes sent as they are.
    quoted = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{quoted}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def post_file(client: Client, url: str, name: str, content: bytes, **fields: str):
    return client.post(
        url,
        data=multipart(fields, "file", name, content),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def error_summary(response) -> str:
    page = response.content.decode()
    match = re.search(r'<div class="govuk-error-summary".*?</div>\s*</div>', page, re.S)
    assert match, "no GOV.UK error summary on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def files_under(root: Path) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def published(officer, local_supplier_user, in_process_tasks) -> Opportunity:
    opportunity = make_opportunity(officer, "5000.00")
    invite(opportunity=opportunity, suppliers=[local_supplier_user.supplier], by=officer)
    return opportunity_publish(opportunity=opportunity, by=officer)


@pytest.fixture
def officer_client(officer) -> Client:
    client = verified_force_login(Client())  # past the second step
    client.force_login(officer)
    return client


@pytest.fixture
def supplier_client(local_supplier_user) -> Client:
    client = Client()
    client.force_login(local_supplier_user)
    return client


def document_url(opportunity) -> str:
    return reverse("tenders:opportunity_document_add", args=[opportunity.pk])


def bid_url(opportunity) -> str:
    return reverse("tenders:supplier_bid", args=[opportunity.pk, opportunity.lots.get().pk])


def refused_on_both_pages(officer_client, supplier_client, published, media, name, content):
    """The same file through both pages: refused, said, nothing stored. The
    messages of both pages, officer's first."""
    said = []
    response = post_file(officer_client, document_url(published), name, content)
    assert response.status_code == 200
    said.append(error_summary(response))
    assert 'href="#id_file"' in response.content.decode()
    response = post_file(
        supplier_client, bid_url(published), name, content, price="4500", save="Save draft"
    )
    assert response.status_code == 200
    said.append(error_summary(response))
    # What was typed is kept; the file is not.
    assert 'value="4500' in response.content.decode()
    assert not OpportunityDocument.objects.exists()
    assert not BidFile.objects.exists()
    assert files_under(media) == []
    return said


@pytest.mark.parametrize(("name", "content", "message"), MALFORMED)
def test_a_malformed_file_is_refused_on_both_pages(
    officer_client, supplier_client, published, media, name, content, message
):
    said = refused_on_both_pages(officer_client, supplier_client, published, media, name, content)
    for text in said:
        assert message in text


@pytest.mark.parametrize(
    ("size", "words"),
    [
        (uploads.MAX_BYTES + 1, "just over"),
        (3 * uploads.MAX_BYTES, "way over"),
    ],
)
def test_an_oversized_file_is_refused_on_both_pages(
    officer_client, supplier_client, published, media, size, words
):
    content = b"%PDF-1.4 " + b"0" * (size - 9)
    said = refused_on_both_pages(
        officer_client, supplier_client, published, media, "big.pdf", content
    )
    for text in said:
        assert f"The selected file must be smaller than {LIMIT_MB} MB" in text, words


@pytest.mark.parametrize(("name", "kept"), HOSTILE_NAMES)
def test_a_hostile_name_through_both_pages(
    officer_client, supplier_client, published, media, name, kept
):
    if kept is None:
        for text in refused_on_both_pages(
            officer_client, supplier_client, published, media, name, PDF
        ):
            assert "must be a PDF" in text or "Choose a file" in text
        return
    response = post_file(officer_client, document_url(published), name, PDF)
    assert response.status_code == 302
    response = post_file(
        supplier_client, bid_url(published), name, PDF, price="4500", save="Save draft"
    )
    assert response.status_code == 302
    for record in [OpportunityDocument.objects.get(), BidFile.objects.get()]:
        # Django's own parser has already taken off folders and control
        # characters, so the name kept may differ from check_upload's alone.
        assert record.original_name.endswith(".pdf")
        assert_safe_display_name(record.original_name)
        assert_stored_safely(Path(record.file.path), media)
    assert len(files_under(media)) == 2


def test_a_huge_upload_is_not_kept_past_the_limit():
    """The first upload handler passes on no more than the limit (and a chunk):
    the rest of a huge file is read and dropped, never written to disk."""

    class Recording(FileUploadHandler):
        got = 0

        def receive_data_chunk(self, raw_data, start):
            Recording.got += len(raw_data)
            return None

        def file_complete(self, file_size):
            return SimpleUploadedFile(self.file_name, b"kept")

    content = b"%PDF-1.4 " + b"0" * (3 * uploads.MAX_BYTES)
    body = multipart({"price": "1"}, "file", "huge.pdf", content)
    meta = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(len(body)),
    }
    handlers = [uploads.SizeCappedUploadHandler(), Recording()]
    post, files = MultiPartParser(meta, io.BytesIO(body), handlers).parse()
    assert post["price"] == "1"
    upload = files["file"]
    assert isinstance(upload, uploads.OversizedUpload) and upload.size == len(content)
    assert upload.read() == b""
    assert Recording.got <= uploads.MAX_BYTES + 64 * 1024
    with pytest.raises(ValidationError, match=f"must be smaller than {LIMIT_MB} MB"):
        uploads.check_upload(upload)


def test_a_file_within_the_limit_goes_to_djangos_own_handlers():
    body = multipart({}, "file", "method.pdf", PDF)
    meta = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(len(body)),
    }
    handlers = [uploads.SizeCappedUploadHandler(), MemoryFileUploadHandler()]
    _, files = MultiPartParser(meta, io.BytesIO(body), handlers).parse()
    assert type(files["file"]) is InMemoryUploadedFile
    assert files["file"].read() == PDF


# --- Downloads ----------------------------------------------------------------------------------


def assert_served_safely(response, name: str, content_type: str) -> None:
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == content_type
    assert content_type in SAFE_TYPES
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition and "\n" not in disposition
    assert name in disposition or "filename*=utf-8''" in disposition
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("<script>.pdf", PDF, "application/pdf"),
        ("invoice\u202efdp.pdf", PDF, "application/pdf"),
        ("page.html.txt", b"<html><script>alert(1)</script></html>", "text/plain"),
        ("prices.csv", b'=HYPERLINK("http://x")\n', "text/csv"),
        ("café menu.png", PNG, "image/png"),
    ],
)
def test_every_download_is_an_attachment_with_nosniff_and_a_safe_type(
    officer,
    second_officer,
    officer_client,
    supplier_client,
    local_supplier_user,
    published,
    media,
    name,
    content,
    content_type,
):
    # The officer's document, downloaded by an invited supplier.
    assert post_file(officer_client, document_url(published), name, content).status_code == 302
    document = OpportunityDocument.objects.get()
    response = supplier_client.get(
        reverse("tenders:opportunity_document", args=[published.pk, document.pk])
    )
    assert_served_safely(response, document.original_name, content_type)
    assert b"".join(response.streaming_content) == content

    # The supplier's own bid file, downloaded by the supplier.
    assert (
        post_file(
            supplier_client, bid_url(published), name, content, price="4500", save="Save draft"
        ).status_code
        == 302
    )
    bid_file = BidFile.objects.get()
    lot = published.lots.get()
    response = supplier_client.get(
        reverse("tenders:supplier_bid_file", args=[published.pk, lot.pk, bid_file.pk])
    )
    assert_served_safely(response, bid_file.original_name, content_type)

    # The same file once the bid is submitted and the box opened, by the council.
    bid = bid_start(lot=lot, by=local_supplier_user)
    bid_save_draft(
        bid=bid,
        by=local_supplier_user,
        price=Decimal("4500"),
        declarations=dict.fromkeys(DECLARATIONS, True),
    )
    bid_submit(bid=bid, by=local_supplier_user)
    past = timezone.now() - datetime.timedelta(minutes=1)
    Opportunity.objects.filter(pk=published.pk).update(
        clarification_deadline=past - datetime.timedelta(days=1), submission_deadline=past
    )
    box_open(opportunity=published, by=officer)
    box_open(opportunity=published, by=second_officer)
    submitted = BidFile.objects.get(revision__isnull=False)
    response = officer_client.get(
        reverse("tenders:bid_file", args=[published.pk, bid.pk, submitted.pk])
    )
    assert_served_safely(response, submitted.original_name, content_type)
