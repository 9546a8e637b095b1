"""Issue 10, item 5: what a resident met and should not have (server side). The browser
side (Enter, focus, axe) is in tests/browser/test_resident_pages.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from forms_engine import services
from forms_engine.views import errors as error_views
from tests.factories import page_post

from .conftest import page_spec

DOG = ("sample-city", "dog-registration")
TREE = Path(__file__).resolve().parent.parent / "fixtures" / "procedures"


def start(client, org_slug=DOG):
    response = client.post(reverse("procedure_start", args=list(org_slug)))
    assert response.status_code == 302
    return response["Location"]


def _every_field(db):
    assert services.procedures_load(TREE).errors == []


def _assert_service_page(html: str, lang: str):
    assert f'<html lang="{lang}">' in html
    assert 'class="site-header"' in html
    assert 'id="contact-title"' in html
    assert 'href="/"' in html or 'href="/"' in html
    assert "Not Found" not in html and "DEBUG" not in html and "CSRF verification" not in html


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_draft_page_without_the_session_explains_how_to_continue(client, loaded, lang):
    url = start(client)
    stranger = Client()
    stranger.cookies["django_language"] = lang
    response = stranger.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    _assert_service_page(html, lang)
    expected = "再開用リンク" if lang == "ja" else "resume link"
    assert expected in html
    assert reverse("login") in html


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_an_unknown_page_is_the_services_404(client, db, lang):
    response = client.get(f"/no-such-page/?lang={lang}")
    assert response.status_code == 404
    html = response.content.decode()
    _assert_service_page(html, lang)
    assert ("ページが見つかりません" if lang == "ja" else "Page not found") in html


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_next_without_any_cookie_gives_the_services_csrf_page(loaded, lang):
    bare = Client(enforce_csrf_checks=True)  # all cookies gone
    url = reverse("procedure_start", args=list(DOG))
    response = bare.post(f"{url}?lang={lang}")
    assert response.status_code == 403
    html = response.content.decode()
    _assert_service_page(html, lang)
    assert ("Cookie" if lang == "ja" else "cookies") in html


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("status", [400, 403, 429, 500, 503])
def test_every_other_error_is_a_page_in_the_services_look(db, settings, lang, status):
    settings.SITE_CONTACT = "電子申請窓口 06-0000-0000"
    request = RequestFactory().get(f"/?lang={lang}")
    request.COOKIES["django_language"] = lang
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import translation

    request.session = SessionStore()
    with translation.override(lang):
        if status == 400:
            response = error_views.bad_request(request, ValueError("bad"))
        elif status == 403:
            response = error_views.permission_denied(request, None)
        elif status == 429:
            from forms_engine.ratelimit import limited_response

            response = limited_response(request, next(iter(settings.RATE_LIMITS)))
        elif status == 500:
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                response = error_views.server_error(request)
        else:
            response = error_views.service_unavailable(request)
    assert response.status_code == status
    html = response.content.decode()
    _assert_service_page(html, lang)
    assert "電子申請窓口 06-0000-0000" in html


def test_lang_in_the_link_switches_and_sticks(client, db):
    html = client.get("/?lang=en").content.decode()
    assert '<html lang="en">' in html
    assert client.cookies["django_language"].value == "en"
    assert '<html lang="en">' in client.get("/").content.decode()
    assert '<html lang="ja">' in client.get("/?lang=ja").content.decode()
    assert '<html lang="ja">' in client.get("/?lang=xx").content.decode()


def test_the_page_count_says_it_may_grow(client, db):
    _every_field(db)
    url = client.post(reverse("procedure_start", args=["test-town", "every-field"]))["Location"]
    html = client.get(url).content.decode()
    assert re.search(r"1ページ目（全\d+ページ、回答により増えることがあります）", html), html[:3000]


def _people_page(client):
    url = client.post(reverse("procedure_start", args=["test-town", "every-field"]))["Location"]
    while "/people/" not in url:
        _d, _p, page = page_spec(url)
        data = page_post(page)
        if page.id == "basics":
            data.update({"f-title_text": "Annual report", "f-copies": "2"})
        url = client.post(url, data)["Location"]
    return url


def test_group_errors_name_the_entry_and_field_and_link_the_input(client, db, settings):
    settings.RATE_LIMIT_ENABLED = False
    _every_field(db)
    url = _people_page(client)
    _d, _p, page = page_spec(url)
    data = page_post(page)
    data["f-helpers-count"] = "2"
    for key in [k for k in data if k.startswith("f-helpers-1-")]:
        del data[key]
    data.update(
        {
            k.replace("f-helpers-0-", "f-helpers-1-"): v
            for k, v in data.items()
            if k.startswith("f-helpers-0-")
        }
    )
    data["f-helpers-1-helper_name-family"] = ""
    data["f-helpers-1-helper_name-given"] = ""
    data["f-who-family"] = ""
    data["f-who-given"] = ""
    response = client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    summary = html[
        html.index('id="error-summary"') : html.index("</ul>", html.index('id="error-summary"'))
    ]
    assert "補助者 2件目：氏名" in summary
    assert 'href="#f-helpers-1-helper_name-family"' in summary
    assert 'href="#f-who-family"' in summary
    # Part inputs of a name in error are invalid and described by the field's error.
    tag = re.search(r'<input[^>]*id="f-who-family"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in tag
    # The summary takes focus without JavaScript.
    assert re.search(r'<div[^>]*id="error-summary"[^>]*autofocus', html)


def test_required_inputs_carry_aria_required_and_conditional_fields_say_if_it_applies(
    client, db, settings
):
    settings.RATE_LIMIT_ENABLED = False
    _every_field(db)
    url = client.post(reverse("procedure_start", args=["test-town", "every-field"]))["Location"]
    html = client.get(url).content.decode()
    assert re.search(r'<input[^>]*id="f-title_text"[^>]*aria-required="true"', html)
    assert re.search(r'<input[^>]*id="f-when-year"[^>]*aria-required="true"', html)
    assert not re.search(r'<textarea[^>]*id="f-note"[^>]*aria-required', html)
    assert " required" not in re.sub(r"aria-required|mark--required", "", html)
    url = client.post(
        url, {**page_post(page_spec(url)[2]), "f-title_text": "Annual report", "f-copies": "2"}
    )["Location"]
    html = client.get(url).content.decode()
    block = html[html.index("data-show-if") :]
    block = block[: block.index("</div></div>") + 12]
    assert "該当する場合は必須" in block or "mark--optional" in block


def test_two_postal_buttons_have_distinct_names(client, db, settings):
    settings.RATE_LIMIT_ENABLED = False
    _every_field(db)
    url = _people_page(client)
    html = client.get(url).content.decode()
    names = re.findall(
        r'value="postal:[^"]+"[^>]*>([^<]*)<span class="visually-hidden"> ([^<]*)</span>', html
    )
    assert len(names) == 2
    assert len({f"{a}{b}" for a, b in names}) == 2


@pytest.mark.parametrize(
    ("lang", "reason"), [("ja", "18歳以上の方が対象です。"), ("en", "You must be 18 or older.")]
)
def test_a_date_limit_says_why(client, loaded, lang, reason):
    client.cookies["django_language"] = lang
    url = start(client)
    _d, _p, page = page_spec(url)
    data = page_post(page)
    data.update({"f-birth_date-year": "2020", "f-birth_date-month": "1", "f-birth_date-day": "1"})
    html = client.post(url, data).content.decode()
    assert reason in html


def test_english_pages_name_prefectures_in_english_and_store_the_japanese(client, loaded):
    client.cookies["django_language"] = "en"
    url = start(client)
    html = client.get(url).content.decode()
    assert '<option value="大阪府">Osaka</option>' in html
    assert ">大阪府<" not in html
    _d, _p, page = page_spec(url)
    data = page_post(page)
    data["f-address-prefecture"] = "大阪府"
    assert client.post(url, data).status_code == 302
    from forms_engine import models as m

    draft = m.Draft.objects.get(pk=_d.pk)
    assert draft.answers["0"]["address"]["prefecture"] == "大阪府"
    client.cookies["django_language"] = "ja"
    assert '<option value="大阪府" selected>大阪府</option>' in client.get(url).content.decode()
