"""A real clamd for the tests: a signature database built here (no internet: freshclam
cannot run), a clamd.conf of our own, the daemon started as a subprocess on loopback.

`ClamdServer(folder).start()` / `.stop()`; the session fixture `clamd_server` (re-exported
by tests/conftest.py) starts one for the whole run. Tests that use it are marked `clamd`.
`scripts/test-setup.sh` installs Debian's clamav-daemon.

Environment: CLAMD_TEST_PORT, the first loopback port tried (17310; the next free one below
32768 is taken, outside Linux's range of temporary ports); CLAMD_BIN (clamd on PATH, else
/usr/sbin/clamd).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from forms_engine import scanning

# The EICAR anti-virus test file (68 bytes), kept encoded so that a scanner looking at this
# repository does not flag the test suite itself.
EICAR = base64.b64decode(
    b"WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNULUZJTEUhJEgrSCo="
)
EICAR_SIGNATURE_NAME = "Eicar-Test-Signature"
# What clamd reports: the name, marked as coming from a database ClamAV did not sign.
EICAR_SIGNATURE = f"{EICAR_SIGNATURE_NAME}.UNOFFICIAL"
START_TIMEOUT = 60.0
# What the tests' clamd scans whole (its MaxFileSize below, in clamd's M = MiB): the value
# of CLAMD_MAX_FILE_BYTES wherever the tests scan with it, as the README asks operators.
MAX_FILE_MIB = 2000
MAX_FILE_BYTES = MAX_FILE_MIB * 1024 * 1024


def _clamd_binary() -> str:
    found = os.environ.get("CLAMD_BIN") or shutil.which("clamd") or "/usr/sbin/clamd"
    if not Path(found).exists():
        pytest.fail(
            f"clamd not found ({found}): run scripts/test-setup.sh as root "
            "(it installs Debian's clamav-daemon)",
            pytrace=False,
        )
    return found


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(first: int) -> int:
    for port in range(first, 32768):
        if _port_is_free(port):
            return port
    raise RuntimeError(f"no free loopback port between {first} and 32767")


class ClamdServer:
    """One clamd with a database holding only the EICAR signature: an `.hdb` line (the
    whole file, as `sigtool --md5` writes it: md5:size:name) and an `.ndb` line (its bytes
    anywhere in a file)."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port(int(os.environ.get("CLAMD_TEST_PORT", "17310")))
        self.process: subprocess.Popen[bytes] | None = None
        database = folder / "db"
        database.mkdir(parents=True, exist_ok=True)
        (database / "test.hdb").write_text(
            f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:{EICAR_SIGNATURE_NAME}\n"
        )
        # The same bytes anywhere in a file (a body signature, any file type): a PDF or
        # photo that carries the test string is caught too, as real malware inside a
        # document would be.
        (database / "test.ndb").write_text(f"{EICAR_SIGNATURE_NAME}:0:*:{EICAR.hex()}\n")
        self.conf = folder / "clamd.conf"
        self.log = folder / "clamd.log"
        self.conf.write_text(
            "\n".join(
                [
                    "Foreground yes",
                    f"DatabaseDirectory {database}",
                    f"TCPSocket {self.port}",
                    "TCPAddr 127.0.0.1",
                    # No bytecode signatures (there are none) and no periodic reload.
                    "Bytecode no",
                    "SelfCheck 0",
                    # Large files are scanned whole (clamd's own ceiling is just under 2 GiB
                    # per file and 4 GB per stream), and a file over a limit is reported,
                    # never passed as clean.
                    "StreamMaxLength 4000M",
                    f"MaxFileSize {MAX_FILE_MIB}M",
                    "MaxScanSize 4000M",
                    "AlertExceedsMax yes",
                    f"TemporaryDirectory {folder}",
                    f"LogFile {self.log}",
                    # As root clamd keeps running as root without `User`: fine for a test
                    # process on loopback; production runs it as the clamav user.
                    "",
                ]
            )
        )

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def ping(self) -> bool:
        return scanning.ping(scanning.clamd_address_parse(self.address), timeout=1.0)

    def start(self) -> ClamdServer:
        if self.process and self.process.poll() is None:
            return self
        with open(self.folder / "clamd.out", "ab") as output:  # the child keeps its copy
            self.process = subprocess.Popen(
                [_clamd_binary(), "-c", str(self.conf)],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.ping():
                return self
            time.sleep(0.1)
        self.stop()
        tail = ""
        for name in ("clamd.out", "clamd.log"):
            path = self.folder / name
            if path.exists():
                tail += path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"clamd did not answer PING on {self.address}:\n{tail}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="session")
def clamd_server(tmp_path_factory):
    """A clamd answering on a loopback port for the whole test session; yields the
    ClamdServer (`.address` is a CLAMD_ADDRESS value)."""
    for attempt in range(5):
        server = ClamdServer(tmp_path_factory.mktemp("clamd"))
        try:
            server.start()
            break
        except RuntimeError:
            # Another session may have bound the port between our check and clamd's bind:
            # the next free one is tried; the fifth failure is reported with clamd's log.
            if attempt == 4:
                raise
    yield server
    server.stop()
