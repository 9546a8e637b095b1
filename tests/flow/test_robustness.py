"""Odd input never becomes a server error, and one bad record never blocks the others."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services
from tests.factories import page_post
from tests.staff import login_verified

from .conftest import file_completely, page_spec
from .test_every_field_type import tweak, walk_to_page

TREE = Path(__file__).resolve().parent.parent / "fixtures" / "procedures"


@pytest.fixture
def town(db, settings):
    settings.RATE_LIMIT_ENABLED = False
    assert services.procedures_load(TREE).errors == []


@pytest.mark.parametrize(
    "action",
    [
        "remove-file:f-docs:not-a-uuid",
        "remove:f-helpers:\u00b2",  # "²".isdigit() is true
        "postal:f-helpers-\u00b2-helper_zip",
        "remove:f-helpers:99999999999999999999",
        "add:f-nothing",
        "something-else",
    ],
)
def test_a_malformed_action_is_ignored_not_a_server_error(client, town, action):
    url = walk_to_page(client, "people")
    response = client.post(url, {"_action": action, "f-helpers-count": "1"})
    assert response.status_code == 302


def test_a_number_too_long_to_be_exact_is_refused_politely(client, town):
    url = client.post(reverse("procedure_start", args=["test-town", "every-field"]))["Location"]
    _d, _p, page = page_spec(url)
    data = tweak(0, page, page_post(page))
    data["f-copies"] = "9" * 5000
    response = client.post(url, data)
    assert response.status_code == 200
    assert "f-copies-error" in response.content.decode()


def test_a_file_inside_a_group_entry_can_be_removed(client, town):
    url = walk_to_page(client, "people")
    _d, _p, page = page_spec(url)
    client.post(url, tweak(0, page, page_post(page)))
    attachment = m.Attachment.objects.get(field_key__endswith=".helper_doc")
    response = client.post(
        url,
        {"_action": f"remove-file:f-helpers-0-helper_doc:{attachment.pk}", "f-helpers-count": "1"},
    )
    assert response.status_code == 302
    assert not m.Attachment.objects.filter(pk=attachment.pk).exists()
    draft = m.Draft.objects.get(pk=url.split("/")[2])
    assert not draft.answers["0"]["helpers"][0].get("helper_doc")


def test_a_field_named_new_keeps_what_was_typed(client, db, tmp_path, settings):
    settings.RATE_LIMIT_ENABLED = False
    tree = tmp_path / "procedures"
    (tree / "test-town").mkdir(parents=True)
    (tree / "test-town" / "organization.yaml").write_text(
        (TREE / "test-town" / "organization.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tree / "test-town" / "news.yaml").write_text(
        "title: お知らせ\ndepartment: general\ncontact_email: mail\npages:\n"
        "  - id: p\n    title: P\n    fields:\n"
        "      - {id: mail, type: email, label: メール}\n"
        "      - {id: new, type: text, label: 新しい住所の町名}\n",
        encoding="utf-8",
    )
    assert services.procedures_load(tree).errors == []
    url = client.post(reverse("procedure_start", args=["test-town", "news"]))["Location"]
    client.post(url, {"_action": "save", "f-new": "大手前"})
    assert 'value="大手前"' in client.get(url).content.decode()


def test_one_receipt_that_cannot_be_mailed_does_not_hold_back_the_others(
    client, town, settings, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    first, _ = file_completely(
        client, reverse("procedure_start", args=["test-town", "every-field"]), tweak
    )
    client.cookies.clear()
    second, _ = file_completely(
        client, reverse("procedure_start", args=["test-town", "every-field"]), tweak
    )
    real = services._receipt_mail

    def broken_for_the_first(receipt):
        if receipt.pk == first.receipt_id:
            raise ValueError("a record this code cannot handle")
        return real(receipt)

    monkeypatch.setattr(services.receipt_mails, "_receipt_mail", broken_for_the_first)
    assert services.receipt_mails_send() == 1
    assert len(mail.outbox) == 1 and second.receipt.number in mail.outbox[0].body
    second.receipt.refresh_from_db()
    assert second.receipt.mailed_at is not None


def test_only_the_first_field_of_a_profile_key_is_saved_back(db):
    from forms_engine.filing import FilingView
    from forms_engine.procedure_format.loader import parse_procedure

    spec, errors = parse_procedure(
        "title: T\ndepartment: general\ncontact_email: mail\npages:\n  - id: p\n    title: P\n"
        "    fields:\n      - {id: mail, type: email, label: M}\n"
        "      - {id: phone, type: tel, label: 本人, profile: phone}\n"
        "      - {id: agent_phone, type: tel, label: 代理人, profile: phone}\n",
        organization=None,
        org_slug="test-town",
        slug="t",
        rel_path="t.yaml",
    )
    assert errors == []
    resident = m.Resident.objects.create(email="r@example.jp")
    view = FilingView(
        specs=[spec], answers={"0": {"phone": "090-1111-1111", "agent_phone": "090-9999-9999"}}
    )
    services._profile_save(resident, view)
    assert resident.profile["phone"] == "090-1111-1111"


def test_a_file_over_the_server_cap_is_dropped_while_read_and_the_rest_is_kept(
    client, db, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import png_bytes

    settings.RATE_LIMIT_ENABLED = False
    settings.UPLOAD_FILE_MAX_BYTES = 4096
    assert services.procedures_load(settings.PROCEDURES_DIR).errors == []
    url = client.post(reverse("procedure_start", args=["sample-city", "dog-registration"]))[
        "Location"
    ]
    _d, _p, page = page_spec(url)
    url = client.post(url, page_post(page))["Location"]
    _d, _p, page = page_spec(url)
    data = page_post(page)
    big = SimpleUploadedFile("big.png", png_bytes() + b"\0" * 10_000)
    # The file comes first in the body: what follows it must still be read.
    data = {
        "f-vaccination_certificate": big,
        **{k: v for k, v in data.items() if k != "f-vaccination_certificate"},
    }
    response = client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "big.png" in html and "f-vaccination_certificate-error" in html
    assert 'value="テスト"' in html  # the dog's name, posted after the file, is kept
    assert m.Attachment.objects.count() == 0


ORG = (TREE / "test-town" / "organization.yaml").read_text(encoding="utf-8")


def _tree(tmp_path, **files):
    tree = tmp_path / "procedures"
    (tree / "test-town").mkdir(parents=True)
    (tree / "test-town" / "organization.yaml").write_text(ORG, encoding="utf-8")
    for name, text in files.items():
        # a_one_yaml -> a-one.yaml, abc_bundle_yaml -> abc.bundle.yaml
        filename = name.replace("_bundle_yaml", ".bundle.yaml").replace("_yaml", ".yaml")
        (tree / "test-town" / filename.replace("_", "-")).write_text(text, encoding="utf-8")
    assert services.procedures_load(tree).errors == []
    return tree


def _proc(fields: str, extra: str = "") -> str:
    return (
        "title: T\ndepartment: general\ncontact_email: mail\npages:\n  - id: p\n    title: P\n"
        "    fields:\n      - {id: mail, type: email, label: M, required: true}\n" + fields + extra
    )


def test_a_fee_too_large_to_charge_is_refused_not_a_crash(client, db, tmp_path, settings):
    settings.RATE_LIMIT_ENABLED = False
    _tree(
        tmp_path,
        big_fee_yaml=_proc(
            "      - {id: n, type: number, label: N, required: true}\n",
            "fee:\n  items:\n    - {label: L, amount: 100000, quantity: n}\n",
        ),
    )
    url = client.post(reverse("procedure_start", args=["test-town", "big-fee"]))["Location"]
    confirm = client.post(url, {"_action": "next", "f-mail": "a@example.jp", "f-n": "9" * 15})
    response = client.post(confirm["Location"])
    assert response.status_code == 409
    assert m.Submission.objects.count() == 0


def test_a_stale_answer_inside_a_group_entry_does_not_count(db):
    from forms_engine.filing import FilingView
    from forms_engine.procedure_format.loader import parse_procedure

    spec, errors = parse_procedure(
        _proc(
            "      - id: g\n        type: group\n        label: G\n        repeat: {min: 0, max: 3}\n"
            "        fields:\n"
            "          - {id: a, type: yes_no, label: A}\n"
            "          - {id: b, type: text, label: B, show_if: a}\n"
            "          - {id: c, type: text, label: C, show_if: b == 'x'}\n"
        ),
        organization=None,
        org_slug="test-town",
        slug="t",
        rel_path="t.yaml",
    )
    assert errors == []
    view = FilingView(specs=[spec], answers={"0": {"g": [{"a": False, "b": "x", "c": "y"}]}})
    assert view.visible_answers(0)["g"] == [{"a": False}]


def test_a_bundle_takes_the_nearest_answered_twin(client, db, tmp_path, settings):
    settings.RATE_LIMIT_ENABLED = False
    optional = _proc("      - {id: tel, type: tel, label: 電話, profile: phone}\n")
    required = _proc("      - {id: tel, type: tel, label: 電話, required: true, profile: phone}\n")
    _tree(
        tmp_path,
        a_one_yaml=optional,
        b_two_yaml=required,
        c_three_yaml=optional,
        abc_bundle_yaml="title: ABC\nprocedures: [a-one, b-two, c-three]\n",
    )
    url = client.post(reverse("bundle_start", args=["test-town", "abc"]))["Location"]
    url = client.post(url, {"_action": "next", "f-mail": "a@example.jp", "f-tel": ""})["Location"]
    assert url.endswith("/1/p/")  # required here: asked again
    url = client.post(url, {"_action": "next", "f-mail": "a@example.jp", "f-tel": "090-1234-5678"})[
        "Location"
    ]
    assert url.endswith("/2/p/")
    # C shares B's answer (the nearest answered twin), not A's blank: its phone is not asked.
    assert 'name="f-tel"' not in client.get(url).content.decode()
    url = client.post(url, {"_action": "next", "f-mail": "a@example.jp"})["Location"]
    client.post(url)
    subs = {s.procedure.slug: s.answers for s in m.Submission.objects.all()}
    assert subs["c-three"].get("tel") == "090-1234-5678"
    assert "tel" not in subs["a-one"]


def test_a_file_in_a_group_entry_survives_a_language_switch(client, town):
    url = walk_to_page(client, "people")
    _d, _p, page = page_spec(url)
    data = tweak(0, page, page_post(page))
    data["_action"] = "lang:en"
    client.post(url, data)
    assert m.Attachment.objects.filter(field_key__endswith=".helper_doc").count() == 1
    assert "photo.png" in client.get(url).content.decode()


def test_a_late_keep_on_leave_does_not_undo_a_newer_save(client, town):
    url = client.post(reverse("procedure_start", args=["test-town", "every-field"]))["Location"]
    html = client.get(url).content.decode()
    seen = __import__("re").search(r'name="_seen" value="([^"]+)"', html)[1]
    _d, _p, page = page_spec(url)
    client.post(url, tweak(0, page, page_post(page)))  # saved (say, in another tab)
    client.post(url, {"_action": "autosave", "_seen": seen, "f-title_text": "Old typing"})
    assert "Old typing" not in client.get(url).content.decode()


def test_nothing_can_be_deleted_from_the_admin(client, town, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.jp", "pw-123456!")
    login_verified(client, admin)
    procedure = m.Procedure.objects.first()
    response = client.get(f"/admin/forms_engine/procedure/{procedure.pk}/delete/")
    assert response.status_code == 403
