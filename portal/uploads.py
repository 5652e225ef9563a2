"""Checking uploaded files: size, type by content (not only by name), safe names.

Used for opportunity documents and bid files. A file passes only when its
bytes are what its name says; the stored name is never the uploaded one.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

if TYPE_CHECKING:
    from portal.models import StoredFile, User

# Any kind of stored file (``portal.models.StoredFile``): an opportunity's document, a bid's file.
Stored = TypeVar("Stored", bound="StoredFile")

MAX_BYTES = 25 * 1024 * 1024
MAX_UNZIPPED = 200 * 1024 * 1024  # an office file that inflates past this is refused

# extension -> (content type, how to recognise it)
KINDS: dict[str, tuple[str, str]] = {
    "pdf": ("application/pdf", "pdf"),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "ooxml",
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "ooxml"),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "ooxml",
    ),
    "odt": ("application/vnd.oasis.opendocument.text", "odf"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "odf"),
    "png": ("image/png", "png"),
    "jpg": ("image/jpeg", "jpeg"),
    "jpeg": ("image/jpeg", "jpeg"),
    "csv": ("text/csv", "text"),
    "txt": ("text/plain", "text"),
}
ALLOWED_WORDS = (
    "PDF, Word (DOCX), Excel (XLSX), PowerPoint (PPTX), OpenDocument, PNG, JPEG, CSV or TXT"
)


class OversizedUpload(UploadedFile):
    """A file that was over the limit: its size as sent, none of its bytes."""

    def __init__(
        self, name: str | None, content_type: str | None, size: int, charset: str | None
    ) -> None:
        super().__init__(io.BytesIO(b""), name, content_type, size, charset)


class SizeCappedUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: passes a file's bytes on to Django's
    handlers (memory, then a temporary file) only up to ``MAX_BYTES``. Past
    that the rest is read and dropped, and the file becomes an
    ``OversizedUpload``, which ``check_upload`` refuses as too big: a 10 GB
    upload no longer fills the disk before the form can say so."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        kept_so_far = self.received
        self.received += len(raw_data)
        return raw_data if kept_so_far <= MAX_BYTES else None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received <= MAX_BYTES:
            return None  # the next handler's file
        return OversizedUpload(self.file_name, self.content_type, self.received, self.charset)


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int
    sha256: str


def safe_name(name: str) -> str:
    """The uploaded name without any path, control or odd characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if ch.isprintable())
    # Letters, digits and the punctuation people put in a document's name
    # ("Insurance cert (2026) – final £5m.pdf", "O'Brien quote.pdf"); nothing
    # that means something to a path, HTML or a header (", /, <, >, ;, %, …).
    base = re.sub(r"[^\w .()\-–—£€&,'+!@#\[\]]+", "_", base).strip(" .")
    base = re.sub(r"\s+", " ", base)
    if len(base) > 150:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 150 - len(ext) - 1] + dot + ext) if dot else base[:150]
    return base or "file"


def _looks_like(kind: str, head: bytes, upload: UploadedFile) -> bool:
    if kind == "pdf":
        return head.startswith(b"%PDF-")
    if kind == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if kind in {"ooxml", "odf"}:
        if not head.startswith(b"PK\x03\x04"):
            return False
        upload.seek(0)
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
                if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
                    return False
                if kind == "ooxml":
                    return "[Content_Types].xml" in names
                return "mimetype" in names
        except zipfile.BadZipFile:
            return False
    if kind == "text":
        upload.seek(0)
        data = upload.read(MAX_BYTES + 1)
        if b"\x00" in data:
            return False
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                data.decode("cp1252")
            except UnicodeDecodeError:
                return False
        return True
    return False


def check_upload(upload: UploadedFile, *, max_bytes: int = MAX_BYTES) -> CheckedFile:
    """Refuse an empty, oversized, unknown or mislabelled file, saying which."""
    name = safe_name(upload.name or "")
    size = upload.size
    if size is None:  # Django sizes every file it receives; only a hand-made one has none
        raise ValueError("An upload without a size cannot be checked.")
    if size == 0:
        raise ValidationError(f"The selected file {name} is empty", code="empty")
    if size > max_bytes:
        raise ValidationError(
            f"The selected file must be smaller than {max_bytes // (1024 * 1024)} MB",
            code="too_big",
        )
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in KINDS:
        raise ValidationError(f"The selected file must be a {ALLOWED_WORDS}", code="type")
    content_type, kind = KINDS[extension]
    upload.seek(0)
    head = upload.read(16)
    if not _looks_like(kind, head, upload):
        raise ValidationError(
            f"The selected file {name} is not a real {extension.upper()} file. "
            "Save it again in that format and upload it again.",
            code="content",
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(name=name, content_type=content_type, size=size, sha256=digest.hexdigest())


def store(record: Stored, upload: UploadedFile, checked: CheckedFile, *, by: User) -> Stored:
    """Fill a file record (an opportunity document, a bid file) from a checked
    upload, write the file under a safe generated name and save the record."""
    record.original_name = checked.name
    record.content_type = checked.content_type
    record.size = checked.size
    record.sha256 = checked.sha256
    record.uploaded_by = by
    record.file.save(checked.name, upload, save=False)
    record.save()
    return record
