"""The counts per status on the inbox's tabs: capped at COUNT_CAP (shown "1,000+" /
「1,000件以上」), one query whatever the table holds, and read by index-only scans on
PostgreSQL (docs/performance.md, "The staff inbox at a million rows")."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from forms_engine import models as m
from inbox import selectors
from inbox.scope import submissions_visible
from inbox.selectors import InboxFilters, status_counts
from inbox.views.submissions import count_label

from .conftest import R, make_staff, make_submission, verified_client

S = m.Submission.Status
URL = "/staff/"


@pytest.fixture
def reviewer(loaded):
    return make_staff("env", "sample-city", R.REVIEWER, "environment")


def tab_counts(response) -> list[str]:
    return re.findall(r'<span class="count">([^<]+)</span>', response.content.decode())


def test_counts_stop_past_the_cap_and_stay_exact_below_it(reviewer, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for _ in range(5):
        make_submission(status=S.SUBMITTED)
    for _ in range(3):
        make_submission(status=S.IN_REVIEW)
    make_submission(status=S.RETURNED)
    counts = status_counts(reviewer, InboxFilters())
    # Past the cap a count reads COUNT_CAP + 1 ("more than"); at or below it, exact.
    assert counts == {S.SUBMITTED: 4, S.IN_REVIEW: 3, S.RETURNED: 1}
    assert selectors.count_is_capped(counts[S.SUBMITTED])
    assert not selectors.count_is_capped(counts[S.IN_REVIEW])


def test_a_capped_tab_says_so_in_both_languages(reviewer, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for _ in range(5):
        make_submission(status=S.SUBMITTED)
    make_submission(status=S.IN_REVIEW)
    client = verified_client(reviewer)
    labels = {value: i + 1 for i, value in enumerate(S.values)}  # tab 0 is "All"
    for lang, capped, total in (("ja", "3件以上", "4件以上"), ("en", "3+", "4+")):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        tabs = tab_counts(client.get(URL))
        assert len(tabs) == len(S.values) + 1
        # "All" adds the capped counts as they are shown: at least 3 + 1.
        assert tabs[0] == total
        assert tabs[labels[S.SUBMITTED]] == capped
        assert tabs[labels[S.IN_REVIEW]] == "1"
        assert tabs[labels[S.REJECTED]] == "0"


def test_count_labels_group_thousands_and_mark_the_cap():
    with translation.override("en"):
        assert count_label(0) == "0"
        assert count_label(999) == "999"
        assert count_label(selectors.COUNT_CAP) == f"{selectors.COUNT_CAP:,}"
        assert count_label(selectors.COUNT_CAP + 1) == "1,000+"
        assert count_label(2345, at_least=True) == "2,345+"
    with translation.override("ja"):
        assert count_label(selectors.COUNT_CAP + 1) == "1,000件以上"


def test_the_counts_cost_one_query_however_many_rows_and_statuses(
    reviewer, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    submissions_visible(reviewer)  # the scope, read once per request, is not counted here
    make_submission(status=S.SUBMITTED)
    with django_assert_num_queries(1):
        few = status_counts(reviewer, InboxFilters())
    for status in S.values:
        for _ in range(4):
            make_submission(status=status)
    with django_assert_num_queries(1):
        many = status_counts(reviewer, InboxFilters())
    assert few == {S.SUBMITTED: 1}
    assert many == {status: 3 for status in S.values}


def test_nobody_outside_the_staff_costs_a_count_query(loaded, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    with django_assert_num_queries(0):
        assert status_counts(AnonymousUser(), InboxFilters()) == {}


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL plans")
@pytest.mark.parametrize("who", ["reviewer", "org_admin"])
@pytest.mark.parametrize("by_procedure", [True, False])
def test_each_capped_count_is_an_index_only_scan(transactional_db, loaded, who, by_procedure):
    """Once VACUUM has set the visibility map (as autovacuum does), every status's count is
    an index-only scan (an index holds the scope's columns: no row of the table is read),
    stopped by its LIMIT. Which index serves it at a million rows is checked by
    benchmarks/inbox.py's plan check (a table this small makes the indexes tie)."""
    user = (
        make_staff("env", "sample-city", R.REVIEWER, "environment")
        if who == "reviewer"
        else make_staff("admin", "sample-city", R.ORGANIZATION_ADMIN)
    )
    sub = make_submission()
    qs = submissions_visible(user)
    if by_procedure:
        qs = qs.filter(procedure_id=sub.procedure_id)
    sql, params = selectors.status_counts_sql(qs, list(S.values))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE forms_engine_submission")
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
        try:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_bitmapscan")
    assert plan.count("Index Only Scan using ") == len(S.values), plan
    assert plan.count("Limit") == len(S.values), plan
