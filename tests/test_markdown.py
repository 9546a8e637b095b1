"""Markdown in procedure texts: links go only to https sites, mail and phone numbers, or
to pages of this site; anything else stays plain text."""

import pytest

from forms_engine.markdown import render


@pytest.mark.parametrize(
    "target",
    [
        "https://www.city.example.lg.jp/dogs",
        "mailto:kankyo@city.example.lg.jp",
        "tel:+81-6-1234-5678",
        "/",
        "/sample-city/dog-registration/",
        "/help?topic=dogs&lang=en",
    ],
)
def test_a_link_to_an_allowed_target_becomes_a_link(target):
    html = render(f"[案内]({target})")

    href = target.replace("&", "&amp;")
    assert html == f'<p><a href="{href}">案内</a></p>'


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",  # protocol-relative: another site
        "//evil.example/path",
        "/\\evil.example",  # browsers read the backslash as a slash
        "/\\/evil.example",
        "http://evil.example",  # not encrypted
        "https:/\\evil.example",
        "https:evil.example",
        "https:///evil.example",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "ftp://evil.example",
        "evil.example",
        "%2F%2Fevil.example",
        "\\\\evil.example",
    ],
)
def test_a_link_to_anything_else_stays_plain_text(target):
    html = render(f"[案内]({target}) です")

    assert "<a" not in html
    assert "案内" in html


@pytest.mark.parametrize(
    "text",
    [
        "[x](java\tscript:alert(1))",
        "[x](/\t/evil.example)",
        "[x](/\x0c/evil.example)",
        "[x](\x01//evil.example)",
        "[x](https:\t//evil.example)",
    ],
)
def test_a_control_character_cannot_smuggle_another_site_into_a_link(text):
    assert "<a" not in render(text)


def test_a_same_site_path_may_hold_an_escaped_slash():
    # Browsers do not decode %2F or %5C in a path: this stays on the site.
    assert render("[x](/%2F%5Cevil.example)") == '<p><a href="/%2F%5Cevil.example">x</a></p>'


def test_text_around_links_is_escaped():
    html = render('<b>"a"</b> [x](/a) & **bold**')

    assert html == (
        '<p>&lt;b&gt;&quot;a&quot;&lt;/b&gt; <a href="/a">x</a> &amp; <strong>bold</strong></p>'
    )
