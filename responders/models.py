"""The workforce: staff users, their teams, and the units (call signs) they staff."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from acs.models import BaseModel
from acs.roles import Role


class User(AbstractUser):
    """A person or machine client that signs in. Roles are Django groups named after `Role`."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(
        "responders.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    # Set for partner users: the agency whose referrals and capacity they may see.
    organization = models.ForeignKey(
        "resources.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="partner_users",
    )
    # The interface language this person chose (settings.LANGUAGES); blank: the browser's.
    language = models.CharField(max_length=8, blank=True, default="")
    # Professional credentials as billing asks for them ("LPCC, NPI 1234567890"): the
    # mobile-crisis billing evidence export names who screened and assessed, with these.
    credentials = models.CharField(max_length=200, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(AbstractUser.Meta):
        ordering = ("id",)
        swappable = "AUTH_USER_MODEL"

    @property
    def role_names(self) -> list[str]:
        # One read of the groups per instance (request.user is loaded afresh each request; a
        # list view may have prefetched them): kept in the prefetch cache, which the groups
        # manager's add, remove, set and clear empty. An admin page asked every model's
        # permissions and read the groups once for each (nine times for the service list).
        cache = self.__dict__.setdefault("_prefetched_objects_cache", {})
        if "groups" not in cache:
            groups = self.groups.all()
            list(groups)  # read once; the manager answers from it until it changes them
            cache["groups"] = groups
        valid = set(Role.values)
        return sorted(g.name for g in self.groups.all() if g.name in valid)

    @property
    def role_labels(self) -> list[str]:
        return [Role(name).label for name in self.role_names]

    def has_role(self, role: Role) -> bool:
        return role.value in self.role_names


class TeamKind(models.TextChoices):
    BEHAVIORAL_HEALTH = "behavioral_health", "Behavioral Health Responders"
    MOBILE_CRISIS = "mobile_crisis", "Mobile Crisis Team"
    COMMUNITY = "community", "Community Responders"
    STREET_OUTREACH = "street_outreach", "Street Outreach & Resource"
    CASE_MANAGEMENT = "case_management", "Case management"


class Team(BaseModel):
    Kind = TeamKind

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in TeamKind]),
                name="responders_team_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UnitStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    DISPATCHED = "dispatched", _("Dispatched")
    EN_ROUTE = "en_route", _("En route")
    ON_SCENE = "on_scene", _("On scene")
    TRANSPORTING = "transporting", _("Transporting")
    AT_DESTINATION = "at_destination", _("At destination")
    CLEARED = "cleared", _("Cleared")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")


class Unit(BaseModel):
    """A call sign (ACS-12) staffed by responders for a shift; CAD is the source of truth."""

    Status = UnitStatus

    call_sign = models.CharField(max_length=32, unique=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="units"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OUT_OF_SERVICE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # A call sign CAD sent before anyone here created the unit: a supervisor confirms it.
    needs_confirmation = models.BooleanField(default=False)
    members = models.ManyToManyField(User, blank=True, related_name="units")

    class Meta(BaseModel.Meta):
        ordering = ("call_sign",)
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in UnitStatus]),
                name="responders_unit_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="responders_unit_status_idx")]

    def __str__(self) -> str:
        return self.call_sign


class PositionSource(models.TextChoices):
    CAD = "cad", "CAD"
    FIELD = "field", "Field app"


class UnitPosition(BaseModel):
    """Where a unit was at a moment: from CAD's unit status events or the unit's tablet.

    Kept short-term only (UNIT_POSITION_RETENTION, pruned by `responders.tasks.
    prune_unit_positions`): the board needs the last known position, not a track of a
    responder's shift. Seen by desk roles only (docs/security.md).
    """

    Source = PositionSource

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="positions")
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    recorded_at = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=[s.value for s in PositionSource]),
                name="responders_unitposition_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="responders_unitposition_in_range",
            ),
        ]
        indexes = [
            # The board's last known position per unit, and the prune by age.
            models.Index(fields=["unit", "-recorded_at"], name="responders_unitpos_last_idx"),
            models.Index(fields=["recorded_at"], name="responders_unitpos_age_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} at {self.recorded_at:%Y-%m-%d %H:%M}"
