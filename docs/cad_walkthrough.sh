#!/usr/bin/env bash
# Walks one call from PUT to cleared through the CAD API of a running demo (python3 dev.py up).
# Usage: bash docs/cad_walkthrough.sh [base-url]   (run from the repository root)
set -euo pipefail
BASE=${1:-http://127.0.0.1:8000}
TOKEN=$(.venv/bin/python manage.py issue_token cad "walkthrough-$(date +%s)" 2>/dev/null)
NUMBER="WALK-$(date +%s)"
API="$BASE/api/v1/cad/calls/$NUMBER"
H=(-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")
uuid() { .venv/bin/python -c 'import uuid; print(uuid.uuid4())'; }

show() { .venv/bin/python -c 'import json,sys; b=json.load(sys.stdin); print(" ", b.get("status") or b.get("error"))'; }
step() { printf '%-42s' "$1"; shift; curl -s -w '\n' "$@" | tee /tmp/acs-walk.json | show; }

step "PUT $NUMBER" -X PUT "$API" "${H[@]}" -d '{
  "call_type": "WELFARE", "priority": 2, "source": "911",
  "received_at": "2026-11-24T21:05:00-07:00",
  "location": {"address": "400 Central Ave SW", "latitude": 35.0841,
               "longitude": -106.6514, "council_district": "2"},
  "notes": "Man sitting in the cold for hours"}'
ON_SCENE=$(uuid)
step "dispatched ACS-12" -X POST "$API/events" "${H[@]}" -d "{\"event_id\": \"$(uuid)\",
  \"type\": \"dispatched\", \"unit\": \"ACS-12\", \"at\": \"2026-11-24T21:07:30-07:00\"}"
step "on_scene ACS-12" -X POST "$API/events" "${H[@]}" -d "{\"event_id\": \"$ON_SCENE\",
  \"type\": \"on_scene\", \"unit\": \"ACS-12\", \"at\": \"2026-11-24T21:16:00-07:00\"}"
step "on_scene again (same event_id)" -X POST "$API/events" "${H[@]}" -d "{\"event_id\": \"$ON_SCENE\",
  \"type\": \"on_scene\", \"unit\": \"ACS-12\", \"at\": \"2026-11-24T21:16:00-07:00\"}"
step "returned_to_police (refused)" -X POST "$API/events" "${H[@]}" -d "{\"event_id\": \"$(uuid)\",
  \"type\": \"returned_to_police\", \"at\": \"2026-11-24T21:20:00-07:00\"}"
step "cleared ACS-12" -X POST "$API/events" "${H[@]}" -d "{\"event_id\": \"$(uuid)\",
  \"type\": \"cleared\", \"unit\": \"ACS-12\", \"at\": \"2026-11-24T21:48:00-07:00\"}"
.venv/bin/python -c 'import json; b=json.load(open("/tmp/acs-walk.json")); print(json.dumps({k: b[k] for k in ("status","received_at","dispatched_at","on_scene_at","cleared_at")}, indent=2))'
