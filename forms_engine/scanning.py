"""Malware scanning: a stream of bytes sent to clamd's INSTREAM command.

A plain socket rather than the `clamd` package: that client sends 1 KiB chunks with
`send` (which may send part of a chunk) and takes a file object; here any iterator of
chunks (a storage stream, bounded memory) goes out with `sendall` in chunks of up to
CHUNK_SIZE, and a daemon that stops reading half-way (its stream limit) is answered as an
error, never as clean.

The verdicts: CLEAN (clamd read every byte and found nothing), INFECTED (with the
signature's name), UNSCANNABLE (clamd could not scan the file whole: over its
StreamMaxLength, over MaxFileSize/MaxScanSize with `AlertExceedsMax yes`, or longer than
CLAMD_MAX_FILE_BYTES, what the configured clamd is said to scan whole; trying again
changes nothing) and ERROR (clamd could not be reached or did not answer: try again later).
"""

from __future__ import annotations

import enum
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# clamd reads each chunk into memory: keep them small enough for both sides.
CHUNK_SIZE = 1024 * 1024
# Seconds to connect, and seconds a single send or the verdict may take. The verdict of a
# large archive can take a while: clamd's own MaxScanTime bounds it on its side.
CONNECT_TIMEOUT = 5.0
DEFAULT_TIMEOUT = 300.0

# Signatures clamd reports when it stopped scanning at one of its limits (AlertExceedsMax).
_LIMIT_SIGNATURE_PREFIX = "Heuristics.Limits.Exceeded"


class Verdict(enum.Enum):
    CLEAN = "clean"
    INFECTED = "infected"
    UNSCANNABLE = "unscannable"
    ERROR = "error"


@dataclass(frozen=True)
class ScanResult:
    verdict: Verdict
    # The signature name (INFECTED, UNSCANNABLE) or what went wrong (ERROR); never file
    # content or names, so it may be logged and shown to staff.
    detail: str = ""


@dataclass(frozen=True)
class ClamdAddress:
    """Where clamd listens: a TCP host and port, or a unix socket path."""

    host: str = ""
    port: int = 0
    path: str = ""

    def __str__(self) -> str:
        return self.path if self.path else f"tcp://{self.host}:{self.port}"


def clamd_address_parse(value: str) -> ClamdAddress:
    """`tcp://host:port` (IPv6 in brackets), `unix:///path/clamd.ctl` or a plain absolute
    path of a unix socket. Raises ValueError with what is wrong."""
    value = value.strip()
    if value.startswith("/"):
        return ClamdAddress(path=value)
    parts = urlsplit(value)
    if parts.scheme == "unix" and parts.path.startswith("/") and not parts.netloc:
        return ClamdAddress(path=parts.path)
    if parts.scheme == "tcp":
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.hostname and port and not parts.path.strip("/"):
            return ClamdAddress(host=parts.hostname, port=port)
    raise ValueError(
        f"CLAMD_ADDRESS {value!r} is neither tcp://host:port nor the absolute path of a "
        "unix socket (/run/clamav/clamd.ctl or unix:///run/clamav/clamd.ctl)"
    )


def configured_address() -> ClamdAddress | None:
    """settings.CLAMD_ADDRESS parsed, or None when scanning is not configured."""
    value = settings.CLAMD_ADDRESS
    return clamd_address_parse(value) if value else None


def _connect(address: ClamdAddress, timeout: float) -> socket.socket:
    if address.path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(min(CONNECT_TIMEOUT, timeout))
        try:
            sock.connect(address.path)
        except BaseException:
            sock.close()
            raise
    else:
        sock = socket.create_connection(
            (address.host, address.port), timeout=min(CONNECT_TIMEOUT, timeout)
        )
    sock.settimeout(timeout)
    return sock


def _read_reply(sock: socket.socket, limit: int = 4096) -> str:
    """One NUL-terminated reply (the `z` form of the commands)."""
    data = b""
    while b"\0" not in data and len(data) < limit:
        piece = sock.recv(limit)
        if not piece:
            break
        data += piece
    return data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def ping(address: ClamdAddress, timeout: float = CONNECT_TIMEOUT) -> bool:
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zPING\0")
            return _read_reply(sock) == "PONG"
    except OSError:
        return False


def _chunks(stream: Iterable[bytes]) -> Iterable[bytes]:
    for chunk in stream:
        for start in range(0, len(chunk), CHUNK_SIZE):
            yield chunk[start : start + CHUNK_SIZE]


def _verdict(reply: str) -> ScanResult:
    # "stream: OK", "stream: <signature> FOUND", "<message> ERROR"
    if reply.endswith(" FOUND"):
        body = reply[: -len(" FOUND")]
        signature = body.split(": ", 1)[1] if ": " in body else body
        if signature.startswith(_LIMIT_SIGNATURE_PREFIX):
            return ScanResult(Verdict.UNSCANNABLE, signature)
        return ScanResult(Verdict.INFECTED, signature)
    if reply.endswith(": OK"):
        return ScanResult(Verdict.CLEAN)
    if "size limit exceeded" in reply:
        return ScanResult(Verdict.UNSCANNABLE, "clamd: " + reply)
    return ScanResult(Verdict.ERROR, "clamd: " + (reply or "no answer"))


def scan_stream(
    stream: Iterable[bytes],
    address: ClamdAddress | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int | None = None,
) -> ScanResult:
    """Send every chunk of `stream` to clamd (INSTREAM) and read its verdict. Errors of the
    connection are returned as ERROR, never raised: the caller decides to try again. Errors
    of the stream itself (storage) are raised: they are not clamd's.

    A stream longer than `max_bytes` (settings.CLAMD_MAX_FILE_BYTES) is UNSCANNABLE, and
    no more of it is sent: with clamd's default `AlertExceedsMax no`, a file over its
    MaxFileSize or MaxScanSize comes back "stream: OK" though most of it was never looked
    at, so clamd's OK can only be believed for what it scans whole."""
    address = address or configured_address()
    if address is None:
        raise ValueError("CLAMD_ADDRESS is not set")
    if max_bytes is None:
        max_bytes = settings.CLAMD_MAX_FILE_BYTES
    try:
        sock = _connect(address, timeout)
    except OSError as exc:
        return ScanResult(Verdict.ERROR, f"clamd at {address} unreachable: {exc}")
    with sock:
        try:
            sock.sendall(b"zINSTREAM\0")
            sent = 0
            for chunk in _chunks(stream):
                sent += len(chunk)
                if sent > max_bytes:
                    # Closing without the terminating chunk: clamd drops the stream.
                    return ScanResult(
                        Verdict.UNSCANNABLE,
                        f"over CLAMD_MAX_FILE_BYTES ({max_bytes} bytes): "
                        "size limit exceeded, not scanned whole",
                    )
                if chunk:
                    sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
        except (BrokenPipeError, ConnectionResetError) as exc:
            # clamd stops reading past StreamMaxLength and says why before it closes.
            try:
                reply = _read_reply(sock)
            except OSError:
                reply = ""
            if reply:
                return _verdict(reply)
            return ScanResult(Verdict.ERROR, f"clamd at {address} closed the stream: {exc}")
        except OSError as exc:  # a timeout while clamd would not read
            return ScanResult(Verdict.ERROR, f"clamd at {address} stopped reading: {exc}")
        try:
            reply = _read_reply(sock)
        except OSError as exc:
            return ScanResult(Verdict.ERROR, f"clamd at {address} gave no verdict: {exc}")
    return _verdict(reply)
