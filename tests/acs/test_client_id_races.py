"""Two requests with one client_id at the same moment (a tablet's retry racing its first
attempt whose answer is slow, or two tabs sending one outbox): one row, never a 500, and both
answers name that row; the same client_id from another user is a 409 in the API's error shape
that names nothing.

Real concurrency against the real database: each request runs in its own thread with its own
connection. The worst interleaving is forced, not hoped for: the table is locked against writes
until both requests wait on it, so both have passed every check ("is this client_id known?")
before either inserts. A free-running variant then lets them meet however they happen to.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from acs.roles import Role
from cases.models import Consent, Encounter, FollowUp, Resident
from resources.models import Referral
from tests.cases.helpers import logged_encounter
from tests.factories import OrganizationFactory, UnitFactory, UserFactory
from tests.resources.referral_helpers import referrable_service
from tests.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/v1/field"


@dataclass
class Scene:
    unit: object
    first: object  # two responders of one unit: both may see what the unit met
    second: object
    resident: Resident
    service: object


@dataclass
class Write:
    """One idempotent create: the table it inserts into, the request, and the rows it made."""

    table: str
    send: Callable[[Client], object]
    rows: Callable[[], int]


def resident_write(scene: Scene) -> Write:
    client_id = uuid.uuid4()
    body = {"client_id": str(client_id), "preferred_name": "Ana Nueva", "confirm_new": True}
    return Write(
        Resident._meta.db_table,
        lambda c: c.post(f"{API}/residents", body, content_type="application/json"),
        lambda: Resident.objects.filter(client_id=client_id).count(),
    )


def encounter_write(scene: Scene) -> Write:
    client_id = uuid.uuid4()
    body = {"client_id": str(client_id), "unit": scene.unit.call_sign, "anonymous_people": 1}
    return Write(
        Encounter._meta.db_table,
        lambda c: c.post(f"{API}/encounters", body, content_type="application/json"),
        lambda: Encounter.objects.filter(client_id=client_id).count(),
    )


def consent_write(scene: Scene) -> Write:
    client_id = uuid.uuid4()
    body = {"client_id": str(client_id), "scope": "share_partners", "method": "verbal"}
    url = f"{API}/residents/{scene.resident.public_id}/consents"
    before = list(Consent.objects.values_list("pk", flat=True))
    return Write(
        Consent._meta.db_table,
        lambda c: c.post(url, body, content_type="application/json"),
        lambda: Consent.objects.exclude(pk__in=before).count(),
    )


def referral_write(scene: Scene) -> Write:
    client_id = uuid.uuid4()
    body = {
        "client_id": str(client_id),
        "resident": str(scene.resident.public_id),
        "service": str(scene.service.public_id),
        "send": False,
    }
    return Write(
        Referral._meta.db_table,
        lambda c: c.post(f"{API}/referrals", body, content_type="application/json"),
        lambda: Referral.objects.filter(client_id=client_id).count(),
    )


def follow_up_write(scene: Scene) -> Write:
    """No client_id: one follow-up per person per encounter is the key."""
    encounter = logged_encounter(scene.first, scene.unit, residents=[scene.resident])
    body = {
        "resident": str(scene.resident.public_id),
        "kind": "phone",
        "due_at": (timezone.now() + timedelta(days=2)).isoformat(),
    }
    url = f"{API}/encounters/{encounter.public_id}/follow-ups"
    return Write(
        FollowUp._meta.db_table,
        lambda c: c.post(url, body, content_type="application/json"),
        lambda: FollowUp.objects.filter(encounter=encounter).count(),
    )


WRITES = {
    "resident": resident_write,
    "encounter": encounter_write,
    "consent": consent_write,
    "referral": referral_write,
    "follow_up": follow_up_write,
}
WITH_CLIENT_ID = ["resident", "encounter", "consent", "referral"]


@pytest.fixture
def scene(transactional_db):
    unit = UnitFactory(call_sign="ACS-31")
    first = UserFactory(username="first-responder", role=Role.RESPONDER, team=unit.team)
    second = UserFactory(username="second-responder", role=Role.RESPONDER, team=unit.team)
    unit.members.add(first, second)
    from cases.services import resident_create

    resident = resident_create(actor=first, data={"preferred_name": "Sunny"}, confirm_new=True)
    logged_encounter(first, unit, residents=[resident])  # the unit met her: both may see her
    service, _ = referrable_service(OrganizationFactory(name="Agency A"))
    return Scene(unit, first, second, resident, service)


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)  # a 500 is an answer to look at here
    client.force_login(user)
    return client


def _waiting_on(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted", [table]
        )
        return cursor.fetchone()[0]


def at_once(clients: list[Client], write: Write, *, worst_case: bool) -> list:
    """Send `write` from every client at the same moment, each in its own thread; with
    `worst_case`, hold the table's writes until every request waits to insert into it."""
    answers: list = [None] * len(clients)
    barrier = threading.Barrier(len(clients))

    def send(i: int) -> None:
        try:
            barrier.wait()
            answers[i] = write.send(clients[i])
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(clients))]
    try:
        if worst_case:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # SHARE ROW EXCLUSIVE blocks INSERT, not the reads before it.
                    cursor.execute(
                        f"LOCK TABLE {connection.ops.quote_name(write.table)} "
                        "IN SHARE ROW EXCLUSIVE MODE"
                    )
                for t in threads:
                    t.start()
                assert wait_until(lambda: _waiting_on(write.table) == len(clients), timeout=30), (
                    "the requests never both reached the insert"
                )
        else:
            for t in threads:
                t.start()
    finally:
        for t in threads:
            if t.ident is not None:  # started
                t.join()
    return answers


def assert_error_shape(body: dict) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize("kind", list(WRITES))
def test_a_retry_racing_its_first_attempt_gets_the_same_record_never_a_500(scene, kind):
    clients = [signed_in(scene.first), signed_in(scene.first)]
    for _ in range(3):
        write = WRITES[kind](scene)

        answers = at_once(clients, write, worst_case=True)

        assert sorted(a.status_code for a in answers) == [200, 201], [
            (a.status_code, a.content[:200]) for a in answers
        ]
        assert answers[0].json()["id"] == answers[1].json()["id"]
        assert write.rows() == 1


def test_another_users_client_id_at_the_same_moment_is_a_409_naming_nothing(scene):
    clients = [signed_in(scene.first), signed_in(scene.second)]
    for kind in WITH_CLIENT_ID:
        write = WRITES[kind](scene)

        answers = at_once(clients, write, worst_case=True)

        codes = sorted(a.status_code for a in answers)
        assert codes == [201, 409], (kind, [(a.status_code, a.content[:200]) for a in answers])
        won, refused = sorted(answers, key=lambda a: a.status_code)
        assert_error_shape(refused.json())
        assert refused.json()["error"]["code"] == "client_id_reused"
        assert won.json()["id"] not in refused.content.decode()
        assert write.rows() == 1, kind


def test_simultaneous_retries_however_they_meet_make_one_record(scene):
    clients = [signed_in(scene.first), signed_in(scene.first)]
    for kind in WRITES:
        for _ in range(15):
            write = WRITES[kind](scene)

            answers = at_once(clients, write, worst_case=False)

            assert all(a.status_code in (200, 201) for a in answers), (
                kind,
                [(a.status_code, a.content[:200]) for a in answers],
            )
            assert answers[0].json()["id"] == answers[1].json()["id"], kind
            assert write.rows() == 1, kind
