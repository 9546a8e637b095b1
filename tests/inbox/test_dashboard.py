"""The dashboard: figures computed by the database over the user's scope, drawn as
accessible inline SVG with the numbers in a table too."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from forms_engine import models as m
from inbox.charts import Point, bar_chart
from inbox.dashboard import dashboard_stats
from inbox.scope import submissions_visible

from .conftest import make_submission

URL = reverse("inbox:dashboard")
S = m.Submission.Status
K = m.Submission.ClientKind


def at(days_ago: int, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def filed(world):
    """The environment department (dog registration): 4 more filings over 3 days, 2
    decided after 2 and 4 days, 3 of the 5 from phones. Citizens and the prefecture get
    filings that must never show in the environment reviewer's figures."""
    env = [
        make_submission(submitted_at=at(0), client_kind=K.PHONE),
        make_submission(submitted_at=at(0), client_kind=K.PHONE, status=S.IN_REVIEW),
        make_submission(
            submitted_at=at(2), client_kind=K.DESKTOP, status=S.ACCEPTED,
            decided_at=at(2) + dt.timedelta(days=2),
        ),
        make_submission(
            submitted_at=at(2), client_kind=K.PHONE, status=S.REJECTED,
            decided_at=at(2) + dt.timedelta(days=4),
        ),
        # Filed before the last 30 days: outside the default period.
        make_submission(submitted_at=at(40), client_kind=K.PHONE),
    ]  # fmt: skip
    for _ in range(3):
        make_submission("sample-city", "resident-moving-in", submitted_at=at(1))
        make_submission("osaka-pref", "dx-seminar", submitted_at=at(1), client_kind=K.TABLET)
    return env


def test_the_figures_of_a_reviewer_are_those_of_their_department(world, filed):
    user = world.users["city_env"]
    stats = dashboard_stats(submissions_visible(user), days=30)
    # The world's own env filing (today, unknown device) and four of ours.
    assert stats.total == 5
    per_day = dict(stats.per_day)
    assert per_day[timezone.localdate()] == 3
    assert per_day[timezone.localdate() - dt.timedelta(days=1)] == 0
    assert per_day[timezone.localdate() - dt.timedelta(days=2)] == 2
    assert len(stats.per_day) == 30
    dog = m.Procedure.objects.get(slug="dog-registration")
    assert stats.per_procedure == [(dog.pk, 5)]
    assert dict(stats.by_state) == {
        S.SUBMITTED: 2, S.IN_REVIEW: 1, S.ACCEPTED: 1, S.REJECTED: 1
    }  # fmt: skip
    assert stats.decided == 2
    assert stats.median_decision == dt.timedelta(days=3)
    assert stats.median_by_procedure == [(dog.pk, dt.timedelta(days=3), 2)]
    assert dict(stats.by_client)[K.PHONE] == 3
    assert stats.phone_share == pytest.approx(3 / 5)


def test_the_period_changes_what_is_counted(world, filed):
    stats = dashboard_stats(submissions_visible(world.users["city_env"]), days=90)
    assert stats.total == 6 and dict(stats.by_client)[K.PHONE] == 4


def test_an_organization_admin_sees_the_organization_and_not_the_other(world, filed):
    stats = dashboard_stats(submissions_visible(world.users["city_admin"]), days=30)
    assert stats.total == 5 + 1 + 3  # env, the world's citizens filing, three more
    assert dict(stats.by_client).get(K.TABLET) == 0  # the prefecture's tablets are not here


def test_the_figures_cost_the_same_queries_for_few_rows_or_many(world):
    user = world.users["city_env"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            dashboard_stats(submissions_visible(user), days=30)
        return len(captured)

    submissions_visible(user)  # the user's memberships, read once per request
    few = queries()
    for i in range(30):
        make_submission(submitted_at=at(i % 20), status=S.ACCEPTED, decided_at=at(0))
    assert queries() == few <= 8


def test_the_page_draws_each_chart_as_an_accessible_svg_with_its_numbers(world, filed):
    response = world.client("city_env").get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    svgs = re.findall(r"<svg [^>]*>", html)
    assert len(svgs) == 5
    for tag in svgs:
        assert 'role="img"' in tag
        chart = re.search(r'id="(chart-[a-z-]+)"', tag)[1]
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in tag
        assert f'<title id="{chart}-title">' in html and f'<desc id="{chart}-desc">' in html
        assert f'<table class="fee__table" id="{chart}-table">' in html
    # The numbers are in the tables as well as in the pictures.
    assert "60%" in html  # three of five from phones
    assert "3.0日" in html or "3.0 days" in html  # the median time to decision
    # Nothing of the other department or organization.
    assert "転入届" not in html and "セミナー" not in html


def test_the_dashboard_is_audited_and_needs_the_second_factor(world, client):
    from inbox.models import AuditLog

    world.client("city_env").get(URL, {"days": "7"})
    row = AuditLog.objects.get(action="dashboard.view")
    assert row.data == {"days": 7} and row.actor_name == "city_env"
    client.force_login(world.users["city_env"])
    assert client.get(URL).status_code == 302


def test_chart_labels_are_escaped():
    html = bar_chart("c", "<b>t</b>", [Point("<script>x</script>", 3, "3 & more")], ("a", "b"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "3 &amp; more" in html and "&lt;b&gt;t&lt;/b&gt;" in html


def test_the_dashboard_is_in_the_staff_menu(world):
    html = world.client("city_env").get(reverse("inbox:submission_list")).content.decode()
    assert f'href="{URL}"' in html
