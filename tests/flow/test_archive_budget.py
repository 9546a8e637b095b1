"""Archives (docx, xlsx, zip) are looked into within an entry and time budget that stops
early: an upload claiming or holding too many entries is refused from the end of the
file, before its central directory is read."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.urls import reverse
from django.utils import translation

from forms_engine import archives, services
from forms_engine.fields import FieldInvalid
from forms_engine.filecheck import check
from forms_engine.filecheck.source import BLOCK_SIZE

DOG = ("sample-city", "dog-registration")
# The end records and a comment's worth of slack: all an archive may cost to refuse.
TAIL = 22 + 0xFFFF + 56 + 20


class CountingFile(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def zip_of(count: int, prefix: str = "") -> bytes:
    """An archive of `count` empty entries (a few dozen bytes each)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("word/document.xml", b"<w:document/>")
        for i in range(count - 1):
            zf.writestr(f"{prefix}{i}", b"")
    return buffer.getvalue()


def with_zip64_end(data: bytes, entries: int | None = None) -> bytes:
    """The same archive ended by zip64 records, saying `entries` entries."""
    fields = struct.unpack("<4s4H2LH", data[-22:])
    count, size, offset = fields[4], fields[5], fields[6]
    entries = count if entries is None else entries
    record = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, size, offset
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, offset + size, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return data[:-22] + record + locator + end


def with_count(data: bytes, entries: int) -> bytes:
    """The same archive whose end record says `entries` entries."""
    fields = list(struct.unpack("<4s4H2LH", data[-22:]))
    fields[3] = fields[4] = entries
    return data[:-22] + struct.pack("<4s4H2LH", *fields)


def upload_of(data: bytes, name: str = "report.docx") -> InMemoryUploadedFile:
    return InMemoryUploadedFile(
        CountingFile(data), None, name, "application/octet-stream", len(data), None
    )


@pytest.fixture
def store(client, loaded):
    """attachment_store for the dog registration's certificate field."""
    client.post(reverse("procedure_start", args=list(DOG)))
    from forms_engine import models as m

    draft = m.Draft.objects.get()
    spec = services.version_spec(services.draft_versions(draft)[0])
    field = next(f for f in spec.iter_fields() if f.id == "vaccination_certificate")

    def store_in_english(upload):
        with translation.override("en"):
            return services.attachment_store(draft, 0, field, upload)

    return store_in_english


def test_an_archive_claiming_half_a_million_entries_is_refused_from_its_end_record(store):
    upload = upload_of(with_zip64_end(zip_of(3), entries=500_000))
    with pytest.raises(FieldInvalid, match="more than 10,000 files"):
        store(upload)


def test_an_archive_of_too_many_entries_is_refused_having_read_only_its_tail(store):
    data = zip_of(archives.MAX_ENTRIES + 5000)
    assert len(data) > 10 * TAIL  # the directory alone is far larger than the tail
    upload = upload_of(data)
    with pytest.raises(FieldInvalid, match="more than 10,000 files"):
        store(upload)
    # The head, then the end records (read in whole blocks).
    assert upload.file.bytes_read <= check.HEAD_BYTES + TAIL + 2 * BLOCK_SIZE


def test_an_end_record_that_understates_the_entries_stops_at_the_entry_budget():
    data = with_count(zip_of(300), entries=5)
    with pytest.raises(archives.ArchiveRefused) as refused:
        archives.member_names(io.BytesIO(data), max_entries=100)
    assert refused.value.reason == "too_many_entries"


def test_a_central_directory_larger_than_the_budget_is_not_read():
    data = zip_of(300, prefix="a-long-member-name-" * 3)
    f = CountingFile(data)
    with pytest.raises(archives.ArchiveRefused) as refused:
        archives.member_names(f, max_directory_bytes=1000)
    assert refused.value.reason == "directory_too_large"
    assert f.bytes_read <= TAIL


def test_looking_into_an_archive_stops_when_its_time_budget_is_spent():
    ticks = iter(range(10**6))
    with pytest.raises(archives.ArchiveRefused) as refused:
        archives.member_names(io.BytesIO(zip_of(300)), time_budget=50, clock=lambda: next(ticks))
    assert refused.value.reason == "too_slow"


@pytest.mark.parametrize("zip64", [False, True], ids=["zip", "zip64"])
def test_the_member_names_are_those_zipfile_reads(zip64):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("word/document.xml", b"<w:document/>")
        zf.writestr("写真/犬.png", b"\x89PNG")
        if not zip64:
            zf.comment = b"a comment that mentions PK"
    data = with_zip64_end(buffer.getvalue()) if zip64 else buffer.getvalue()
    expected = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert expected == ["word/document.xml", "写真/犬.png"]
    assert archives.member_names(io.BytesIO(data)) == expected


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04 not really a zip", zip_of(3)[:-10], b"PK" + b"\x00" * 100],
    ids=["no end record", "cut short", "zeros"],
)
def test_a_damaged_archive_is_refused(data):
    with pytest.raises(archives.ArchiveRefused) as refused:
        archives.member_names(io.BytesIO(data))
    assert refused.value.reason == "damaged"


def test_a_docx_is_still_recognised_by_its_members(store):
    data = zip_of(3)
    upload = upload_of(data, "report.docx")
    # The certificate field accepts pdf and images only: a docx is refused as a type,
    # which shows that it was recognised as a docx rather than as damaged.
    with pytest.raises(FieldInvalid, match="is a file of type DOCX"):
        store(upload)
