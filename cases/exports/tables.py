"""The residents and encounters CSV files, with their redaction levels (docs/exports.md).

Each column says at which levels it appears; a column left out is left out of the header too,
so a file says by its shape what it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import Count, Exists, Max, Min, OuterRef, Prefetch

from acs.csv_cells import CsvWriter
from cases.exports.models import Redaction
from cases.exports.writing import ExportContext, age_band, joined, keyset_batches
from cases.models import Encounter, EncounterResident, FormResponse, Resident
from cases.models.encounters import PART2_NEEDS, PART2_SERVICES

FULL = frozenset({Redaction.FULL})
IDENTIFIED = frozenset({Redaction.FULL, Redaction.NO_DIRECT_IDENTIFIERS})
ALL = frozenset(Redaction)
PART2 = "part2"  # a column shown only when Part 2 data is allowed (full level, permitted role)


@dataclass(frozen=True)
class Column:
    name: str
    value: Callable[[Any, ExportContext], Any]
    levels: frozenset = ALL
    part2: bool = False

    def shown(self, ctx: ExportContext) -> bool:
        if self.part2 and not ctx.part2_allowed():
            return False
        return ctx.redaction in self.levels


def _write(path: Path, columns: list[Column], ctx: ExportContext, batches) -> None:
    shown = [c for c in columns if c.shown(ctx)]
    with path.open("w", newline="", encoding="utf-8") as out:
        # Opened in spreadsheets: no text cell may run as a formula (acs/csv_cells.py).
        writer = CsvWriter(out)
        writer.writerow([c.name for c in shown])
        for batch in batches:
            writer.writerows([c.value(row, ctx) for c in shown] for row in batch)
            ctx.progress(len(batch))


# --- residents ------------------------------------------------------------------------------

RESIDENT_COLUMNS = [
    Column("resident_id", lambda r, ctx: ctx.person_id(r.public_id)),
    Column("preferred_name", lambda r, ctx: r.preferred_name, FULL),
    Column("legal_name", lambda r, ctx: r.legal_name, FULL),
    Column("aliases", lambda r, ctx: joined(r.aliases), FULL),
    Column("date_of_birth", lambda r, ctx: r.date_of_birth or "", FULL),
    Column("dob_quality", lambda r, ctx: r.dob_quality),
    Column("age_band", lambda r, ctx: age_band(r.date_of_birth, ctx.job.end_date)),
    Column("gender", lambda r, ctx: r.gender),
    Column("race_ethnicity", lambda r, ctx: joined(r.race_ethnicity)),
    Column("veteran_status", lambda r, ctx: r.veteran_status),
    Column("preferred_language", lambda r, ctx: r.preferred_language),
    Column("phone", lambda r, ctx: r.phone, FULL),
    Column("email", lambda r, ctx: r.email, FULL),
    Column("where_to_find_me", lambda r, ctx: r.where_to_find_me, FULL),
    # Free text, which may hold substance-use details: with the Part 2 permission only.
    Column("safety_flags", lambda r, ctx: r.safety_flags, FULL, part2=True),
    Column("housing_status", lambda r, ctx: r.housing_status),
    # One person may have been several records: say how many were merged into this one.
    Column("merged_records", lambda r, ctx: r.x_merged),
    Column("encounters_in_range", lambda r, ctx: r.x_count),
    Column("first_encounter", lambda r, ctx: ctx.day(r.x_first)),
    Column("last_encounter", lambda r, ctx: ctx.day(r.x_last)),
]


def _links_in_range(ctx: ExportContext):
    return EncounterResident.objects.filter(
        encounter__occurred_at__gte=ctx.start,
        encounter__occurred_at__lt=ctx.end,
        encounter__status=Encounter.Status.SUBMITTED,
    )


def residents_queryset(ctx: ExportContext):
    """People (not records): active residents with a submitted encounter in the range.
    Records merged into another are not rows of their own; their survivor counts them."""
    met = _links_in_range(ctx).filter(resident=OuterRef("pk"))
    return Resident.objects.filter(merged_into__isnull=True).filter(Exists(met))


def _resident_batches(ctx: ExportContext):
    for batch in keyset_batches(residents_queryset(ctx)):
        ids = [r.pk for r in batch]
        stats = {
            row["resident_id"]: row
            for row in _links_in_range(ctx)
            .filter(resident_id__in=ids)
            .values("resident_id")
            .annotate(
                n=Count("id"),
                first=Min("encounter__occurred_at"),
                last=Max("encounter__occurred_at"),
            )
        }
        merged = dict(
            Resident.objects.filter(merged_into_id__in=ids)
            .values("merged_into_id")
            .annotate(n=Count("id"))
            .values_list("merged_into_id", "n")
        )
        for r in batch:
            s = stats.get(r.pk, {})
            r.x_count, r.x_first, r.x_last = s.get("n", 0), s.get("first"), s.get("last")
            r.x_merged = merged.get(r.pk, 0)
        yield batch


def residents_count(ctx: ExportContext) -> int:
    return residents_queryset(ctx).count()


def residents_write(ctx: ExportContext, folder: Path) -> Path:
    path = folder / "residents.csv"
    _write(path, RESIDENT_COLUMNS, ctx, _resident_batches(ctx))
    return path


# --- encounters -----------------------------------------------------------------------------


def _people(e: Encounter, ctx: ExportContext) -> str:
    return joined(ctx.person_id(link.resident.public_id) for link in e.people.all())


def _merged_people(e: Encounter, ctx: ExportContext) -> int:
    """How many of the people listed were met as another record since merged into theirs."""
    return sum(1 for link in e.people.all() if link.original_resident_id)


ENCOUNTER_COLUMNS = [
    Column(
        "encounter_id",
        lambda e, ctx: ctx.record_id(e.public_id, prefix="e-"),
    ),
    Column("occurred_at", lambda e, ctx: ctx.when(e.occurred_at)),
    Column("unit", lambda e, ctx: e.unit.call_sign, IDENTIFIED),
    Column(
        "incident_number", lambda e, ctx: e.call.incident_number if e.call_id else "", IDENTIFIED
    ),
    Column("call_type", lambda e, ctx: e.call.call_type if e.call_id else ""),
    Column("council_district", lambda e, ctx: e.call.council_district if e.call_id else ""),
    Column("address", lambda e, ctx: e.call.address if e.call_id else "", FULL),
    Column("needs", lambda e, ctx: joined(ctx.without_part2(e.needs, PART2_NEEDS))),
    Column(
        "services_on_scene",
        lambda e, ctx: joined(ctx.without_part2(e.services_on_scene, PART2_SERVICES)),
    ),
    Column("risk_level", lambda e, ctx: e.risk_level),
    # When a screen set the risk level (blank: set by hand or not screened), and the forms
    # completed on the encounter (cases/screening): their answers stay out of the file.
    Column("risk_screened_at", lambda e, ctx: ctx.when(e.risk_level_set_at)),
    Column(
        "forms_completed",
        lambda e, ctx: joined(
            f"{r.version.definition.key} v{r.version.number}" for r in e.form_responses.all()
        ),
    ),
    Column("disposition", lambda e, ctx: e.disposition),
    # Free text ("the detox on Second Street"): with the Part 2 permission only.
    Column("transport_destination", lambda e, ctx: e.transport_destination, FULL, part2=True),
    Column("police_requested", lambda e, ctx: int(e.police_requested)),
    Column("ems_requested", lambda e, ctx: int(e.ems_requested)),
    Column("anonymous_people", lambda e, ctx: e.anonymous_people),
    Column("resident_ids", _people),
    Column("people_from_merged_records", _merged_people),
    # Free text: may name people and hold substance-use details.
    Column("narrative", lambda e, ctx: e.narrative, FULL, part2=True),
    # The responder's flag: this narrative holds substance-use information (42 CFR Part 2).
    Column("narrative_part2", lambda e, ctx: int(e.narrative_part2), FULL, part2=True),
]


def encounters_queryset(ctx: ExportContext):
    """Submitted encounters in the range (drafts are not records yet)."""
    return (
        Encounter.objects.filter(
            occurred_at__gte=ctx.start,
            occurred_at__lt=ctx.end,
            status=Encounter.Status.SUBMITTED,
        )
        .select_related("unit", "call")
        .prefetch_related(
            Prefetch(
                "people",
                queryset=EncounterResident.objects.select_related("resident").only(
                    "encounter_id", "original_resident_id", "resident__public_id"
                ),
            ),
            Prefetch(
                "form_responses",
                queryset=FormResponse.objects.select_related("version__definition").order_by("id"),
            ),
        )
    )


def encounters_count(ctx: ExportContext) -> int:
    return encounters_queryset(ctx).count()


def encounters_write(ctx: ExportContext, folder: Path) -> Path:
    path = folder / "encounters.csv"
    _write(path, ENCOUNTER_COLUMNS, ctx, keyset_batches(encounters_queryset(ctx)))
    return path
