"""Smoke run of `manage.py bench_directory_search` (docs/benchmarks.md) over a tiny generated
directory: every query kind still runs in process, over HTTP through gunicorn and in plain SQL,
the floors are measured in the same run, and the plain SQL returns the selector's rows."""

import io
import random
import re

import pytest
from django.contrib.admin import site as admin_site
from django.core.management import CommandError, call_command

from resources.api import hsds_pagination
from resources.api.hsds_pagination import capped_count
from resources.management.bench_directory.queries import PAGE, TYPOS, WORDS, Query
from resources.management.bench_directory.queries import query_plan as _queries
from resources.management.commands import bench_directory_search as bench_module
from resources.management.commands.bench_directory_search import KINDS, SqlFloor
from resources.models import Service
from resources.selectors import page_rows, service_search
from tests.factories import seed_acs_needs_taxonomy

TIMES = r"\d+\.\d/\d+\.\d/\d+\.\d"
API_LABELS = [
    "text only (correct words)",
    "a misspelt word",
    "misspellings (recall)",
    "open now only",
    "one taxonomy term",
    "within 5 km, nearest first",
    "language",
    "places free",
    "street corner (text+open+3 km+free+es)",
    "text + within 5 km",
    "taxonomy term + open now",
    "language + places free + 5 km",
    "field app: resources screen (50)",
    "admin: referral picker (21)",
]


def bench(**options) -> str:
    stdout = io.StringIO()
    call_command(
        "bench_directory_search", queries=2, force=True, stdout=stdout, stderr=io.StringIO(),
        **{"seconds": 0.5, **options},
    )  # fmt: skip
    return stdout.getvalue()


@pytest.mark.django_db(transaction=True)
def test_every_kind_runs_in_process_over_http_and_in_plain_sql_with_the_same_rows():
    seed_acs_needs_taxonomy()
    call_command("generate_directory", services=30, force=True, stdout=io.StringIO())

    output = bench()

    assert "30 services in" in output
    # The HTTP floor: a plain client's round trip to gunicorn, for a view that reads nothing.
    assert re.search(rf"^HTTP floor: GET /api/hsds/ \(no query\) +http {TIMES}$", output, re.M)
    for label in API_LABELS:
        line = re.search(
            rf"^{re.escape(label)} +in-process ({TIMES}) +http ({TIMES}) +sql ({TIMES}) +"
            r"rows ([\d.]+), ([\d.]+)$",
            output,
            re.M,
        )
        assert line, label
        # The plain SQL floor returns as many rows as the selector (the same query).
        assert line[4] == line[5], label
    # Recall and precision of the misspelt queries, printed under their timings.
    assert re.search(
        r"^  recall@20 [01]\.\d{3}  precision@20 [01]\.\d{3}  \(2 misspelt queries\)$", output, re.M
    )
    assert re.search(
        rf"^admin: service list search box +in-process - +http {TIMES} +sql {TIMES} ", output, re.M
    )
    # Several clients at once: the requests answered a second, overall and each kind's
    # latency, then the floor's under the same load.
    mix = re.search(
        r"^concurrent: 2 clients, the mix +http ([\d.]+) req/s, [\d.]+/[\d.]+; text [\d.]+/"
        r"[\d.]+; typo [\d.]+/[\d.]+; open [\d.]+/[\d.]+; taxonomy [\d.]+/[\d.]+; "
        r"field [\d.]+/[\d.]+$",
        output,
        re.M,
    )
    assert mix, output
    assert float(mix[1]) > 0
    assert re.search(
        r"^concurrent: 2 clients, floor +http [\d.]+ req/s, [\d.]+/[\d.]+; floor ", output, re.M
    )
    assert len(KINDS) == len(API_LABELS) + 2


@pytest.mark.django_db
def test_without_http_and_with_only_one_kind():
    call_command("generate_directory", services=30, force=True, stdout=io.StringIO())

    output = bench(only=["street"], http=False)

    assert "HTTP floor" not in output
    street = re.escape(API_LABELS[8])
    assert re.search(rf"^{street} +in-process {TIMES} +http - +sql {TIMES} ", output, re.M)
    assert "open now only" not in output
    # A kind measured over HTTP only says so rather than printing nothing.
    output = bench(only=["concurrent", "admin_services"], http=False)
    for kind in ("concurrent", "admin_services"):
        assert re.search(rf"^{kind} +not run: it is measured over HTTP only", output, re.M)


@pytest.mark.django_db
def test_refuses_a_database_whose_name_lacks_bench():
    # It signs bench users in without their second factor: never on a real database.
    with pytest.raises(CommandError, match="bench"):
        call_command("bench_directory_search", queries=1, stdout=io.StringIO())


@pytest.mark.django_db
def test_each_plain_sql_floor_returns_the_selectors_page_and_capped_count():
    # The floors are only floors if they answer the same query: the same ids in the same order
    # (text rank from the search documents, distance, open now from the opening intervals) and
    # the count the HSDS API gives (capped at COUNT_CAP).
    call_command("generate_directory", services=120, force=True, stdout=io.StringIO())
    rng = random.Random(11)  # noqa: S311 - the bench's reproducible queries
    plan = _queries(4, rng)
    floor = SqlFloor()
    compared = 0
    for _label, inputs in plan.values():
        floor.prepare(q.text for q in inputs)
        for q in inputs:
            qs = service_search(**q.search_kwargs())
            ids, total = floor.rows(q)
            assert ids == [sal.pk for sal in page_rows(qs, 0, PAGE)], q
            assert total == capped_count(qs, at_least=PAGE)[0], q
            compared += bool(ids)
    assert compared >= 20  # most queries find rows: the comparison is not of empty pages


@pytest.mark.django_db
def test_the_admin_lists_plain_sql_floor_returns_its_first_page_and_capped_count(rf):
    """The service list's floor answers what ServiceAdmin's search does: the same first page
    of ids in the same order (every status, best match first) and the same capped count."""
    call_command("generate_directory", services=120, force=True, stdout=io.StringIO())
    Service.objects.filter(pk__in=Service.objects.order_by("pk")[:30]).update(status="inactive")
    service_admin = admin_site._registry[Service]
    floor = SqlFloor()
    words = [*WORDS[:6], *TYPOS[:4]]
    floor.prepare(words)
    compared = 0
    for word in words:
        request = rf.get("/admin/resources/service/", {"q": word})
        searched, _ = service_admin.get_search_results(request, Service.objects.all(), word)
        ids, total = floor.admin_rows(word)
        assert ids == list(searched.values_list("pk", flat=True)[:50]), word
        paginator = service_admin.get_paginator(request, searched, 50)
        assert total == paginator.counted, word
        compared += bool(ids)
    assert compared >= 6


@pytest.mark.django_db
def test_the_plain_sql_count_is_capped_as_the_apis(monkeypatch):
    call_command("generate_directory", services=40, force=True, stdout=io.StringIO())
    monkeypatch.setattr(bench_module, "COUNT_CAP", 5)
    monkeypatch.setattr(hsds_pagination, "COUNT_CAP", 5)
    floor = SqlFloor()
    floor.prepare(["shelter"])
    q = Query()

    assert floor.rows(q)[1] == 6 == capped_count(service_search(), at_least=5)[0]


@pytest.mark.django_db(transaction=True)
def test_bench_interleaved_sends_each_request_to_both_checkouts(tmp_path):
    """`bench_interleaved` (this checkout against another; here against itself) starts a
    gunicorn from each, times every kind and the HTTP floor on both sides, and refuses what
    is not another checkout."""
    from django.conf import settings

    seed_acs_needs_taxonomy()
    call_command("generate_directory", services=30, force=True, stdout=io.StringIO())
    stdout = io.StringIO()
    call_command(
        "bench_interleaved", against=str(settings.BASE_DIR), queries=2, rounds=1, force=True,
        stdout=stdout,
    )  # fmt: skip
    output = stdout.getvalue()

    assert "30 services in" in output
    for label in ("HTTP floor: GET /api/hsds/", "admin", "field", "picker"):
        assert re.search(rf"^{re.escape(label)} +this {TIMES}  other {TIMES}$", output, re.M), (
            label,
            output,
        )
    with pytest.raises(CommandError, match="not a checkout"):
        call_command("bench_interleaved", against=str(tmp_path), force=True)
