"""Read pip-audit's JSON report (stdin) and decide: a known vulnerability in a locked package
fails; a package whose vulnerability data could not be fetched is listed loudly.

Unreachable data fails too when ACS_AUDIT_STRICT=true (set it where CI has the internet: PyPI's
per-release JSON API or OSV). Without it, an audit that could not check every pin says so in a
banner and in the last line, instead of printing "no known vulnerabilities"; it does not turn
CI red for a network it was never given.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> int:
    report = json.load(sys.stdin)
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


if __name__ == "__main__":
    sys.exit(main())
