"""The direct uploader's bundle (static/js/uploader.js): committed so that `make run` needs no
Node, so the tests rebuild it from the sources and the lockfile's packages and fail on any
drift; it stays small, and holds no text of its own (every text comes from the page).

The build needs node and the packages of package-lock.json (`npm ci`, which
scripts/test-setup.sh runs); without node the rebuild is skipped, as the other node tests.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from forms_engine.templatetags.uploader import uploader_texts_dict

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "frontend" / "uploader.js"
BUNDLE = ROOT / "static" / "js" / "uploader.js"
LICENSES = ROOT / "static" / "js" / "uploader.licenses.txt"
BUILD = ROOT / "scripts" / "build-uploader.mjs"
NODE = shutil.which("node")

# Uppy (core + S3 multipart) and our wiring, minified: about 29 KB compressed in 2026-11.
BUNDLE_GZIP_BUDGET = 36 * 1024


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_committed_bundle_is_what_the_build_makes_from_the_lockfile(tmp_path):
    if not (ROOT / "node_modules" / "esbuild").exists():
        pytest.fail("node_modules/esbuild missing: run `npm ci` (scripts/test-setup.sh npm)")
    result = subprocess.run(
        [NODE, str(BUILD), str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    for committed in (BUNDLE, LICENSES):
        built = tmp_path / committed.name
        assert built.read_bytes() == committed.read_bytes(), (
            f"{committed.relative_to(ROOT)} is not what `npm run build` makes from "
            "frontend/uploader.js and package-lock.json: run `npm ci && npm run build` and "
            "commit the result"
        )


def test_the_bundle_names_the_licences_of_what_it_carries():
    assert "uploader.licenses.txt" in BUNDLE.read_text(encoding="utf-8")[:200]
    licences = LICENSES.read_text(encoding="utf-8")
    for package in ("@uppy/core", "@uppy/aws-s3", "preact"):
        assert re.search(rf"^{re.escape(package)} \d+\.\d+\.\d+ \(MIT\)$", licences, re.M), package


def test_the_bundle_stays_small():
    size = gzip_size(BUNDLE.read_bytes())
    assert size < BUNDLE_GZIP_BUDGET, size


def test_every_text_the_uploader_shows_comes_from_the_page():
    """The script reads its texts from the page's JSON (translated by Django): each one it
    uses is there, and it writes no words of its own into the page."""
    code = SOURCE.read_text(encoding="utf-8")
    used = set(re.findall(r"\btexts\.(\w+)", code))
    given = set(uploader_texts_dict())
    assert used, "the uploader reads no texts?"
    assert used <= given, used - given
    assert given <= used, f"texts the page gives but the uploader never shows: {given - used}"
    # No Japanese or sentence in a string literal: only class names, tags, keys, units.
    code_without_comments = re.sub(r"^\s*//.*$|/\*.*?\*/", "", code, flags=re.M | re.S)
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", code_without_comments)
    for literal in re.findall(r'"([^"\n]*)"', code_without_comments):
        assert not re.search(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+", literal), literal
