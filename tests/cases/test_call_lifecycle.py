"""Every allowed and every refused move of the call life cycle, replayed in time order."""

from datetime import UTC, datetime, timedelta

import pytest

from cases.lifecycle import Event, IllegalMove, replay

T0 = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


def ev(type, minute, unit="", seq=0):
    return Event(type=type, at=T0 + timedelta(minutes=minute), unit=unit, seq=seq)


def status_after(*events):
    return replay(events).status


def test_a_new_call_is_pending():
    assert replay([]).status == "pending"


def test_the_main_path_from_dispatch_to_clear():
    state = replay(
        [
            ev("dispatched", 1, "ACS-11"),
            ev("en_route", 2, "ACS-11"),
            ev("on_scene", 9, "ACS-11"),
            ev("transporting", 30, "ACS-11"),
            ev("cleared", 50, "ACS-11"),
        ]
    )
    assert state.status == "cleared"
    assert state.times["dispatched"] == T0 + timedelta(minutes=1)
    assert state.times["on_scene"] == T0 + timedelta(minutes=9)
    assert state.times["cleared"] == T0 + timedelta(minutes=50)
    assert state.assignments["ACS-11"].status == "cleared"


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([ev("dispatched", 1, "U1"), ev("on_scene", 5, "U1")], "on_scene"),  # en_route skipped
        ([ev("on_scene", 1, "U1")], "on_scene"),  # self-initiated: found on scene
        ([ev("en_route", 1, "U1")], "en_route"),
        ([ev("dispatched", 1, "U1"), ev("cleared", 3, "U1")], "cleared"),
        ([ev("dispatched", 1, "U1"), ev("en_route", 2, "U1"), ev("cleared", 3)], "cleared"),
        ([ev("returned_to_police", 5)], "returned_to_police"),
        ([ev("cancelled", 5)], "cancelled"),
        ([ev("dispatched", 1, "U1"), ev("cancelled", 2)], "cancelled"),
        ([ev("dispatched", 1, "U1"), ev("en_route", 2, "U1"), ev("cancelled", 3)], "cancelled"),
        ([ev("on_scene", 1, "U1"), ev("escalated", 2)], "escalated"),
        ([ev("on_scene", 1, "U1"), ev("escalated", 2), ev("cleared", 9)], "cleared"),
        ([ev("on_scene", 1, "U1"), ev("cleared", 2), ev("reopened", 3)], "reopened"),
        (
            [
                ev("on_scene", 1, "U1"),
                ev("cleared", 2),
                ev("reopened", 3),
                ev("dispatched", 4, "U1"),
            ],
            "dispatched",
        ),
    ],
)
def test_allowed_moves(events, expected):
    assert status_after(*events) == expected


@pytest.mark.parametrize(
    ("events", "state_named"),
    [
        # Nothing moves a finished call.
        ([ev("cancelled", 1), ev("dispatched", 2, "U1")], "cancelled"),
        ([ev("returned_to_police", 1), ev("dispatched", 2, "U1")], "returned_to_police"),
        ([ev("returned_to_police", 1), ev("reopened", 2)], "returned_to_police"),
        # Side exits only from their states.
        ([ev("dispatched", 1, "U1"), ev("returned_to_police", 2)], "dispatched"),
        ([ev("on_scene", 1, "U1"), ev("cancelled", 2)], "on_scene"),
        ([ev("dispatched", 1, "U1"), ev("escalated", 2)], "dispatched"),
        ([ev("escalated", 1)], "pending"),
        ([ev("reopened", 1)], "pending"),
        ([ev("dispatched", 1, "U1"), ev("reopened", 2)], "dispatched"),
        # Clearing needs a unit working the call.
        ([ev("cleared", 1)], "pending"),
        # A unit never goes back, and transports only from the scene.
        ([ev("on_scene", 1, "U1"), ev("en_route", 2, "U1")], "on_scene"),
        ([ev("on_scene", 1, "U1"), ev("dispatched", 2, "U1")], "on_scene"),
        ([ev("dispatched", 1, "U1"), ev("transporting", 2, "U1")], "dispatched"),
        # A cleared call takes no new unit until reopened.
        ([ev("on_scene", 1, "U1"), ev("cleared", 2), ev("dispatched", 3, "U2")], "cleared"),
        # A unit that arrived cannot be cancelled.
        ([ev("on_scene", 1, "U1"), ev("cancelled", 2, "U1")], "on_scene"),
    ],
)
def test_refused_moves_name_the_state_at_that_time(events, state_named):
    with pytest.raises(IllegalMove) as refused:
        replay(events)
    assert refused.value.state == state_named


def test_a_unit_event_must_name_its_unit():
    with pytest.raises(IllegalMove):
        replay([ev("dispatched", 1)])


def test_events_are_placed_by_their_time_not_their_arrival():
    arrived = [
        ev("on_scene", 9, "U1", seq=0),
        ev("dispatched", 1, "U1", seq=1),  # sent late by CAD
    ]
    state = replay(arrived)
    assert state.status == "on_scene"
    assert state.times["dispatched"] == T0 + timedelta(minutes=1)


def test_equal_times_keep_arrival_order():
    state = replay([ev("dispatched", 1, "U1", seq=0), ev("on_scene", 1, "U1", seq=1)])
    assert state.status == "on_scene"


def test_several_units_the_call_follows_the_furthest_and_clears_with_the_last():
    state = replay(
        [
            ev("dispatched", 1, "U1"),
            ev("dispatched", 2, "U2"),
            ev("on_scene", 6, "U2"),
            ev("cleared", 20, "U2"),
        ]
    )
    assert state.status == "dispatched"  # U1 still works the call
    assert state.times["on_scene"] == T0 + timedelta(minutes=6)

    state = replay(
        [
            ev("dispatched", 1, "U1"),
            ev("dispatched", 2, "U2"),
            ev("on_scene", 6, "U2"),
            ev("on_scene", 8, "U1"),
            ev("cleared", 20, "U2"),
            ev("cleared", 25, "U1"),
        ]
    )
    assert state.status == "cleared"
    assert state.times["cleared"] == T0 + timedelta(minutes=25)
    assert state.assignments["U1"].times["on_scene"] == T0 + timedelta(minutes=8)


def test_cancelling_one_unit_leaves_the_call_with_the_other():
    state = replay(
        [
            ev("dispatched", 1, "U1"),
            ev("dispatched", 2, "U2"),
            ev("cancelled", 3, "U2"),
        ]
    )
    assert state.status == "dispatched"
    assert state.assignments["U2"].status == "cancelled"


def test_cancelling_the_only_unit_puts_the_call_back_in_the_queue():
    assert status_after(ev("dispatched", 1, "U1"), ev("cancelled", 2, "U1")) == "pending"


def test_the_life_cycle_and_the_stored_event_types_name_the_same_events():
    from cases.lifecycle import EVENT_TYPES
    from cases.models import CallEventType

    assert set(EVENT_TYPES) == set(CallEventType.values)
