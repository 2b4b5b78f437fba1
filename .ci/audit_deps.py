"""CI's dependency audit: pip-audit over uv.lock's pins, and the verdict on its report.

    python .ci/audit_deps.py --run      export every locked pin (all groups) with uv, run
                                        pip-audit over them, judge its report (what .ci/run does)
    python .ci/audit_deps.py < report   judge a pip-audit JSON report read from stdin

A known vulnerability in a locked package fails; a package whose vulnerability data could not
be fetched is listed loudly. Unreachable data fails too when ACS_AUDIT_STRICT=true (set it where
CI has the internet, or a mirror): without it, an audit that could not check every pin says so
in a banner and in the last line, instead of printing "no known vulnerabilities"; it does not
turn CI red for a network it was never given.

pip-audit asks PyPI's per-release JSON API by default. ACS_AUDIT_OSV_URL (the query endpoint of
an OSV-compatible service, e.g. a city's internal mirror: https://osv.internal/v1/query) makes it
ask that instead, for CI without the internet.

Only the standard library: .ci/run runs this with the system's python3.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"

# pip-audit stops at the first answer it cannot use from the vulnerability service (an HTTP
# error, a refused connection, a timeout) with a traceback and no report. Those are data that
# could not be fetched, like PyPI's 404s, which it does report per pin. Any other failure (a
# requirements file it cannot read, a bug) is an error.
SERVICE_FAILURE = re.compile(
    r"^(pip_audit\._service\.interface\.(ServiceError|ConnectionError)"
    r"|requests\.exceptions\.\w+)\b|your network may be blocking this service",
    re.MULTILINE,
)


def judge(report: dict) -> int:
    vulnerable, unchecked, checked = [], [], 0
    for dep in report.get("dependencies", []):
        if dep.get("skip_reason"):
            unchecked.append(f"{dep['name']}: {dep['skip_reason']}")
        elif dep.get("vulns"):
            ids = ", ".join(
                f"{v['id']} (fixed in {', '.join(v.get('fix_versions') or ['-'])})"
                for v in dep["vulns"]
            )
            vulnerable.append(f"{dep['name']} {dep.get('version', '')}: {ids}")
        else:
            checked += 1
    for line in vulnerable:
        print(f"VULNERABLE  {line}")
    strict = os.environ.get("ACS_AUDIT_STRICT", "").lower() in {"1", "true", "yes"}
    if unchecked:
        print("!" * 78)
        total = len(unchecked) + checked + len(vulnerable)
        print(f"DEPENDENCY AUDIT INCOMPLETE: {len(unchecked)} of {total} pins could not be checked")
        print("(the vulnerability data could not be fetched; see docs/security.md):")
        for line in unchecked[:10]:
            print(f"  - {line}")
        if len(unchecked) > 10:
            print(f"  ... and {len(unchecked) - 10} more")
        print("!" * 78)
    if vulnerable:
        print(
            f"error: {len(vulnerable)} locked package(s) with known vulnerabilities",
            file=sys.stderr,
        )
        return 1
    if unchecked and strict:
        print(
            "error: ACS_AUDIT_STRICT is set and the audit could not check every pin",
            file=sys.stderr,
        )
        return 1
    if unchecked:
        print(f"dependency audit: {checked} pins checked, none vulnerable; {len(unchecked)} NOT")
    else:
        print(f"dependency audit: all {checked} pins checked, no known vulnerabilities")
    return 0


def pinned_names(requirements: Path) -> list[str]:
    """The package of each pin in a requirements file as `uv export` writes it."""
    names = []
    for raw in requirements.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "-")):
            continue
        names.append(re.split(r"[\s=<>!~;\[@]", line, maxsplit=1)[0])
    return names


def pip_audit_command(requirements: Path, report: Path, cache_dir: Path | None) -> list[str]:
    command = [
        str(BIN / "pip-audit"),
        "-r",
        str(requirements),
        "--disable-pip",
        "--no-deps",
        "--progress-spinner",
        "off",
        "-f",
        "json",
        "-o",
        str(report),
    ]
    osv_url = os.environ.get("ACS_AUDIT_OSV_URL", "").strip()
    if osv_url:
        command += ["-s", "osv", "--osv-url", osv_url]
    if cache_dir is not None:
        command += ["--cache-dir", str(cache_dir)]
    return command


def run(requirements: Path | None, cache_dir: Path | None) -> int:
    with tempfile.TemporaryDirectory(prefix="acs-audit-") as tmp:
        if requirements is None:
            # Every locked package, dev and test groups included, exactly as pinned.
            requirements = Path(tmp) / "requirements.txt"
            export = subprocess.run(  # noqa: S603 - our own venv's uv, our own arguments
                [
                    str(BIN / "uv"),
                    "export",
                    "--frozen",
                    "--no-hashes",
                    "--no-emit-project",
                    "--all-groups",
                    "--format",
                    "requirements-txt",
                    "--output-file",
                    str(requirements),
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            if export.returncode != 0:
                print("error: uv export failed", file=sys.stderr)
                return export.returncode
        report_path = Path(tmp) / "report.json"
        audit = subprocess.run(  # noqa: S603 - our own venv's pip-audit, our own arguments
            pip_audit_command(requirements, report_path, cache_dir),
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if report_path.exists() and report_path.stat().st_size:
            return judge(json.loads(report_path.read_text()))
        failure = SERVICE_FAILURE.search(audit.stderr)
        if failure is None:
            hint = ".venv/bin/pip-audit -r <(uv export ...)"
            print(f"error: pip-audit produced no report (see: {hint})", file=sys.stderr)
            print(audit.stderr[-2000:], file=sys.stderr)
            return 1
        # The line that names the failure, with the address pip-audit asked, said once.
        line = audit.stderr[failure.start() :].splitlines()[0]
        print(f"pip-audit stopped: {line[:300]}")
        reason = "not checked: the vulnerability service failed (see above)"
        unchecked = [{"name": name, "skip_reason": reason} for name in pinned_names(requirements)]
        return judge({"dependencies": unchecked})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run", action="store_true", help="run the audit (otherwise read a report from stdin)"
    )
    parser.add_argument(
        "-r", "--requirements", type=Path, help="with --run: audit these pins instead of uv.lock's"
    )
    parser.add_argument("--cache-dir", type=Path, help="with --run: pip-audit's HTTP cache")
    args = parser.parse_args()
    if args.run:
        return run(args.requirements, args.cache_dir)
    return judge(json.load(sys.stdin))


if __name__ == "__main__":
    sys.exit(main())
