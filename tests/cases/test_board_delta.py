"""The operations board's updates carry only what changed since the board's cursor
(cases/board/selectors.py `board_update`): a changed call appears, a closed one is removed, a
unit that moves is sent, a row committed late is not missed, a cursor too old or unknown gets
the whole snapshot, each in a constant number of statements; and only desk roles get any of
it (docs/architecture.md, "The operations board")."""

from dataclasses import replace

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.board import selectors
from cases.board.synthetic import board_fleet_generate
from cases.models import Call, UnitAssignment
from responders.models import Unit, UnitPosition
from tests.factories import CallFactory, CapacityFactory, UnitFactory

pytestmark = pytest.mark.django_db
# The request's own statements (the session, the user, their groups), not the board's.
SIGNED_IN = ('SELECT "django_session"', 'SELECT "responders_user"', 'SELECT "auth_group"')


@pytest.fixture
def desk(client, supervisor):
    client.force_login(supervisor)
    return client


def held(response) -> str:
    return response["ETag"]


def update(desk, etag):
    response = desk.get("/board/data", HTTP_IF_NONE_MATCH=etag)
    assert response["ETag"].startswith('"1.')
    return response


def test_a_changed_call_appears_alone_and_a_closed_call_is_removed(desk):
    board_fleet_generate(units=5, calls=20)
    first = desk.get("/board/data")
    assert first.json()["kind"] == "snapshot"
    assert len(first.json()["calls"]) == 20

    call = Call.objects.filter(status="pending").first()
    call.priority = 1
    call.save()
    new = CallFactory(status="pending", incident_number="D-0001")
    changed = update(desk, held(first))
    data = changed.json()

    assert changed.status_code == 200
    assert data["kind"] == "delta"
    assert {c["id"] for c in data["calls"]} == {str(call.public_id), str(new.public_id)}
    assert next(c for c in data["calls"] if c["id"] == str(call.public_id))["priority"] == 1
    assert data["removed_calls"] == []
    assert data["units"] == []
    assert "resources" not in data  # no place changed
    assert data["counts"] == {"calls": 21, "units": 5}
    assert data["figures"]["pending"] == Call.objects.filter(status="pending").count()

    # Nothing since: a 304 holding the same cursor.
    again = desk.get("/board/data", HTTP_IF_NONE_MATCH=held(changed))
    assert again.status_code == 304
    assert again["ETag"] == held(changed)

    call.status = "cleared"
    call.save()
    closed = update(desk, held(changed)).json()
    assert closed["kind"] == "delta"
    assert closed["removed_calls"] == [str(call.public_id)]
    assert closed["calls"] == []
    assert closed["counts"]["calls"] == 20


def test_a_unit_that_moves_or_takes_a_call_is_sent_and_no_other(desk):
    board_fleet_generate(units=6, calls=10)
    unit = UnitFactory(call_sign="ACS-77", status="available")
    call = CallFactory(status="pending", incident_number="D-0077")
    etag = held(desk.get("/board/data"))

    now = timezone.now()
    UnitPosition.objects.create(
        unit=unit, latitude=35.05, longitude=-106.61, recorded_at=now, source="cad"
    )
    moved = update(desk, etag).json()
    assert [u["call_sign"] for u in moved["units"]] == ["ACS-77"]
    assert (moved["units"][0]["lat"], moved["units"][0]["lng"]) == (35.05, -106.61)
    assert moved["units"][0]["position_ms"] == int(now.timestamp() * 1000)
    assert moved["calls"] == []

    # Dispatched through an assignment alone (the unit's row untouched): the unit is sent
    # with its call; the page fills the call's units from it.
    UnitAssignment.objects.create(call=call, unit=unit, status="dispatched", dispatched_at=now)
    dispatched = update(desk, f'"{moved["version"]}"').json()
    assert [u["call"] for u in dispatched["units"]] == [str(call.public_id)]


def test_a_place_with_room_changing_sends_the_places(desk):
    CapacityFactory(available=3, total=10)
    etag = held(desk.get("/board/data"))
    CapacityFactory(available=1, total=5)
    data = update(desk, etag).json()
    assert data["kind"] == "delta"
    assert sorted(r["available"] for r in data["resources"]) == [1, 3]


def test_a_cursor_too_old_unknown_or_unreadable_gets_the_whole_snapshot(desk, settings):
    board_fleet_generate(units=3, calls=5)
    token = desk.get("/board/data").json()["version"]
    cursor = selectors.BoardCursor.parse(token)
    CallFactory(status="pending")

    old = replace(cursor, issued=cursor.issued - settings.BOARD_DELTA_MAX_SECONDS - 1)
    assert update(desk, f'"{old.token()}"').json()["kind"] == "snapshot"
    future = replace(cursor, xmax=cursor.xmax + 10**9)  # another database's, or restored
    assert update(desk, f'"{future.token()}"').json()["kind"] == "snapshot"
    assert update(desk, '"not-a-cursor"').json()["kind"] == "snapshot"
    assert update(desk, f'"{token}"').json()["kind"] == "delta"
    # A unit deleted leaves no stamped row: the number of units differs, the whole snapshot.
    Unit.objects.get(call_sign="GEN-0000").delete()  # out of service, never on a call
    whole = update(desk, f'"{token}"').json()
    assert whole["kind"] == "snapshot"
    assert len(whole["units"]) == 2


def test_an_old_cursor_with_nothing_changed_is_still_a_304(desk, settings):
    board_fleet_generate(units=2, calls=2)
    cursor = selectors.BoardCursor.parse(desk.get("/board/data").json()["version"])
    old = replace(cursor, issued=cursor.issued - settings.BOARD_DELTA_MAX_SECONDS - 1)
    assert desk.get("/board/data", HTTP_IF_NONE_MATCH=f'"{old.token()}"').status_code == 304


def test_an_update_takes_the_same_statements_for_one_row_changed_or_a_hundred(desk):
    board_fleet_generate(units=60, calls=400)
    CapacityFactory.create_batch(2)
    counts = {}
    for changed in (1, 100):
        etag = held(desk.get("/board/data"))
        pks = list(Call.objects.filter(status="pending").values_list("pk", flat=True)[:changed])
        Call.objects.filter(pk__in=pks).update(priority=2)
        units = list(Unit.objects.values_list("pk", flat=True)[: min(changed, 60)])
        Unit.objects.filter(pk__in=units).update(needs_confirmation=True)
        CapacityFactory()  # the places change too: the largest update
        with CaptureQueriesContext(connection) as queries:
            data = update(desk, etag).json()
        assert data["kind"] == "delta"
        assert len(data["calls"]) == changed
        assert len(data["units"]) == min(changed, 60)
        board = [q["sql"] for q in queries if not q["sql"].startswith(SIGNED_IN)]
        counts[changed] = len(board)
    # The cursor, the calls, the units, today's figures, the places.
    assert counts[1] == counts[100] == 5, counts


def test_responders_cannot_open_the_board_or_its_data_even_with_a_cursor(client, desk, responder):
    etag = held(desk.get("/board/data"))
    client.logout()
    assert client.get("/board/data", HTTP_IF_NONE_MATCH=etag).status_code == 401
    client.force_login(responder)
    assert client.get("/board/").status_code == 403
    refused = client.get("/board/data", HTTP_IF_NONE_MATCH=etag)
    assert refused.status_code == 403
    assert "calls" not in refused.json()


@pytest.mark.django_db(transaction=True)
def test_a_row_committed_late_with_an_earlier_time_is_not_missed():
    """A CAD write that stamped its call, then took its time to commit, while another change
    was committed and read by the board: the next update still carries the late call, though
    its updated_at is older than the board's last read (an `updated_at > since` cursor would
    have missed it for good)."""
    late = CallFactory(status="pending", incident_number="LATE-1")
    other = CallFactory(status="pending", incident_number="SOON-1")
    settings_dict = connection.settings_dict
    writer = psycopg.connect(
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        dbname=settings_dict["NAME"],
    )
    try:
        cursor0 = selectors.board_update(None)["version"]
        # The late writer: stamped now, committed after the board's next read.
        writer.execute(
            "UPDATE cases_call SET priority = 1, updated_at = now() WHERE id = %s", [late.pk]
        )
        # Another change, committed at once, read by the board.
        Call.objects.filter(pk=other.pk).update(priority=2, updated_at=timezone.now())
        first = selectors.board_update(cursor0)
        assert first["kind"] == "delta"
        assert [c["incident"] for c in first["calls"]] == ["SOON-1"]
        read_at = timezone.now()
        writer.commit()
        late.refresh_from_db()
        assert late.updated_at < read_at  # earlier than the board's read, committed after

        second = selectors.board_update(first["version"])
        assert second is not None and second["kind"] == "delta"
        assert [(c["incident"], c["priority"]) for c in second["calls"]] == [("LATE-1", 1)]
        # And then nothing more.
        assert selectors.board_update(second["version"]) is None
    finally:
        writer.close()


def test_every_write_to_the_boards_tables_is_stamped():
    unit = UnitFactory()
    call = CallFactory()
    UnitAssignment.objects.create(call=call, unit=unit, status="dispatched")
    UnitPosition.objects.create(
        unit=unit, latitude=1, longitude=1, recorded_at=timezone.now(), source="cad"
    )
    with connection.cursor() as cursor:
        for table in selectors.STAMPED:
            cursor.execute(
                f"SELECT count(*) FROM {table} WHERE board_xid IS NULL OR board_seq IS NULL"  # noqa: S608
            )
            assert cursor.fetchone() == (0,), table
