"""The sealed audit trail in a SIEM's formats: JSON lines or ArcSight CEF (docs/operations.md).

Only sealed events leave, in chain order, from a given position (`seq`) on: a collector that
stores the last `seq` it received resumes exactly there, with nothing twice and nothing
skipped (events are sealed in order and never change afterwards). Each line carries the
event's fields as the audit holds them (record ids, the actor's internal id, the address,
the reason and the detail, which hold no personal data by rule: acs/audit.py) plus `seq`,
`prev_hash` and `hash`, so the SIEM can check the chain itself.

CEF is written here rather than with a library: the format is one line of a fixed header
and key=value pairs, and the only candidates on PyPI (cef, 2012; cefevent) add nothing but
the escaping rules below, which are short and tested.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from acs.audit_chain import sealed_rows
from acs.models import AuditAction

VENDOR, PRODUCT = "ACS", "acs-casework"
# How loud each action is for a security operations centre (CEF severity, 0-10).
SEVERITY = {
    AuditAction.LOCKED_OUT: 7,
    AuditAction.SIGN_IN_FAILED: 5,
    AuditAction.EXPORT: 5,
    AuditAction.DISCLOSE: 5,
    AuditAction.MERGE: 3,
    AuditAction.UNMERGE: 3,
    AuditAction.CHANGE: 3,
    AuditAction.CREATE: 2,
}
LABELS = dict(AuditAction.choices)


def product_version() -> str:
    """pyproject's version (the project is not installed as a package, so no metadata)."""
    with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as f:
        version: str = tomllib.load(f)["project"]["version"]
    return version


def event_record(row: dict[str, Any]) -> dict[str, Any]:
    """One sealed event as exported: the audit's own columns under their own names (so
    `acs.audit_chain.canonical` recomputes each hash from a line), times in UTC ISO 8601."""
    return {
        "seq": row["seq"],
        # The row's own id and public id, both in the hashed content (acs/audit_chain.py).
        "id": row["id"],
        "public_id": str(row["public_id"]),
        "time": row["created_at"].astimezone(UTC).isoformat(),
        "actor_id": row["actor_id"],
        "action": row["action"],
        "target_type": row["target_type"],
        "target_id": str(row["target_id"]),
        "ip_address": row["ip_address"],
        "reason": row["reason"],
        "detail": row["detail"],
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
    }


def jsonl_line(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)


def _cef_header(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _cef_value(value: object) -> str:
    text = "" if value is None else str(value)
    return (
        text.replace("\\", "\\\\")
        .replace("=", "\\=")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def cef_line(record: dict[str, Any], version: str) -> str:
    """CEF:0|vendor|product|version|signature|name|severity|extension (ArcSight CEF 25)."""
    action = record["action"]
    header = [
        "CEF:0",
        VENDOR,
        PRODUCT,
        version,
        action,
        LABELS.get(action, action),
        str(SEVERITY.get(action, 1)),
    ]
    created = record["time"]
    millis = int(datetime.fromisoformat(created).timestamp() * 1000)
    extension = {
        "rt": millis,
        "externalId": record["public_id"],
        "act": action,
        "suid": record["actor_id"],
        "src": record["ip_address"],
        "cs1Label": "targetType",
        "cs1": record["target_type"],
        "cs2Label": "targetId",
        "cs2": record["target_id"],
        "cs3Label": "reason",
        "cs3": record["reason"],
        "cs4Label": "detail",
        "cs4": json.dumps(record["detail"], sort_keys=True, separators=(",", ":")),
        "cs5Label": "hash",
        "cs5": record["hash"],
        "cs6Label": "prevHash",
        "cs6": record["prev_hash"],
        "cn1Label": "seq",
        "cn1": record["seq"],
    }
    pairs = " ".join(f"{key}={_cef_value(value)}" for key, value in extension.items() if value)
    return "|".join(_cef_header(part) for part in header) + "|" + pairs


def audit_export_lines(*, after: int, fmt: str, version: str) -> Iterator[tuple[int, str]]:
    """(seq, line) for each sealed event after `after`, in chain order, in bounded chunks."""
    for row in sealed_rows(after):
        record = event_record(row)
        line = jsonl_line(record) if fmt == "jsonl" else cef_line(record, version)
        yield row["seq"], line
