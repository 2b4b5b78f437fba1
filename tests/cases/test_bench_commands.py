"""Smoke runs of the cases app's benchmarks (docs/benchmarks.md) at their smallest sizes, so
that none can rot: each must still run against today's models and print the figures it
promises, the floor measured in the same run included."""

import io
import re

import pytest
from django.core.management import call_command

from cases.models import Call, Encounter, EncounterResident, MetricRollup, Notification
from resources.models import Referral

TIMED = r"median=\d+\.\d ms p95=\d+\.\d ms max=\d+\.\d ms \(n=2\)"
PAGES = [
    "public page, last 12 months, all districts",
    "public page, last 12 months, district 4",
    "public page, 36 months, all districts",
    "metrics.json, last 12 months",
    "metrics.csv, last 12 months",
    "staff page (admin), last 12 months",
]


def run(command: str, **options) -> str:
    stdout = io.StringIO()
    call_command(command, stdout=stdout, stderr=io.StringIO(), **options)
    return stdout.getvalue()


@pytest.mark.django_db
def test_bench_transparency_generates_todays_records_and_prints_its_figures_and_floors():
    output = run("bench_transparency", calls=200, months=3, requests=2, force=True)

    # Generated records fill today's columns (each INSERT names every NOT NULL column).
    assert Call.objects.filter(incident_number__startswith="BENCH-").count() == 200
    assert Encounter.objects.filter(status="submitted").exists()
    assert Encounter.objects.exclude(needs=[]).exists()
    assert EncounterResident.objects.exclude(living_situation="").exists()
    # Issue 21: CAD's flag and routing, the rules, and holds, so that the new figures work.
    assert Call.objects.exclude(routed_to="").exists()
    assert Call.objects.filter(acs_eligible__isnull=False).exists()
    assert MetricRollup.objects.filter(metric="coverage", denominator__gt=0).exists()
    assert (
        Encounter.objects.filter(involuntary_hold=True).exists()
        or len(Encounter.objects.all()) < 60
    )
    assert Referral.objects.exists()
    assert re.search(r"refresh \(full, \d{4}-\d\d\.\.\d{4}-\d\d\): [\d,]+ figures in", output)
    assert re.search(r"refresh \(recent, \d{4}-\d\d\.\.\d{4}-\d\d\): [\d,]+ figures in", output)
    for page in PAGES:
        label = re.escape(f"{page:<46}")
        assert re.search(rf"{label} cold: {TIMED}", output), page
        assert re.search(rf"{label} warm: {TIMED}", output), page
        # The floor: the page's own statements in plain SQL, the rollups' rows among them.
        floor = rf"{label} plain SQL: {TIMED}, the \d+ SELECTs of a cold request, ([\d,]+) rows"
        floor = re.search(floor, output)
        assert floor and int(floor[1].replace(",", "")) >= 100, page
    assert re.search(rf"request floor \(/favicon.ico, no query\) +{TIMED}", output)


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_bench_notifications_sends_through_a_real_worker_and_prints_its_figures_and_floors():
    output = run("bench_notifications", notifications=5, pending="50", due=5, runs=2, force=True)

    sent = r"provider got 5 texts from 5 sends, 0 numbers twice"
    # Five texts are one batch task (whether the sweep or the commit queued them).
    task = (
        r"send_notifications \(batches: the claim and checks, the sends going on in the "
        r"process's threads\) in the worker logs \(1\): median \d+\.\d ms, "
        r"p95 \d+\.\d ms"
    )
    for label in ("swept", "scheduled"):
        assert re.search(rf"  {label} +\d+ texts/s end to end .*{sent}; {task}", output), label
    # The job's floor (issue 24): the same texts over one keep-alive connection, results
    # recorded per 100 in one statement; and each pass as a share of it.
    assert re.search(r"  floor job +\d+ texts/s: the same 5 texts one after another", output)
    assert re.search(r"  against the job's floor: swept \d+%, scheduled \d+%", output)
    # The floor: the same texts posted straight to the provider by a plain HTTP client.
    assert re.search(
        r"  floor +\d+ texts/s: 5 posts to the provider from a plain HTTP client in 2 threads,"
        r" a new connection each .*median \d+\.\d ms, p95 \d+\.\d ms",
        output,
    )
    # ... and over keep-alive connections, from as many threads as the workers send with.
    assert re.search(
        r"  floor ka +\d+ texts/s: 5 posts to the provider from a plain HTTP client in \d+ "
        r"threads, over keep-alive connections .*median \d+\.\d ms, p95 \d+\.\d ms",
        output,
    )
    assert re.search(
        r"50 not due \+ 5 due .*: median \d+\.\d\d ms, p95 \d+\.\d\d ms, max \d+\.\d\d ms; "
        r"plan uses cases_notif_due_idx: (yes|NO)",
        output,
    )
    assert re.search(
        r"floor, the same statement in plain SQL: median \d+\.\d\d ms, p95 \d+\.\d\d ms", output
    )
    assert "cleaned up in" in output
    assert not Notification.objects.exists()  # it leaves nothing behind


def test_every_benchmark_command_has_a_smoke_run_in_the_suite():
    """Issue 21: bench_transparency broke unnoticed once (a NOT NULL column its INSERT did not
    set). Every bench_* command of every app must be run, at a tiny size, by some test."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    commands = {
        path.stem
        for app in ("acs", "cases", "resources", "responders")
        for path in (root / app / "management" / "commands").glob("bench_*.py")
    }
    assert "bench_transparency" in commands
    tests = "\n".join(p.read_text() for p in (root / "tests").rglob("test_*.py"))
    # A smoke run calls the command by name: run("bench_x", ...) or call_command("bench_x", ...)
    missing = sorted(
        c for c in commands if not re.search(rf"(run|call_command)\(\s*\"{c}\"", tests)
    )
    assert not missing, f"benchmark commands without a smoke run in tests/: {missing}"


@pytest.mark.django_db
def test_bench_board_prints_the_delta_the_snapshot_the_304_and_their_floors_and_cleans_up():
    from responders.models import Unit

    output = run("bench_board", units=5, calls=20, runs=2, force=True)

    assert "snapshot: 20 calls, 5 units" in output
    assert "delta: 3 calls and 3 units changed" in output
    for label in (
        "update (changed, delta)",
        "floor of the delta",
        "whole snapshot (no cursor)",
        "floor of the snapshot",
        "nothing changed (304)",
        "floor of the 304",
    ):
        assert re.search(re.escape(label) + r".*" + TIMED, output), label
    assert not Call.objects.filter(incident_number__startswith="BENCHB-").exists()
    assert not Unit.objects.filter(call_sign__startswith="BENCHB-").exists()
