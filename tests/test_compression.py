"""Responses go out compressed when no proxy compresses them (COMPRESS_RESPONSES, on by
default): HTML and other text gzipped by forms_engine.compression, static files served by
WhiteNoise from the brotli and gzip files collectstatic made, binary downloads untouched.
benchmarks/page_weight.py measures what this saves in a browser."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from forms_engine.compression import TextGZipMiddleware, compressible

ROOT = Path(__file__).resolve().parent.parent
BROWSER = "gzip, deflate, br, zstd"  # what Chromium sends to an HTTPS site


def _settings_of(**env: str) -> dict:
    """MIDDLEWARE as config/settings.py builds it from this environment (a fresh process:
    the variable is read once, at import)."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.MIDDLEWARE))"
    )
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    environ.pop("COMPRESS_RESPONSES", None) if "COMPRESS_RESPONSES" not in env else None
    out = subprocess.run(
        [sys.executable, "-c", code], env=environ, cwd=ROOT, check=True, capture_output=True,
        text=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def test_compression_is_on_by_default_below_whitenoise_and_above_the_overload_guard():
    middleware = _settings_of()
    name = "forms_engine.compression.TextGZipMiddleware"
    assert name in middleware
    at = middleware.index(name)
    assert middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") == at - 1
    assert at < middleware.index("forms_engine.overload.ConcurrencyGuardMiddleware")
    assert at < middleware.index("forms_engine.middleware.ContentSecurityPolicyMiddleware")
    assert at < middleware.index("django.middleware.csrf.CsrfViewMiddleware")


def test_a_proxy_that_compresses_turns_it_off():
    middleware = _settings_of(COMPRESS_RESPONSES="false")
    assert not any("GZip" in m for m in middleware)


# ---- the middleware on its own ------------------------------------------------------------


def _through(response, accept: str = BROWSER, path: str = "/"):
    request = RequestFactory().get(path, HTTP_ACCEPT_ENCODING=accept)
    return TextGZipMiddleware(lambda r: response)(request)


@pytest.mark.parametrize("path", ["/staff/", "/staff/console/", "/admin/"])
def test_staff_pages_are_never_compressed_but_their_downloads_are(path):
    # BREACH: a staff list reflects a search term an attacker chose next to residents'
    # names, which stay the same from one response to the next.
    page = _through(HttpResponse("<p>" + "申請" * 500, content_type="text/html"), path=path)
    assert not page.has_header("Content-Encoding")
    csv = _through(HttpResponse("a,b\n" * 500, content_type="text/csv"), path=path + "x/")
    assert csv["Content-Encoding"] == "gzip"
    resident = _through(HttpResponse("<p>" + "申請" * 500, content_type="text/html"), path="/p/")
    assert resident["Content-Encoding"] == "gzip"


def test_html_is_gzipped_with_random_bytes_in_its_header():
    html = "<!DOCTYPE html><p>" + "申請" * 500 + "</p>"
    bodies = []
    for _ in range(6):
        response = _through(HttpResponse(html))
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        assert gzip.decompress(response.content).decode() == html
        # Django's BREACH mitigation ("Heal the Breach", since 4.2): a file name of random
        # length in the gzip header (flag FNAME), so the length leaks nothing.
        assert response.content[3] & 0x08
        bodies.append(response.content)
    assert len({len(b) for b in bodies}) > 1


def test_nothing_is_compressed_for_a_client_that_does_not_ask():
    response = _through(HttpResponse("<p>" + "x" * 1000), accept="")
    assert not response.has_header("Content-Encoding")
    assert "Accept-Encoding" in response["Vary"]


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/html; charset=utf-8", True),
        ("text/csv; charset=Shift_JIS", True),
        ("application/json", True),
        ("image/svg+xml", True),
        ("application/pdf", False),
        ("image/jpeg", False),
        ("application/zip", False),
        ("application/octet-stream", False),
        ("", False),
    ],
)
def test_only_text_is_compressed(content_type, expected):
    assert compressible(content_type) is expected


def test_a_streamed_pdf_passes_untouched_with_its_length(tmp_path):
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + b"0" * 5000)
    with pdf.open("rb") as handle:
        response = _through(FileResponse(handle, content_type="application/pdf"))
        assert not response.has_header("Content-Encoding")
        assert response["Content-Length"] == str(pdf.stat().st_size)
        assert b"".join(response.streaming_content) == pdf.read_bytes()


def test_a_streamed_csv_is_compressed_as_it_streams_and_decompresses_whole():
    rows = [f"{i},山田,太郎\r\n".encode("cp932") for i in range(2000)]
    pulled = []

    def stream():
        for row in rows:
            pulled.append(row)
            yield row

    response = _through(StreamingHttpResponse(stream(), content_type="text/csv; charset=Shift_JIS"))
    assert response.streaming and response["Content-Encoding"] == "gzip"
    assert not response.has_header("Content-Length")
    assert pulled == []  # nothing read before the server sends it
    assert gzip.decompress(b"".join(response.streaming_content)) == b"".join(rows)


# ---- static files ---------------------------------------------------------------------------

STATIC_PROBE = """
import django, json, sys
django.setup()
from django.template import engines
from django.test import Client
client = Client()
out = {}
for name in sys.argv[1:]:
    url = engines["django"].from_string("{% load static %}{% static '" + name + "' %}").render({})
    for accept in ("gzip, deflate, br, zstd", "gzip, deflate", ""):
        r = client.get(url, HTTP_ACCEPT_ENCODING=accept)
        out[f"{name}|{accept}"] = {
            "url": url, "status": r.status_code, "encoding": r.headers.get("Content-Encoding", ""),
            "vary": r.headers.get("Vary", ""), "length": int(r.headers.get("Content-Length", 0)),
            "body": b"".join(r.streaming_content).hex(),
        }
print(json.dumps(out))
"""


def test_static_files_are_served_precompressed_brotli_first(tmp_path):
    import brotli

    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
    }
    env.pop("STATIC_MANIFEST", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    root = tmp_path / "staticfiles"
    manifest = json.loads((root / "staticfiles.json").read_text())["paths"]
    names = ["js/app.js", "js/uploader.js", "css/app.css", "css/uploader.css"]
    for name in names:
        hashed = root / manifest[name]
        assert Path(f"{hashed}.br").is_file() and Path(f"{hashed}.gz").is_file(), name
    out = subprocess.run(
        [sys.executable, "-c", STATIC_PROBE, *names],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    probe = json.loads(out.strip().splitlines()[-1])
    for name in names:
        source = (ROOT / "static" / name).read_bytes()
        br, gz, plain = (probe[f"{name}|{a}"] for a in (BROWSER, "gzip, deflate", ""))
        assert br["url"] == f"/static/{manifest[name]}"
        assert [br["status"], gz["status"], plain["status"]] == [200, 200, 200]
        assert (br["encoding"], gz["encoding"], plain["encoding"]) == ("br", "gzip", "")
        assert all("Accept-Encoding" in x["vary"] for x in (br, gz, plain))
        # The stored files themselves, not compressed again per request.
        assert bytes.fromhex(br["body"]) == Path(f"{root / manifest[name]}.br").read_bytes()
        assert brotli.decompress(bytes.fromhex(br["body"])) == source
        assert gzip.decompress(bytes.fromhex(gz["body"])) == source
        assert bytes.fromhex(plain["body"]) == source
        assert br["length"] < gz["length"] < plain["length"]
    # The uploader, the heaviest script, is the one brotli must shrink most.
    uploader = probe[f"js/uploader.js|{BROWSER}"]
    assert uploader["length"] < 0.35 * len((ROOT / "static/js/uploader.js").read_bytes())


# ---- a real page ----------------------------------------------------------------------------


@pytest.fixture
def loaded(db, settings):
    from forms_engine import services

    report = services.procedures_load(settings.PROCEDURES_DIR)
    assert report.errors == []


def _token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def test_a_page_goes_out_gzipped_with_a_csrf_token_masked_afresh_each_time(client, loaded):
    url = "/p/sample-city/dog-registration/"
    plain = client.get(url)
    assert plain.status_code == 200 and not plain.has_header("Content-Encoding")
    html = plain.content.decode()
    assert "<!DOCTYPE html>" in html

    tokens = []
    for _ in range(2):
        response = client.get(url, HTTP_ACCEPT_ENCODING=BROWSER)
        assert response.status_code == 200
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        assert int(response["Content-Length"]) == len(response.content) < 0.6 * len(plain.content)
        page = gzip.decompress(response.content).decode()
        assert "犬の登録申請" in page
        tokens.append(_token(page))
    # The same secret, masked differently in every response (nothing constant to guess).
    assert tokens[0] != tokens[1] != _token(html)
