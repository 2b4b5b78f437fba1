"""Smoke run of `manage.py bench_directory_search` (docs/benchmarks.md) over the smallest
generated directory: every query kind still runs and prints its figures, the plain-SQL floor
measured in the same run included."""

import io
import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_bench_directory_search_prints_every_query_and_its_plain_sql_floor():
    call_command("generate_directory", services=60, force=True, stdout=io.StringIO())
    stdout = io.StringIO()

    call_command(
        "bench_directory_search", queries=3, force=True, stdout=stdout, stderr=io.StringIO()
    )

    output = stdout.getvalue()
    assert "60 services in" in output
    timed = r"n=3 median=\d+\.\d ms p95=\d+\.\d ms max=\d+\.\d ms rows: median [\d.]+, max \d+"
    for label in ("street corner (ORM)", "typo, text only", "open now only"):
        assert re.search(rf"^{re.escape(label)} +{timed}$", output, re.M), label
    # The floors: the street-corner and open-now queries in one plain SQL statement each.
    assert re.search(rf"^street corner \(SQL\) +{timed}$", output, re.M)
    assert re.search(rf"^open now only \(SQL\) +{timed}$", output, re.M)
