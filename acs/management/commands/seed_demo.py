"""Demo data: deterministic (fixed names, numbers and ids) and idempotent (run it again and
nothing is duplicated; the demo passwords are reset to the printed ones).

Later features extend `Command.seed_*`; keep each step keyed on a natural or fixed id.

The demo's people, teams, units, calls, residents and encounters are data, in
acs/management/demo_data.json, read below into the tables the steps walk.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from acs.roles import STAFF_ROLES, Role
from cases.models import Call, CallSource, Resident
from cases.services import (
    CallInput,
    call_event_record,
    call_upsert,
    encounter_create,
    encounter_submit,
    resident_create,
)
from resources.models import Location, Organization, Service, ServiceAtLocation
from responders.models import Team, TeamKind, Unit, UnitStatus, User

DEMO_NAMESPACE = uuid.UUID("6f1c1f0e-3c55-4d0c-9a8e-8f1d2c0a5e11")


def _load() -> dict:
    return json.loads((Path(__file__).parents[1] / "demo_data.json").read_text(encoding="utf-8"))


_DATA = _load()

# username -> (role, team name, unit call sign)
DEMO_USERS: dict[str, tuple[Role, str | None, str | None]] = {
    user["username"]: (Role(user["role"]), user["team"], user["unit"]) for user in _DATA["users"]
}
TEAMS = [(team["name"], TeamKind(team["kind"])) for team in _DATA["teams"]]
UNITS = [(unit["call_sign"], unit["team"], UnitStatus(unit["status"])) for unit in _DATA["units"]]
# incident number, source, type, priority, minutes ago, address, lat, lon, district, and the
# timeline CAD sent: (minutes after the call was received, event, unit)
CALLS = [
    (
        call["incident_number"],
        CallSource(call["source"]),
        call["type"],
        call["priority"],
        call["minutes_ago"],
        call["address"],
        call["latitude"],
        call["longitude"],
        call["district"],
        [(step["minutes_after"], step["event"], step["unit"]) for step in call["timeline"]],
    )
    for call in _DATA["calls"]
]
# fixed key, and the resident as the responder recorded them
RESIDENTS = [
    (
        resident["key"],
        {
            name: date.fromisoformat(value) if name == "date_of_birth" else value
            for name, value in resident["fields"].items()
        },
    )
    for resident in _DATA["residents"]
]
# fixed key, call (or None), unit, residents, fields, submit?
ENCOUNTERS = [
    (e["key"], e["call"], e["unit"], e["residents"], e["fields"], e["submit"])
    for e in _DATA["encounters"]
]


def demo_password(username: str) -> str:
    return f"demo-{username}-acs"


def demo_uuid(key: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, key)


def demo_token(username: str) -> str:
    """A fixed, published API token for a demo partner (demo data only)."""
    key = demo_uuid(f"token:{username}").hex
    return f"acs_{key[:8]}_demo{key[8:]}"


class Command(BaseCommand):
    help = "Load deterministic, idempotent demo data and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--quiet-logins", action="store_true", help="Do not print the logins table."
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo creates accounts with published passwords and refuses to run "
                "when ACS_ENVIRONMENT=production."
            )
        with transaction.atomic():
            teams = self.seed_teams()
            units = self.seed_units(teams)
            self.seed_users(teams, units)
            self.seed_calls(units)
            self.seed_residents()
            self.seed_resources()
            self.seed_referrals()
        # The public dashboard's figures now, not at the periodic refresh up to 15 minutes on.
        from cases.services.transparency import transparency_refresh

        transparency_refresh(full=True)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
        if not options["quiet_logins"]:
            self.print_logins()

    def seed_teams(self) -> dict[str, Team]:
        teams = {}
        for name, kind in TEAMS:
            teams[name], _ = Team.objects.update_or_create(name=name, defaults={"kind": kind})
        return teams

    def seed_units(self, teams: dict[str, Team]) -> dict[str, Unit]:
        units = {}
        now = timezone.now()
        for call_sign, team_name, status in UNITS:
            units[call_sign], _ = Unit.objects.get_or_create(
                call_sign=call_sign,
                defaults={"team": teams[team_name], "status": status, "status_changed_at": now},
            )
        return units

    def seed_users(self, teams: dict[str, Team], units: dict[str, Unit]) -> None:
        groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
        for username, (role, team_name, call_sign) in DEMO_USERS.items():
            user, _ = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@demo.acs.invalid"}
            )
            user.team = teams[team_name] if team_name else None
            user.is_staff = role in STAFF_ROLES
            user.is_superuser = role == Role.ADMIN
            # Only when it differs: a new hash would sign out everyone already signed in (Django
            # ties sessions to the password hash), so a restarted demo keeps its sessions.
            if not user.check_password(demo_password(username)):
                user.set_password(demo_password(username))
            user.save()
            user.groups.set([groups[role.value]])
            if call_sign:
                units[call_sign].members.add(user)

    def seed_calls(self, units: dict[str, Unit]) -> None:
        """Calls go in the way CAD sends them: a PUT, then the events of their timeline."""
        now = timezone.now()
        for (
            number,
            source,
            call_type,
            priority,
            minutes_ago,
            address,
            lat,
            lon,
            district,
            timeline,
        ) in CALLS:
            if Call.objects.filter(incident_number=number).exists():
                continue  # times are relative to the first seeding; keep them
            received = now - timedelta(minutes=minutes_ago)
            call, _ = call_upsert(
                incident_number=number,
                data=CallInput(
                    call_type=call_type,
                    priority=priority,
                    source=source,
                    received_at=received,
                    address=address,
                    latitude=Decimal(lat),
                    longitude=Decimal(lon),
                    council_district=district,
                ),
            )
            Call.objects.filter(pk=call.pk).update(public_id=demo_uuid(number))
            for step, (minutes, event, call_sign) in enumerate(timeline):
                call_event_record(
                    incident_number=number,
                    event_id=demo_uuid(f"{number}:{step}"),
                    type=event,
                    at=received + timedelta(minutes=minutes),
                    unit_call_sign=call_sign,
                    render=lambda call: {},
                )

    def seed_residents(self) -> None:
        """Residents and encounters go in through the field app's services, as the demo
        responder would record them."""
        responder = User.objects.get(username="responder")
        residents = {}
        for key, data in RESIDENTS:
            resident = Resident.objects.filter(public_id=demo_uuid(key)).first()
            if resident is None:
                resident = resident_create(
                    actor=responder, data=data, confirm_new=True, public_id=demo_uuid(key)
                )
            residents[key] = resident
        for key, number, call_sign, people, fields, submit in ENCOUNTERS:
            encounter, created = encounter_create(
                actor=responder,
                client_id=demo_uuid(key),
                unit=Unit.objects.get(call_sign=call_sign),
                call=Call.objects.get(incident_number=number) if number else None,
                data=fields,
                resident_ids=[residents[p].public_id for p in people],
            )
            if created and submit:
                encounter_submit(actor=responder, encounter=encounter)
        # A responder's late note on the submitted encounter, waiting in the supervisor's queue.
        from cases.models import Addendum, Encounter
        from cases.services import addendum_add

        submitted = Encounter.objects.get(client_id=demo_uuid("encounter-2"))
        if not Addendum.objects.filter(encounter=submitted).exists():
            addendum_add(
                actor=responder,
                encounter=submitted,
                text="Marisol called back: her sister can take her to the MVD on Tuesday.",
            )

    def seed_resources(self) -> None:
        from resources.demo import seed_directory

        seed_directory()
        counts = [
            f"{model.objects.count()} {model._meta.verbose_name_plural}"
            for model in (Organization, Service, Location, ServiceAtLocation)
        ]
        self.stdout.write("Directory: " + ", ".join(counts) + ".")

    def demo_partners(self) -> list[Organization]:
        """The two partner organizations of the demo: the first organizations (by name) with
        a referrable service that answers within a day or more."""
        organizations = []
        services = Service.objects.filter(
            accepts_referrals=True, referral_response_hours__gte=24
        ).select_related("organization")
        for service in services.order_by("organization__name", "name"):
            if service.organization not in organizations:
                organizations.append(service.organization)
            if len(organizations) == 2:
                break
        return organizations

    def seed_referrals(self) -> None:
        """Partner users and tokens for two organizations, sharing consents, and referrals in
        every state, moved through the services as the people involved would move them."""
        from acs.models import ApiToken
        from acs.tokens import token_issue
        from cases.models import Consent
        from cases.services import consent_record
        from resources import services as referrals
        from resources.models import Referral

        partners = self.demo_partners()
        if len(partners) < 2:
            return
        for username, organization in zip(("partner", "partner2"), partners, strict=True):
            User.objects.filter(username=username).update(organization=organization)
            token = demo_token(username)
            if not ApiToken.objects.filter(prefix=token.split("_")[1]).exists():
                token_issue(
                    role=Role.PARTNER_USER,
                    name=f"demo-{username}",
                    organization=organization,
                    token=token,
                )
        org = partners[0]
        staff = User.objects.get(username="casemanager")
        partner = User.objects.get(username="partner")
        marisol = Resident.objects.get(public_id=demo_uuid("resident-2"))
        sunny = Resident.objects.get(public_id=demo_uuid("resident-1"))
        if not Consent.objects.filter(resident=marisol, organization=org).exists():
            consent_record(
                actor=staff,
                resident=marisol,
                scope=Consent.Scope.SHARE_NAMED_PARTNER,
                organization=org,
                method=Consent.Method.VERBAL,
            )
        if not Consent.objects.filter(resident=sunny, scope="share_partners").exists():
            consent_record(
                actor=staff,
                resident=sunny,
                scope=Consent.Scope.SHARE_PARTNERS,
                method=Consent.Method.WRITTEN,
            )
        service = (
            Service.objects.filter(organization=org, accepts_referrals=True)
            .order_by("name")
            .first()
        )
        # state -> the moves after sending (None: leave as a draft)
        steps = {
            "draft": None,
            "sent": [],
            "accepted": ["accept"],
            "declined": ["decline"],
            "in_progress": ["accept", "start"],
            "completed": ["accept", "start", "complete:enrolled"],
            "not_completed": ["accept", "complete:no_show"],
            "cancelled": ["cancel"],
            "expired": ["expire"],
        }
        for index, (state, moves) in enumerate(steps.items()):
            client_id = demo_uuid(f"referral:{state}")
            if Referral.objects.filter(client_id=client_id).exists():
                continue
            referral = referrals.referral_create(
                actor=staff,
                resident=marisol if index % 2 else sunny,
                service=service,
                client_id=client_id,
                urgency="urgent" if state in {"sent", "expired"} else "routine",
                reason="Needs a bed and help with intake paperwork.",
                needs=["shelter", "id_documents"],
                send=moves is not None,
            )
            for move in moves or []:
                name, _, outcome = move.partition(":")
                if name == "decline":
                    referrals.referral_decline(
                        actor=partner, referral=referral, reason="No beds for this age group."
                    )
                elif name == "complete":
                    referrals.referral_complete(
                        actor=partner, referral=referral, outcome=outcome, note="Closed by demo"
                    )
                elif name == "cancel":
                    referrals.referral_cancel(
                        actor=staff, referral=referral, reason="Resident found a place."
                    )
                elif name == "expire":
                    past = timezone.now() - timedelta(minutes=1)
                    Referral.objects.filter(pk=referral.pk).update(respond_by=past)
                    referrals.referrals_expire_overdue()
                else:
                    getattr(referrals, f"referral_{name}")(actor=partner, referral=referral)
                referral.refresh_from_db()

    def print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write("Demo logins (username / password / role):")
        for username, (role, _team, call_sign) in DEMO_USERS.items():
            extra = f", unit {call_sign}" if call_sign else ""
            user = User.objects.filter(username=username).select_related("organization").first()
            if user and user.organization:
                extra = f", {user.organization.name}"
            self.stdout.write(f"  {username:<12} {demo_password(username):<24} {role.label}{extra}")
        tokens = [
            (u.username, u.organization.name)
            for u in User.objects.filter(username__in=["partner", "partner2"]).select_related(
                "organization"
            )
            if u.organization
        ]
        if tokens:
            self.stdout.write("")
            self.stdout.write("Demo partner API tokens (Authorization: Bearer ...):")
            for username, organization in tokens:
                self.stdout.write(f"  {organization}: {demo_token(username)}")
