"""The world of the writes matrix (tests/acs/test_access_matrix_writes.py): the personas'
records, the row helper, and the shape of one surface."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import cached_property

from django.utils import timezone

from acs.roles import Role
from tests.acs.test_access_matrix import ROLES
from tests.factories import UnitFactory, UserFactory
from tests.resources.referral_helpers import referrable_service, referral_in

STAFF = {"case_manager", "supervisor", "admin_user"}
FIELD = {"responder", *STAFF}


def cells(ok=(), not_found=()) -> dict[str, str]:
    """The row of the table: every role "no" unless named."""
    row = dict.fromkeys(ROLES, "no")
    row.update(dict.fromkeys(ok, "ok"))
    row.update(dict.fromkeys(not_found, "404"))
    return row


class World:
    """The records of one cell, each built on first use (services and factories)."""

    def __init__(self, request):
        self.request = request

    def persona(self, name):
        return self.request.getfixturevalue(name)

    @cached_property
    def responder(self):
        return self.persona("responder")

    @cached_property
    def unit(self):
        return self.persona("unit")

    @cached_property
    def agency_a(self):
        return self.persona("agency_a")

    @cached_property
    def agency_b(self):
        return self.persona("agency_b")

    @cached_property
    def other_unit(self):
        return UnitFactory(call_sign="ACS-99")

    @cached_property
    def other_responder(self):
        user = UserFactory(username="other-responder", role=Role.RESPONDER)
        self.other_unit.members.add(user)
        return user

    def _met(self, responder, call_sign, *, submit=False):
        """A resident `responder` created and met on an encounter of their unit."""
        from cases import services
        from responders.models import Unit

        resident = services.resident_create(
            actor=responder,
            data={"preferred_name": f"Met by {responder.username}"},
            confirm_new=True,
        )
        encounter, _ = services.encounter_create(
            actor=responder,
            client_id=uuid.uuid4(),
            unit=Unit.objects.get(call_sign=call_sign),
            call=None,
            data={"disposition": "settled_by_contact"},
            resident_ids=[resident.public_id],
        )
        if submit:
            encounter = services.encounter_submit(actor=responder, encounter=encounter)
        return resident, encounter

    @cached_property
    def met(self):
        """(resident, draft encounter) of the responder."""
        return self._met(self.responder, self.unit.call_sign)

    @cached_property
    def submitted(self):
        """(resident, submitted encounter) of the responder."""
        return self._met(self.responder, self.unit.call_sign, submit=True)

    @cached_property
    def not_met(self):
        """(resident, draft encounter) of another unit: out of the responder's reach."""
        return self._met(self.other_responder, "ACS-99")

    def consent_of(self, which):
        """A consent to share with partners, of the resident met or never met."""
        from cases import services
        from cases.models import Consent

        resident = getattr(self, which)[0]
        return services.consent_record(
            actor=self.responder if which == "met" else self.other_responder,
            resident=resident,
            scope=Consent.Scope.SHARE_PARTNERS,
            method=Consent.Method.VERBAL,
            organization=None,
            encounter=None,
            expires_at=None,
        )

    @cached_property
    def not_met_submitted(self):
        """(resident, submitted encounter) of another unit."""
        return self._met(self.other_responder, "ACS-99", submit=True)

    def addendum(self, which):
        """An addendum by the encounter's author on the submitted encounter of the responder's
        unit (the supervisor's team) or of another unit (another team)."""
        from cases import services

        encounter = getattr(self, which)[1]
        return services.addendum_add(
            actor=encounter.created_by, encounter=encounter, text="Matrix addendum"
        )

    @cached_property
    def service_a(self):
        return referrable_service(self.agency_a)

    @cached_property
    def service_b(self):
        return referrable_service(self.agency_b)

    def referral(self, status, *, agency="a", created_by=None):
        service = (self.service_a if agency == "a" else self.service_b)[0]
        return referral_in(
            status,
            service=service,
            resident=self.met[0],
            created_by=created_by or self.responder,
        )

    @cached_property
    def follow_up(self):
        from cases import services

        resident, encounter = self.submitted
        follow_up, _ = services.follow_up_request(
            actor=self.responder,
            encounter=encounter,
            resident=resident,
            kind="phone",
            due_at=timezone.now() + timedelta(days=1),
        )
        return follow_up

    def export(self, requested_by):
        from cases.exports.services import export_request, export_run

        self.request.getfixturevalue("settings").EXPORTS_ROOT = (
            self.request.getfixturevalue("tmp_path") / "exports"
        )
        today = timezone.localdate()
        job = export_request(
            actor=requested_by,
            kind="residents_csv",
            start_date=today - timedelta(days=7),
            end_date=today,
            redaction="no_direct_identifiers",
        )
        job = export_run(job_id=job.pk)
        assert job.status == "done", job.error
        return job

    @cached_property
    def other_case_manager(self):
        return UserFactory(username="other-casemanager", role=Role.CASE_MANAGER)


def count(model_path: str, **filters) -> int:
    from django.apps import apps

    return apps.get_model(model_path).objects.filter(**filters).count()


# --- the surfaces ----------------------------------------------------------------------------
# Each: kind ("api", "cad", "page", "field form", "admin"), the row, and a function of the world
# returning (method, path, body, proof): proof() is true once the write happened, None for a
# read, or for a step that writes nothing (the admin's compare) the page it must lead to.


class Surface:
    def __init__(self, kind, row, build):
        self.kind, self.row, self.build = kind, row, build
