"""The audit trail as a hash chain: tampering is detectable, not only forbidden.

Events are written without a place in the chain (so that writing one never waits on another
transaction). `audit_seal` (beat, every minute) takes the events older than a few seconds, in
id order, gives each the next `seq` and `hash = SHA-256(prev_hash + canonical(event))`, under an
advisory lock so that two sealers never interleave. The database trigger lets that one update
through (from unsealed to sealed, nothing else changed) and refuses every other UPDATE and
DELETE. `audit_verify` walks the chain and reports the first event whose content, position or
link does not match: an edited row, a removed row (a gap in `seq`) or a forged one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.db import connection, transaction
from django.utils import timezone

from acs.models import AuditEvent

GENESIS = "0" * 64
SEAL_LOCK = 7_301_001  # pg_advisory_xact_lock key of the sealer
SETTLE = timedelta(seconds=5)
CHUNK = 2000
FIELDS = (
    "id",
    "public_id",
    "created_at",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "ip_address",
    "reason",
    "detail",
)

# One event as `.values(*FIELDS)` reads it (sealed rows add seq, prev_hash and hash).
Row = dict[str, Any]


def canonical(event: Row, seq: int) -> bytes:
    """The event's content as hashed: every field that says what happened, in a fixed form."""
    content = {
        "seq": seq,
        "id": event["id"],
        "public_id": str(event["public_id"]),
        "created_at": event["created_at"].astimezone(UTC).isoformat(),
        "actor_id": event["actor_id"],
        "action": event["action"],
        "target_type": event["target_type"],
        "target_id": str(event["target_id"]),
        "ip_address": event["ip_address"],
        "reason": event["reason"],
        "detail": event["detail"],
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def chain_hash(prev_hash: str, event: Row, seq: int) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(event, seq)).hexdigest()


def audit_seal(*, now: datetime | None = None, batch: int = CHUNK) -> int:
    """Seal up to `batch` settled events onto the end of the chain; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK])
        last = (
            AuditEvent.objects.filter(seq__isnull=False)
            .order_by("-seq")
            .values("seq", "hash")
            .first()
        )
        # cast: the row was filtered on seq__isnull=False, which the stubs' row type cannot know.
        seq, prev = (cast(int, last["seq"]), last["hash"]) if last else (0, GENESIS)
        rows = list(
            AuditEvent.objects.filter(seq__isnull=True, created_at__lte=now - SETTLE)
            .order_by("id")
            .values(*FIELDS)[:batch]
        )
        sealed = []
        for row in rows:
            seq += 1
            digest = chain_hash(prev, row, seq)
            sealed.append(AuditEvent(pk=row["id"], seq=seq, prev_hash=prev, hash=digest))
            prev = digest
        AuditEvent.objects.bulk_update(sealed, ["seq", "prev_hash", "hash"], batch_size=500)
    return len(sealed)


@dataclass(frozen=True)
class Verdict:
    sealed: int
    unsealed: int
    oldest_unsealed: datetime | None
    broken_at: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def sealed_rows(after: int = 0) -> Iterator[Row]:
    """The sealed events after position `after`, in chain order, CHUNK rows per query: memory
    stays flat however long the trail (audit_verify, manage.py audit_export)."""
    last = after
    while True:
        chunk = list(
            AuditEvent.objects.filter(seq__gt=last)
            .order_by("seq")
            .values(*FIELDS, "seq", "prev_hash", "hash")[:CHUNK]
        )
        if not chunk:
            return
        yield from chunk
        last = chunk[-1]["seq"]


def audit_verify() -> Verdict:
    """Walk the sealed chain from the start; stop at the first event that does not match."""
    expected_seq, prev, count = 1, GENESIS, 0
    unsealed = AuditEvent.objects.filter(seq__isnull=True)
    oldest = unsealed.order_by("created_at").values_list("created_at", flat=True).first()
    pending = unsealed.count()
    for row in sealed_rows():
        seq = row["seq"]
        if seq != expected_seq:
            return Verdict(count, pending, oldest, expected_seq, "missing event(s): a gap in seq")
        if row["prev_hash"] != prev:
            return Verdict(count, pending, oldest, seq, "does not link to the event before it")
        if chain_hash(prev, row, seq) != row["hash"]:
            return Verdict(count, pending, oldest, seq, "its content was changed after sealing")
        prev, expected_seq, count = row["hash"], seq + 1, count + 1
    return Verdict(count, pending, oldest)
