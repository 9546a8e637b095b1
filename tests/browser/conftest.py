"""Browser test fixtures: Playwright (sync API) driving Debian's Chromium, plus axe-core.

- ``browser``: one headless Chromium per test module (/usr/bin/chromium, no download).
- ``phone_page``: a fresh page in a phone-sized context (390x844 @3x, touch, ja-JP), with the
  page's CSP bypassed so that axe can be injected.
- ``new_phone_page(**overrides)``: the same with other context options, e.g.
  ``new_phone_page(bypass_csp=False)`` to test under the site's real Content-Security-Policy
  (axe still works there) or ``new_phone_page(locale="en-US")``.
- ``axe`` / ``assert_no_axe_violations(page, context_label)``: run axe-core on a page.

The server is pytest-django's ``live_server`` (it serves static files too). Every test in
this folder is marked ``browser`` automatically, so ``pytest -m "not browser"`` skips them.
"""

import json
import os
from pathlib import Path

import pytest

BROWSER_DIR = Path(__file__).resolve().parent
REPO_ROOT = BROWSER_DIR.parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ja-JP",
    "timezone_id": "Asia/Tokyo",
    # Playwright's add_script_tag inserts axe inline; the site's CSP (script-src 'self')
    # would block it. Pages that must prove they work under the real CSP: new_phone_page.
    "bypass_csp": True,
}
DEFAULT_TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. Playwright's sync API leaves an event loop running in
    the main thread until it stops, and Django then refuses ORM calls from that thread
    (SynchronousOnlyOperation) although nothing runs concurrently. The tests here use the
    ORM between page actions, so DJANGO_ALLOW_ASYNC_UNSAFE is set while Playwright runs,
    and both end with the module: the tests after it run with neither."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} not found: run scripts/test-setup.sh apt (Debian package chromium)"
        )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        pw = sync_playwright().start()
        try:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
        finally:
            pw.stop()


@pytest.fixture
def new_phone_page(browser):
    """Factory: ``new_phone_page(**context_overrides)`` -> a page in a new phone context."""
    contexts = []

    def make(**overrides):
        context = browser.new_context(**{**PHONE, **overrides})
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        # Offline first: closing a page sends the keep-what-was-typed beacon (app.js), which
        # would reach the live server while the test's tables are being emptied.
        context.set_offline(True)
        context.close()


@pytest.fixture
def phone_page(new_phone_page):
    return new_phone_page()


def run_axe(page) -> dict:
    """Inject axe-core into the page (once) and return the result of ``axe.run``."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} not found: run `npm ci` (or scripts/test-setup.sh npm)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through DevTools, which the page's CSP allows; a <script> tag would be
        # refused (and logged as a CSP error) where the test keeps the real CSP.
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} [{v.get('impact')}] {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", []):
            target = json.dumps(node.get("target"), ensure_ascii=False)
            lines.append(f"    at {target}: {node.get('html', '')[:200]}")
    return "\n".join(lines)


def assert_no_axe_violations(page, context_label: str) -> dict:
    """Run axe on the page and fail listing every violation; returns the axe result."""
    result = run_axe(page)
    violations = result.get("violations", [])
    if violations:
        pytest.fail(
            f"axe: {len(violations)} accessibility violation(s) on {context_label} "
            f"({page.url}):\n{format_violations(violations)}",
            pytrace=False,
        )
    return result


class Axe:
    """Fixture object: ``axe.run(page)`` and ``axe.assert_no_violations(page, label)``."""

    tags = AXE_TAGS

    @staticmethod
    def run(page) -> dict:
        return run_axe(page)

    @staticmethod
    def assert_no_violations(page, context_label: str) -> dict:
        return assert_no_axe_violations(page, context_label)


@pytest.fixture
def axe() -> Axe:
    return Axe()
