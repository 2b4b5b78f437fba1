"""The operations board at /board/: what it shows, to whom, in how many statements, and its
conditional update (ETag / 304)."""

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.board import selectors
from cases.board.synthetic import board_fleet_generate
from cases.models import UnitAssignment
from responders.models import Unit, UnitPosition
from tests.factories import CallFactory, CapacityFactory, UnitFactory
from tests.static_modules import PRODUCTION_STORAGES, collect
from tests.static_modules import requested as modules_requested

pytestmark = pytest.mark.django_db

LEAFLET = Path(settings.BASE_DIR) / "static" / "vendor" / "leaflet"


@pytest.fixture
def desk(client, supervisor):
    client.force_login(supervisor)
    return client


def test_the_board_shows_open_calls_units_with_positions_and_places_with_room(desk):
    now = timezone.now()
    waiting = CallFactory(status="pending", priority=1, latitude=35.1, longitude=-106.6)
    worked = CallFactory(status="on_scene", status_changed_at=now - timedelta(minutes=5))
    CallFactory(status="cleared")
    unit = UnitFactory(call_sign="ACS-21", status="on_scene")
    UnitAssignment.objects.create(call=worked, unit=unit, status="on_scene", on_scene_at=now)
    UnitPosition.objects.create(
        unit=unit, latitude=35.08, longitude=-106.65, recorded_at=now, source="cad"
    )
    UnitFactory(call_sign="ACS-22", status="out_of_service")
    CapacityFactory(available=3, total=10)
    CapacityFactory(available=0, total=10)

    data = desk.get("/board/data").json()

    assert {c["id"] for c in data["calls"]} == {str(waiting.public_id), str(worked.public_id)}
    on_scene = next(c for c in data["calls"] if c["id"] == str(worked.public_id))
    assert on_scene["units"] == ["ACS-21"]
    units = {u["call_sign"]: u for u in data["units"]}
    assert units["ACS-21"]["call"] == str(worked.public_id)
    assert units["ACS-21"]["position_ms"] == int(now.timestamp() * 1000)
    assert (units["ACS-21"]["lat"], units["ACS-21"]["lng"]) == (35.08, -106.65)
    assert units["ACS-22"]["in_service"] is False
    assert [r["available"] for r in data["resources"]] == [3]
    assert data["figures"]["pending"] == 1
    assert data["figures"]["units_in_service"] == 1
    assert data["thresholds"]["pending_minutes"]["1"] == settings.BOARD_PENDING_MINUTES[1]


def test_todays_figures_are_the_median_and_90th_percentile_of_received_to_on_scene(desk):
    now = timezone.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    base = max(start + timedelta(seconds=1), now - timedelta(hours=1))
    for minutes in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100):
        received = base
        CallFactory(
            status="cleared",
            received_at=received,
            on_scene_at=received + timedelta(minutes=minutes),
        )
    CallFactory(status="cleared", received_at=base, on_scene_at=base, source="self_initiated")
    CallFactory(status="pending", received_at=start - timedelta(minutes=5))  # yesterday

    figures = desk.get("/board/data").json()["figures"]

    assert figures["received"] == 11
    assert figures["response_median_seconds"] == 55 * 60
    assert figures["response_p90_seconds"] == 91 * 60


def test_an_unchanged_board_answers_304_and_a_change_a_new_snapshot(desk):
    call = CallFactory(status="pending")
    first = desk.get("/board/data")
    etag = first["ETag"]

    again = desk.get("/board/data", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert "private" in again["Cache-Control"]

    call.priority = 1
    call.save()
    changed = desk.get("/board/data", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_a_units_new_position_changes_the_etag(desk):
    unit = UnitFactory(call_sign="ACS-30")
    etag = desk.get("/board/data")["ETag"]
    UnitPosition.objects.create(
        unit=unit, latitude=35, longitude=-106, recorded_at=timezone.now(), source="field"
    )

    assert desk.get("/board/data", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_304_costs_one_statement_beyond_the_session(desk, django_assert_max_num_queries):
    board_fleet_generate(units=20, calls=50)
    etag = desk.get("/board/data")["ETag"]
    with CaptureQueriesContext(connection) as queries:
        response = desk.get("/board/data", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    board = [q for q in queries if "cases_call" in q["sql"] or 'responders_unit"' in q["sql"]]
    assert len(board) == 1, [q["sql"] for q in queries]


@pytest.mark.parametrize(("units", "calls"), [(10, 40), (60, 400)])
def test_the_page_and_its_update_take_the_same_statements_at_any_size(
    desk, units, calls, django_assert_max_num_queries
):
    board_fleet_generate(units=units, calls=calls)
    CapacityFactory.create_batch(3)
    with django_assert_max_num_queries(12):
        page = desk.get("/board/")
    with django_assert_max_num_queries(12):
        data = desk.get("/board/data")
    assert page.status_code == data.status_code == 200
    assert len(data.json()["calls"]) == calls
    assert len(data.json()["units"]) == units


def test_the_page_carries_its_first_snapshot_and_map_settings(desk, settings):
    settings.TILE_URL = "/static/board/tile.png"
    CallFactory(status="pending")
    page = desk.get("/board/").content.decode()

    assert 'id="board-snapshot" type="application/json"' in page
    config = page.split('id="board-config" type="application/json">')[1].split("</script>")[0]
    assert json.loads(config)["tile_url"] == "/static/board/tile.png"
    assert "leaflet.js" in page


def test_a_tile_server_is_allowed_by_the_csp_only_when_configured():
    img = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"]
    if settings.TILE_URL.startswith("http"):
        assert any("tile" in source for source in img)
    else:
        assert img == ["'self'", "data:"]


@pytest.mark.parametrize(
    ("status", "priority", "minutes", "share", "returning"),
    [
        ("pending", 1, 5, 0.5, False),  # priority 1: 10 minutes
        ("pending", 1, 20, 2.0, False),
        ("pending", 5, 55, 55 / 120, True),  # 60-minute return, flagged 10 before
        ("on_scene", 1, 45, 1.0, False),  # on scene: BOARD_ON_SCENE_MINUTES
    ],
)
def test_urgency_is_the_share_of_the_limit_used(status, priority, minutes, share, returning):
    now = timezone.now()
    got = selectors.call_urgency(
        status=status,
        priority=priority,
        received_at=now - timedelta(minutes=minutes),
        status_changed_at=now - timedelta(minutes=minutes),
        now=now,
        thresholds=selectors.Thresholds(
            pending_minutes={1: 10, 2: 15, 3: 30, 4: 60, 5: 120},
            return_minutes=60,
            return_warning_minutes=10,
            on_scene_minutes=45,
        ),
    )
    assert got == pytest.approx((share, returning))


def test_the_vendored_leaflet_is_the_published_1_9_4():
    digests = {
        "leaflet.js": "db49d009c841f5ca34a888c96511ae936fd9f5533e90d8b2c4d57596f4e5641a",
        "leaflet.css": "a7837102824184820dfa198d1ebcd109ff6d0ff9a2672a074b9a1b4d147d04c6",
        # leaflet.js names it (sourceMappingURL): collectstatic's manifest needs it there.
        "leaflet.js.map": "600a10dc5cd110de0699510d322afcbe01c7ca90b4c5f48adc20314c70aac753",
    }
    for name, digest in digests.items():
        assert hashlib.sha256((LEAFLET / name).read_bytes()).hexdigest() == digest
    assert "BSD 2-Clause" in (LEAFLET / "LICENSE").read_text()
    assert "Leaflet 1.9.4" in (LEAFLET / "README.md").read_text()


def test_units_positions_reach_no_field_payload(client, responder, unit):
    UnitPosition.objects.create(
        unit=unit, latitude=35, longitude=-106, recorded_at=timezone.now(), source="cad"
    )
    client.force_login(responder)

    assert client.get("/board/data").status_code == 403
    assert client.get("/board/").status_code == 403
    assert Unit.objects.filter(positions__isnull=False).exists()
    body = client.get("/api/v1/field/calls").content.decode()
    assert "35.000000" not in body and '"positions"' not in body


def test_every_admin_page_links_to_the_board(desk):
    page = desk.get("/admin/").content.decode()

    assert 'href="/board/">Operations board</a>' in page


def test_the_board_s_modules_are_served_hashed_and_preloaded(desk, tmp_path):
    """static/board/board.js imports ./app/*.js. Once the production storage has hashed them,
    every import names a hashed file that exists, and the page names the hashed entry and
    preloads exactly the modules it reaches (one round of requests, not one per level)."""
    manifest = collect(tmp_path, "board", "vendor", "js", "css")
    entry = manifest["board/board.js"]

    requested = modules_requested(tmp_path, entry)

    modules = {n for n in manifest if n.startswith("board/") and n.endswith(".js")}
    assert requested == {manifest[n] for n in modules}
    for name in requested:
        assert (tmp_path / name).is_file(), name
    with override_settings(STORAGES=PRODUCTION_STORAGES, STATIC_ROOT=tmp_path):
        page = desk.get("/board/").content.decode()
    assert f'<script type="module" src="/static/{entry}">' in page
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/([^"]+)">', page))
    assert preloaded == requested - {entry}
