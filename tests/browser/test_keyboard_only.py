"""Issue 10, item 6: the whole dog registration filed with the keyboard alone (Tab,
Shift+Tab, Space, Enter, arrow keys and typing; no click), on a phone-sized page with
JavaScript and the site's real CSP, and at every stop the focused element shows a
visible focus indicator (an outline or a box shadow, or a changed background for links
and text buttons), compared with the same element unfocused."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from forms_engine import models as m
from forms_engine import services

MAX_TABS = 60

FOCUS_STYLE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const pick = (s) => [s.outlineStyle, s.outlineWidth, s.boxShadow, s.backgroundColor].join("|");
  const focused = pick(getComputedStyle(e));
  const o = getComputedStyle(e);
  const visible = (o.outlineStyle !== "none" && parseFloat(o.outlineWidth) > 0) || o.boxShadow !== "none";
  return {tag: e.tagName, name: e.name || e.id || e.textContent.trim().slice(0, 20), focused, visible};
}"""


@pytest.fixture
def procedures(transactional_db, settings):
    settings.RATE_LIMIT_ENABLED = False
    assert services.procedures_load(settings.PROCEDURES_DIR).errors == []


def _unfocused_style(page) -> str:
    return page.evaluate(
        """() => { const e = document.activeElement; const s = getComputedStyle(e);
        const pick = (s) => [s.outlineStyle, s.outlineWidth, s.boxShadow, s.backgroundColor].join("|");
        e.blur(); const plain = pick(getComputedStyle(e)); e.focus({focusVisible: true}); return plain; }"""
    )


def _assert_focus_visible(page) -> None:
    info = page.evaluate(FOCUS_STYLE)
    assert info is not None, "focus went to the page body"
    plain = _unfocused_style(page)
    assert info["visible"] or info["focused"] != plain, f"focus not visible on {info}"


def _tab_to(page, selector: str, *, back: bool = False) -> None:
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        _assert_focus_visible(page)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{selector} not reached with the keyboard")


def _type_into(page, selector: str, text: str) -> None:
    _tab_to(page, selector)
    page.keyboard.type(text)


def _press_to_navigate(page, selector: str) -> None:
    _tab_to(page, selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_the_dog_registration_is_filed_with_the_keyboard_alone(
    procedures, live_server, new_phone_page
):
    page = new_phone_page(bypass_csp=False)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(
        live_server.url + reverse("procedure_start", args=["sample-city", "dog-registration"])
    )
    _press_to_navigate(page, "main form button.button--primary")

    # The owner.
    _type_into(page, '[name="f-name-family"]', "山田")
    _type_into(page, '[name="f-name-given"]', "太郎")
    _tab_to(page, '[name="f-name-family"]', back=True)  # Shift+Tab goes back
    expect(page.locator('[name="f-name-family"]')).to_be_focused()
    _type_into(page, '[name="f-name-kana_family"]', "ヤマダ")
    _type_into(page, '[name="f-name-kana_given"]', "タロウ")
    _type_into(page, '[name="f-birth_date-year"]', "1985")
    _type_into(page, '[name="f-birth_date-month"]', "4")
    _type_into(page, '[name="f-birth_date-day"]', "1")
    _type_into(page, '[name="f-postal_code"]', "5400008")
    _tab_to(page, 'button[value="postal:f-postal_code"]')
    page.keyboard.press("Enter")  # the look-up fills the address and focuses the town
    expect(page.locator('[name="f-address-city"]')).to_have_value("大阪市中央区")
    expect(page.locator('[name="f-address-town"]')).to_be_focused()
    _assert_focus_visible(page)
    page.keyboard.press("End")
    page.keyboard.type("2丁目1-22")
    _type_into(page, '[name="f-phone"]', "09012345678")
    _type_into(page, '[name="f-email"]', "taro@example.jp")
    _press_to_navigate(page, '.actions button[value="next"]')
    assert page.locator("#error-summary").count() == 0, page.locator("main").inner_text()

    # The dog.
    _type_into(page, '[name="f-dog_name"]', "ポチ")
    _tab_to(page, '[name="f-breed"]')
    page.keyboard.press("ArrowDown")  # the first breed (柴犬)
    expect(page.locator('[name="f-breed"]')).to_have_value("shiba")
    _type_into(page, '[name="f-dog_birth_date-year"]', "2024")
    _type_into(page, '[name="f-dog_birth_date-month"]', "1")
    _type_into(page, '[name="f-dog_birth_date-day"]', "15")
    _tab_to(page, '[name="f-sex"]')
    page.keyboard.press("Space")
    _tab_to(page, '[name="f-vaccinated"]')
    page.keyboard.press("Space")  # yes
    page.keyboard.press("ArrowDown")  # arrow keys move within the radio group: no
    expect(page.locator('[name="f-vaccinated"][value="no"]')).to_be_checked()
    _press_to_navigate(page, '.actions button[value="next"]')
    assert page.locator("#error-summary").count() == 0, page.locator("main").inner_text()

    # The declaration.
    _tab_to(page, '[name="f-declaration"]')
    page.keyboard.press("Space")
    expect(page.locator('[name="f-declaration"]')).to_be_checked()
    _press_to_navigate(page, '.actions button[value="next"]')

    assert "/confirm/" in page.url
    _press_to_navigate(page, 'form[data-submit-once] button[type="submit"]')
    assert "/done/" in page.url
    number = page.locator("#receipt-number").inner_text().strip()
    sub = m.Submission.objects.get(number=number)
    assert sub.answers["name"]["family"] == "山田"
    assert sub.answers["address"]["town"] == "大手前2丁目1-22"
    assert sub.answers["vaccinated"] is False
    assert problems == []
