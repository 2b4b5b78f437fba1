"""CI's dependency audit (.ci/audit_deps.py over pip-audit's JSON): a known vulnerability
fails; pins that could not be checked are named, and fail too under ACS_AUDIT_STRICT."""

import json
import subprocess
import sys
from pathlib import Path

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
