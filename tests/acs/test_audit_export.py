"""`manage.py audit_export`: the sealed audit trail as JSON lines or CEF for a SIEM, in chain
order, resumable from the last sequence number, in bounded chunks, carrying only what the audit
itself holds (no names: the audit holds record ids)."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs import audit_chain
from acs.audit import audit_record
from acs.audit_chain import audit_seal, chain_hash
from acs.audit_export import cef_line
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db
LATER = timedelta(seconds=10)


@pytest.fixture
def trail(responder, case_manager):
    resident = ResidentFactory(preferred_name="Marisol Quintana", phone="+15055550123")
    audit_record(actor=responder, action="view", target=resident, detail={"fields": ["phone"]})
    audit_record(actor=case_manager, action="export", target=resident, reason="CoC | report=1")
    audit_record(actor=None, action="signin_fail", target=responder)
    audit_seal(now=timezone.now() + LATER)
    audit_record(actor=responder, action="view", target=resident)  # not sealed: stays back
    return resident


def run(*args) -> tuple[list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("audit_export", *args, stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue()


def test_jsonl_holds_the_sealed_events_in_chain_order_with_their_hashes(trail, responder):
    lines, err = run("--format", "jsonl", "--after", "0")

    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert [r["action"] for r in records] == ["view", "export", "signin_fail"]
    first = records[0]
    assert first["target_id"] == str(trail.public_id)
    assert first["actor_id"] == responder.pk
    assert first["time"].endswith("+00:00")
    assert records[1]["prev_hash"] == first["hash"]
    assert "last seq 3" in err


def test_the_exported_fields_let_the_siem_check_the_chain(trail):
    lines, _ = run("--format", "jsonl")
    prev = audit_chain.GENESIS
    for line in lines:
        record = json.loads(line)
        row = {**record, "created_at": datetime.fromisoformat(record["time"])}
        assert chain_hash(prev, row, record["seq"]) == record["hash"]
        prev = record["hash"]


def test_no_personal_data_leaves_beyond_what_the_audit_holds(trail):
    for fmt in ("jsonl", "cef"):
        lines, _ = run("--format", fmt)
        text = "\n".join(lines)
        assert "Marisol" not in text and "Quintana" not in text and "5550123" not in text


def test_an_export_resumes_after_the_last_sequence_number_from_a_state_file(
    trail, responder, tmp_path
):
    state = tmp_path / "siem.seq"
    first, _ = run("--format", "jsonl", "--state", str(state), "--limit", "2")
    assert [json.loads(line)["seq"] for line in first] == [1, 2]
    assert state.read_text().strip() == "2"

    audit_seal(now=timezone.now() + LATER)  # the fourth event is sealed now
    second, _ = run("--format", "jsonl", "--state", str(state))

    assert [json.loads(line)["seq"] for line in second] == [3, 4]
    assert state.read_text().strip() == "4"
    third, _ = run("--format", "jsonl", "--state", str(state))
    assert third == []
    assert state.read_text().strip() == "4"
    explicit, _ = run("--format", "jsonl", "--after", "3")
    assert [json.loads(line)["seq"] for line in explicit] == [4]


def test_a_bad_state_file_or_position_is_refused(tmp_path, db):
    state = tmp_path / "siem.seq"
    state.write_text("yesterday")
    with pytest.raises(CommandError):
        run("--state", str(state))
    with pytest.raises(CommandError):
        run("--after", "-1")


def test_cef_lines_have_the_header_severity_and_escaped_extension(trail):
    lines, _ = run("--format", "cef")

    view, export, failed = lines
    parts = export.split("|")
    assert parts[:7] == ["CEF:0", "ACS", "acs-casework", "0.1.0", "export", "Export", "5"]
    # '=' escaped in values, and '|' (only special in the header) left as is there.
    assert "cs3=CoC | report\\=1" in export
    assert "cs3Label=reason" in export and "cn1=2" in export
    assert f"cs2={trail.public_id}" in view
    assert failed.split("|")[6] == "5" and view.split("|")[6] == "1"


def test_cef_escapes_backslashes_newlines_and_pipes_in_the_header():
    record = {
        "seq": 9,
        "id": 9,
        "public_id": "x",
        "time": "2026-01-01T00:00:00+00:00",
        "actor_id": None,
        "action": "we|ird",
        "target_type": "t",
        "target_id": "u",
        "ip_address": None,
        "reason": "a\\b\nc",
        "detail": {},
        "prev_hash": "p",
        "hash": "h",
    }
    line = cef_line(record, "1|2")
    assert line.startswith("CEF:0|ACS|acs-casework|1\\|2|we\\|ird|")
    assert "cs3=a\\\\b\\nc" in line
    assert "\n" not in line
    assert "suid=" not in line and "src=" not in line  # absent values are left out
    assert "rt=1767225600000" in line


def test_the_export_reads_in_bounded_chunks(trail, monkeypatch, responder):
    for n in range(7):
        audit_record(actor=responder, action="view", target=responder, detail={"n": n})
    audit_seal(now=timezone.now() + LATER)
    monkeypatch.setattr(audit_chain, "CHUNK", 3)

    with CaptureQueriesContext(connection) as queries:
        lines, _ = run("--format", "jsonl")

    assert len(lines) == 11
    # 11 events in chunks of 3: 4 reads, and one more that finds the end.
    assert len([q for q in queries if "acs_auditevent" in q["sql"]]) == 5
    assert all("LIMIT 3" in q["sql"] for q in queries if "acs_auditevent" in q["sql"])
