"""Smoke run of `manage.py bench_hsds` (docs/benchmarks.md) over the smallest generated
directory: every step still runs and prints its figures, the COPY floor included."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_bench_hsds_prints_every_step_and_its_copy_floor():
    call_command("generate_directory", services=40, force=True, stdout=io.StringIO())
    stdout = io.StringIO()

    call_command("bench_hsds", force=True, stdout=stdout, stderr=io.StringIO())

    output = stdout.getvalue()
    assert "40 services in" in output
    timed = r" +\d+\.\d\d s  cpu +\d+\.\d\d s  peak +\d+ MB  "
    assert re.search(rf"^floor: COPY of the same rows{timed}[\d.]+ MB$", output, re.M)
    assert re.search(rf"^export JSON{timed}40 services, [\d.]+ MB$", output, re.M)
    assert re.search(rf"^export CSV{timed}\d+ rows, [\d.]+ MB$", output, re.M)
    assert re.search(rf"^import, every check{timed}Imported: 0 created, 0 updated", output, re.M)
    assert re.search(rf"^import, unchanged{timed}Imported: 0 created, 0 updated", output, re.M)


def test_bench_hsds_can_leave_the_import_out():
    call_command("generate_directory", services=10, force=True, stdout=io.StringIO())
    stdout = io.StringIO()

    call_command("bench_hsds", force=True, no_import=True, stdout=stdout, stderr=io.StringIO())

    output = stdout.getvalue()
    assert "export CSV" in output and "import" not in output


def test_bench_hsds_refuses_a_database_not_named_for_benchmarks():
    with pytest.raises(CommandError, match="bench"):
        call_command("bench_hsds", stdout=io.StringIO())
