"""The pixel dimensions an image declares, read from its headers without decoding it.

A decompression bomb is a small file that claims a huge picture (a PNG of 100,000 x
100,000 pixels is 47 kB and asks a viewer for 30 GB): the claim is in the header, so the
header is all that needs reading. PNG: the IHDR chunk, first in the file. JPEG: the
start-of-frame segment, after the application segments (EXIF, ICC profiles). HEIC: the
`ispe` properties in the `meta` box, one per image item (an iPhone photo is a grid of
512 x 512 tiles plus the grid and a thumbnail, each with its own), and for an image
sequence (brand msf1) the track headers in its `moov` box.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from .source import BlockReader


class ImageUnreadable(Exception):
    """The headers that give the image's size are missing or damaged."""


# JPEG markers that start a frame (SOF0-SOF15 less DHT, JPG and DAC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})
_SOS, _EOI = 0xDA, 0xD9
# The frame header comes before the picture data; this far into the file and this many
# segments is more than any camera writes before it (EXIF segments are at most 64 kB).
JPEG_MAX_HEADER_BYTES = 2 * 1024 * 1024
JPEG_MAX_SEGMENTS = 512
# The `meta` box of a HEIC holds item and property tables, a few kB (an iPhone's: 3-5 kB);
# the `moov` box of a short image sequence, its sample tables.
HEIC_MAX_META_BYTES = 4 * 1024 * 1024
HEIC_MAX_TOP_BOXES = 64
HEIC_MAX_BOXES = 20_000


def dimensions(kind: str, src: BlockReader) -> list[tuple[int, int]]:
    """(width, height) of each image the file declares (one for PNG and JPEG)."""
    if kind == "png":
        return [_png(src)]
    if kind == "jpeg":
        return [_jpeg(src)]
    if kind == "heic":
        return _heic(src)
    return []


def _png(src: BlockReader) -> tuple[int, int]:
    header = src.read_at(8, 16)
    if len(header) != 16 or header[4:8] != b"IHDR" or header[:4] != b"\x00\x00\x00\x0d":
        raise ImageUnreadable
    width, height = struct.unpack(">II", header[8:16])
    if not width or not height:
        raise ImageUnreadable
    return width, height


def _jpeg(src: BlockReader) -> tuple[int, int]:
    at = 2
    for _ in range(JPEG_MAX_SEGMENTS):
        if at > JPEG_MAX_HEADER_BYTES:
            break
        marker = src.read_at(at, 2)
        if len(marker) != 2 or marker[0] != 0xFF:
            raise ImageUnreadable
        if marker[1] == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker[1] in _STANDALONE:
            at += 2
            continue
        if marker[1] in (_SOS, _EOI):
            break  # the picture data, and no frame header before it
        length_bytes = src.read_at(at + 2, 2)
        if len(length_bytes) != 2:
            raise ImageUnreadable
        (length,) = struct.unpack(">H", length_bytes)
        if length < 2:
            raise ImageUnreadable
        if marker[1] in _SOF:
            frame = src.read_at(at + 4, 5)
            if len(frame) != 5:
                raise ImageUnreadable
            _precision, height, width = struct.unpack(">BHH", frame)
            # A height of 0 is left to a later DNL segment, which no camera writes.
            if not width or not height:
                raise ImageUnreadable
            return width, height
        at += 2 + length
    raise ImageUnreadable


def _boxes(
    data: bytes, start: int, end: int, budget: list[int]
) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO BMFF boxes in data[start:end]."""
    at = start
    while at + 8 <= end:
        budget[0] -= 1
        if budget[0] < 0:
            raise ImageUnreadable
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            if at + 16 > end:
                raise ImageUnreadable
            (size,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise ImageUnreadable
        yield kind, at + header, at + size
        at += size


def _heic(src: BlockReader) -> list[tuple[int, int]]:
    top = _top_boxes(src, {b"meta", b"moov"})
    budget = [HEIC_MAX_BOXES]
    found: list[tuple[int, int]] = []
    meta = top.get(b"meta")
    if meta is not None:
        # meta is a full box: four bytes of version and flags before its children.
        for _k, start, end in _children(meta, 4, len(meta), budget, b"iprp"):
            for _k, start2, end2 in _children(meta, start, end, budget, b"ipco"):
                for _k, start3, end3 in _children(meta, start2, end2, budget, b"ispe"):
                    if end3 - start3 < 12:
                        raise ImageUnreadable
                    found.append(struct.unpack_from(">II", meta, start3 + 4))
    moov = top.get(b"moov")
    if moov is not None:
        # An image sequence (brand msf1): each track's header gives its picture size.
        for _k, start, end in _children(moov, 0, len(moov), budget, b"trak"):
            for _k, start2, end2 in _children(moov, start, end, budget, b"tkhd"):
                found.append(_tkhd_size(moov, start2, end2))
    if not found or any(not w or not h for w, h in found):
        raise ImageUnreadable
    return found


def _children(
    data: bytes, start: int, end: int, budget: list[int], kind: bytes
) -> Iterator[tuple[bytes, int, int]]:
    return (box for box in _boxes(data, start, end, budget) if box[0] == kind)


def _tkhd_size(data: bytes, start: int, end: int) -> tuple[int, int]:
    """Width and height (16.16 fixed point) at the end of a track header, after its
    version's times, ids, layer, volume and matrix."""
    version = data[start] if start < end else 0
    at = start + 4 + (32 if version == 1 else 20) + 8 + 8 + 36
    if at + 8 > end:
        raise ImageUnreadable
    width, height = struct.unpack_from(">II", data, at)
    return width >> 16, height >> 16


def _top_boxes(src: BlockReader, wanted: set[bytes]) -> dict[bytes, bytes]:
    """The payloads of the top-level boxes in `wanted`, found by walking the top-level
    boxes (`meta` may come after the picture data: only box headers are read on the way)."""
    found: dict[bytes, bytes] = {}
    at = 0
    for _ in range(HEIC_MAX_TOP_BOXES):
        header = src.read_at(at, 16)
        if len(header) < 8:
            break
        size, kind = struct.unpack_from(">I4s", header)
        header_size = 8
        if size == 1:
            if len(header) < 16:
                raise ImageUnreadable
            (size,) = struct.unpack_from(">Q", header, 8)
            header_size = 16
        elif size == 0:
            size = src.size - at
        if size < header_size:
            raise ImageUnreadable
        if kind in wanted and kind not in found:
            if size - header_size > HEIC_MAX_META_BYTES:
                raise ImageUnreadable
            payload = src.read_at(at + header_size, size - header_size)
            if len(payload) != size - header_size:
                raise ImageUnreadable
            found[kind] = payload
            if len(found) == len(wanted):
                break
        at += size
    return found
