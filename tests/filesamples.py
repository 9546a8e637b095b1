"""Files built byte by byte for the content checks: pictures with the headers cameras and
phones write (and bombs that only claim a size), polyglots, programs, zip bombs."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from tests.factories import pdf_bytes, png_bytes


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, payload: bytes, version: int = 0) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + payload)


def heic_bytes(
    width: int = 4032,
    height: int = 3024,
    *,
    tile: int = 512,
    meta_last: bool = False,
    with_sizes: bool = True,
) -> bytes:
    """An iPhone-style HEIC: `ftyp` heic (mif1, heic compatible), a `meta` box whose
    primary item is a grid of tile x tile HEVC tiles, each item with its `ispe`, a
    thumbnail, and the picture data in `mdat` (placeholder bytes)."""
    ftyp = box(b"ftyp", b"heic" + b"\x00\x00\x00\x00" + b"mif1" + b"heic")
    tiles = -(-width // tile) * -(-height // tile)
    items = [(1, b"grid")] + [(2 + i, b"hvc1") for i in range(tiles)] + [(2 + tiles, b"hvc1")]
    infe = b"".join(
        full_box(b"infe", struct.pack(">HH", item_id, 0) + kind + b"\x00", version=2)
        for item_id, kind in items
    )
    properties = [full_box(b"ispe", struct.pack(">II", width, height))]
    if tiles:
        properties.append(full_box(b"ispe", struct.pack(">II", tile, tile)))
    properties.append(full_box(b"ispe", struct.pack(">II", 320, 240)))  # the thumbnail
    properties.append(box(b"colr", b"nclx" + b"\x00\x01\x00\x0d\x00\x06\x80"))
    if not with_sizes:
        properties = properties[-1:]
    meta = full_box(
        b"meta",
        full_box(b"hdlr", b"\x00" * 4 + b"pict" + b"\x00" * 12 + b"\x00")
        + full_box(b"pitm", struct.pack(">H", 1))
        + full_box(b"iinf", struct.pack(">H", len(items)) + infe)
        + box(b"iprp", box(b"ipco", b"".join(properties))),
    )
    mdat = box(b"mdat", b"\x00\x00\x00\x10" + bytes(range(256)) * 64)
    return ftyp + (mdat + meta if meta_last else meta + mdat)


def heic_sequence_bytes(width: int = 1920, height: int = 1440, frames: int = 3) -> bytes:
    """An HEIF image sequence (brand msf1, a burst): no `meta` item table, a `moov` box
    whose track header carries the picture size (16.16 fixed point)."""
    ftyp = box(b"ftyp", b"msf1" + b"\x00\x00\x00\x00" + b"msf1" + b"iso8" + b"hevc")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    tkhd = full_box(
        b"tkhd",
        struct.pack(">5I", 0, 0, 1, 0, frames * 100)  # times, track id, reserved, duration
        + b"\x00" * 8  # reserved
        + struct.pack(">hhhH", 0, 0, 0, 0)  # layer, alternate group, volume, reserved
        + matrix
        + struct.pack(">II", width << 16, height << 16),
    )
    moov = box(
        b"moov",
        full_box(b"mvhd", b"\x00" * 96) + box(b"trak", tkhd + box(b"mdia", b"\x00" * 40)),
    )
    mdat = box(b"mdat", bytes(range(256)) * 32 * frames)
    return ftyp + moov + mdat


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_bytes(
    width: int = 4032, height: int = 3024, *, comment: bytes = b"", exif_bytes: int = 12_000
) -> bytes:
    """A JPEG as a phone writes it: JFIF (and a comment, if any), EXIF and an ICC profile
    before the frame header, then the scan. The scan bytes are placeholders: only headers are read."""
    parts = [b"\xff\xd8"]
    parts.append(_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"))
    if comment:
        parts.append(_segment(0xFE, comment))
    parts.append(_segment(0xE1, b"Exif\x00\x00" + b"MM\x00\x2a" + b"\x11" * exif_bytes))
    parts.append(_segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + b"\x22" * 3000))
    parts.append(_segment(0xDB, b"\x00" + bytes(range(64))))
    parts.append(
        _segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01")
    )
    parts.append(_segment(0xC4, b"\x00" + b"\x01" * 16 + b"\x02"))
    parts.append(_segment(0xDA, b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"))
    parts.append(bytes(range(1, 255)) * 40 + b"\xff\xd9")
    return b"".join(parts)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with one tiny IDAT: the bomb."""
    real = png_bytes(1, 1)
    ihdr_data = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = b"IHDR" + ihdr_data
    chunk = struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))
    return real[:8] + chunk + real[8 + 25 :]


def pdf_with(extra: bytes, *, at_end: bool = False) -> bytes:
    """A PDF carrying `extra` in a comment near its start (or just before its end)."""
    body = pdf_bytes()
    if at_end:
        return body + b"%" + extra + b"\n"
    return body[:9] + b"%" + extra + b"\n" + body[9:]


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"<w:document>" + "申請書".encode() * 200 + b"</w:document>",
        }
    )


def zip_of_zeros(megabytes: int) -> bytes:
    """A real deflate bomb: `megabytes` MB of zeros in a docx-named member (about 1:1000)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"<w:document/>")
        with zf.open("word/media/zeros.bin", "w") as member:
            block = b"\x00" * (1024 * 1024)
            for _ in range(megabytes):
                member.write(block)
    return buffer.getvalue()


def overlapping_zip(copies: int = 50) -> bytes:
    """The non-recursive bomb: members whose data overlap. Each member's data is the local
    header of the next member followed by that member's data, down to one shared kernel, so
    every member repeats the bytes of all that follow (stored, so zipfile reads each one)."""
    kernel = b"<w:document/>" + b"\x00" * 100_000
    names = [f"word/media/x{i:05d}.xml".encode() for i in range(copies)]

    def local_header(name: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(data)
        return (
            struct.pack(
                "<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(data), len(data), len(name), 0
            )
            + name
        )

    datas: list[bytes] = [kernel]
    for name in reversed(names[1:]):
        datas.insert(0, local_header(name, datas[0]) + datas[0])
    body = local_header(names[0], datas[0]) + datas[0]
    directory = b""
    offset = 0
    for name, data in zip(names, datas, strict=True):
        directory += (
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                0,
                0,
                0,
                zlib.crc32(data),
                len(data),
                len(data),
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
        offset += 30 + len(name)
    end_record = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, copies, copies, len(directory), len(body), 0
    )
    return body + directory + end_record


def program_bytes() -> bytes:
    """The start of a Windows program: an MZ header pointing at a PE header."""
    mz = bytearray(b"MZ" + b"\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00")
    mz += b"\x00" * (0x3C - len(mz)) + struct.pack("<I", 0x80)
    mz += b"\x00" * (0x80 - len(mz)) + b"PE\x00\x00\x4c\x01\x03\x00"
    return bytes(mz) + b"\x00" * 2000


def elf_bytes() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 2000
