"""Live capacity (beyond HSDS): the figure of one service at one location, stale after
CAPACITY_STALE_AFTER, and its append-only history."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from acs.models import BaseModel
from resources.models.directory import ServiceAtLocation


def capacity_stale_after() -> timedelta:
    """How old a capacity figure may be before it shows as stale (CAPACITY_STALE_AFTER).

    Read at call time, so that tests can override the setting."""
    return settings.CAPACITY_STALE_AFTER


class Capacity(BaseModel):
    """The live figure of one service at one location: `available` of `total` `unit` free."""

    service_at_location = models.OneToOneField(
        ServiceAtLocation, on_delete=models.CASCADE, related_name="capacity"
    )
    available = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    unit = models.CharField(max_length=32, default="beds")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta(BaseModel.Meta):
        verbose_name_plural = "capacities"
        constraints = [
            models.CheckConstraint(
                condition=Q(available__lte=F("total")),
                name="resources_capacity_available_within_total",
            ),
        ]
        indexes = [
            models.Index(
                fields=["updated_at"],
                name="resources_capacity_free_idx",
                condition=Q(available__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.available}/{self.total} {self.unit}"

    @property
    def is_stale(self) -> bool:
        return self.updated_at < timezone.now() - capacity_stale_after()


class CapacityHistory(BaseModel):
    """One row per capacity change (`created_at` is when); rows are only ever appended."""

    service_at_location = models.ForeignKey(
        ServiceAtLocation, on_delete=models.CASCADE, related_name="capacity_history"
    )
    available = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    unit = models.CharField(max_length=32)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta(BaseModel.Meta):
        verbose_name_plural = "capacity history"
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(available__lte=F("total")),
                name="resources_capacityhistory_available_within_total",
            ),
        ]
        indexes = [
            models.Index(
                fields=["service_at_location", "-created_at"],
                name="resources_caphist_sal_idx",
            ),
        ]

    def __str__(self) -> str:
        at = timezone.localtime(self.created_at)
        return f"{self.available}/{self.total} {self.unit} at {at:%Y-%m-%d %H:%M}"
