"""The scanner against a real clamd: what it calls clean, infected or an error."""

from __future__ import annotations

import io
import zipfile

import pytest

from forms_engine import scanning
from forms_engine.scanning import ClamdAddress, Verdict, clamd_address_parse

from .clamd import EICAR, EICAR_SIGNATURE, MAX_FILE_MIB, ClamdServer, free_port


def address(server) -> ClamdAddress:
    return clamd_address_parse(server.address)


def zipped(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("readme.txt", "決算書を添付します")
        archive.writestr(name, content)
    return buffer.getvalue()


def test_the_eicar_test_file_is_found_with_its_signature(clamd_server):
    result = scanning.scan_stream([EICAR], address(clamd_server))

    assert result.verdict is Verdict.INFECTED
    assert result.detail == EICAR_SIGNATURE


def test_eicar_inside_a_zip_is_found(clamd_server):
    result = scanning.scan_stream([zipped("nested/eicar.com", EICAR)], address(clamd_server))

    assert result.verdict is Verdict.INFECTED
    assert result.detail == EICAR_SIGNATURE


def test_eicar_split_across_many_small_chunks_is_found(clamd_server):
    result = scanning.scan_stream((bytes([b]) for b in EICAR), address(clamd_server))

    assert result.verdict is Verdict.INFECTED


def test_a_large_clean_file_streamed_in_chunks_is_clean(clamd_server):
    # 24 MiB in 3 MiB pieces: re-cut to the scanner's chunks, scanned whole (over clamd's
    # default StreamMaxLength of 25 MB would need the raised limit of the test config).
    pieces = (bytes([i]) * (3 * 1024 * 1024) for i in range(8))

    result = scanning.scan_stream(pieces, address(clamd_server))

    assert result.verdict is Verdict.CLEAN
    assert result.detail == ""


def test_an_empty_stream_is_clean(clamd_server):
    assert scanning.scan_stream([], address(clamd_server)).verdict is Verdict.CLEAN


def test_a_stream_over_clamds_limit_is_unscannable_never_clean(tmp_path):
    server = ClamdServer(tmp_path)
    server.conf.write_text(
        server.conf.read_text().replace("StreamMaxLength 4000M", "StreamMaxLength 1M")
    )
    server.start()
    try:
        result = scanning.scan_stream(
            (b"\0" * (512 * 1024) for _ in range(8)), clamd_address_parse(server.address)
        )
    finally:
        server.stop()

    assert result.verdict is Verdict.UNSCANNABLE
    assert "size limit" in result.detail


def test_a_stream_over_clamd_max_file_bytes_is_unscannable_though_clamd_would_say_ok(
    tmp_path,
):
    # clamd as it ships: over MaxFileSize it stops scanning and, without AlertExceedsMax,
    # answers "stream: OK" for a file whose EICAR it never looked at.
    server = ClamdServer(tmp_path)
    server.conf.write_text(
        server.conf.read_text()
        .replace(f"MaxFileSize {MAX_FILE_MIB}M", "MaxFileSize 1M")
        .replace("AlertExceedsMax yes", "AlertExceedsMax no")
    )
    server.start()
    try:
        result = scanning.scan_stream(
            [b"\0" * (2 * 1024 * 1024), EICAR],
            clamd_address_parse(server.address),
            max_bytes=1024 * 1024,
        )
    finally:
        server.stop()

    assert result.verdict is Verdict.UNSCANNABLE
    assert "CLAMD_MAX_FILE_BYTES" in result.detail


def test_the_scanner_reads_clamd_max_file_bytes_from_the_settings(clamd_server, settings):
    settings.CLAMD_MAX_FILE_BYTES = 1024

    result = scanning.scan_stream([b"\0" * 1025], address(clamd_server))

    assert result.verdict is Verdict.UNSCANNABLE


def test_nothing_listening_is_an_error_never_clean():
    nobody = ClamdAddress(host="127.0.0.1", port=free_port(17900))

    result = scanning.scan_stream([b"hello"], nobody)

    assert result.verdict is Verdict.ERROR
    assert "unreachable" in result.detail


def test_ping_answers_only_when_clamd_runs(clamd_server):
    assert scanning.ping(address(clamd_server))
    assert not scanning.ping(ClamdAddress(host="127.0.0.1", port=free_port(17900)))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("tcp://127.0.0.1:3310", ClamdAddress(host="127.0.0.1", port=3310)),
        ("tcp://clamd.internal:3310", ClamdAddress(host="clamd.internal", port=3310)),
        ("tcp://[::1]:3310", ClamdAddress(host="::1", port=3310)),
        ("/run/clamav/clamd.ctl", ClamdAddress(path="/run/clamav/clamd.ctl")),
        ("unix:///run/clamav/clamd.ctl", ClamdAddress(path="/run/clamav/clamd.ctl")),
    ],
)
def test_clamd_addresses_are_read(value, expected):
    assert clamd_address_parse(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "127.0.0.1:3310",
        "tcp://127.0.0.1",
        "tcp://:3310",
        "tcp://h:99999",
        "http://h:3310/",
        "run/clamd.ctl",
    ],
)
def test_unusable_clamd_addresses_are_refused(value):
    with pytest.raises(ValueError, match="CLAMD_ADDRESS"):
        clamd_address_parse(value)


def test_a_unix_socket_address_reaches_clamd(tmp_path):
    server = ClamdServer(tmp_path)
    sock = tmp_path / "clamd.ctl"
    server.conf.write_text(server.conf.read_text() + f"LocalSocket {sock}\n")
    server.start()
    try:
        result = scanning.scan_stream([EICAR], clamd_address_parse(str(sock)))
    finally:
        server.stop()

    assert result.verdict is Verdict.INFECTED
