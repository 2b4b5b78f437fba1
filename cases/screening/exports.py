"""The mobile-crisis billing evidence file (ExportKind.BILLING_CSV, docs/screening.md): one row
per screen or assessment recorded on a submitted encounter in the range, with who did it (and
the credentials recorded on their account), the times of the call and of the form, the
instrument and its result. It is evidence for a claim, not a claim: nothing is submitted.

The answers themselves are not in it (free text, the person's own words): the instrument,
its version and the result are what billing asks for.
"""

from __future__ import annotations

from pathlib import Path

from cases.exports.tables import FULL, IDENTIFIED, Column, _write
from cases.exports.writing import ExportContext, keyset_batches
from cases.models import Encounter, FormDefinition, FormResponse


def _assignment(r: FormResponse):
    """The unit's assignment on the call (prefetched): its dispatch, arrival and clear times."""
    for assignment in r.encounter.call.assignments.all() if r.encounter.call_id else ():
        if assignment.unit_id == r.encounter.unit_id:
            return assignment
    return None


def _at(name):
    def value(r, ctx):
        assignment = _assignment(r)
        return ctx.when(getattr(assignment, name) if assignment else None)

    return value


BILLING_COLUMNS = [
    Column("encounter_id", lambda r, ctx: ctx.record_id(r.encounter.public_id, prefix="e-")),
    Column("form_response_id", lambda r, ctx: ctx.record_id(r.public_id, prefix="f-")),
    Column(
        "resident_id", lambda r, ctx: ctx.person_id(r.resident.public_id) if r.resident_id else ""
    ),
    Column(
        "incident_number",
        lambda r, ctx: r.encounter.call.incident_number if r.encounter.call_id else "",
        IDENTIFIED,
    ),
    Column("call_type", lambda r, ctx: r.encounter.call.call_type if r.encounter.call_id else ""),
    Column("unit", lambda r, ctx: r.encounter.unit.call_sign, IDENTIFIED),
    Column(
        "call_received_at",
        lambda r, ctx: ctx.when(r.encounter.call.received_at if r.encounter.call_id else None),
    ),
    Column("unit_dispatched_at", _at("dispatched_at")),
    Column("unit_on_scene_at", _at("on_scene_at")),
    Column("unit_cleared_at", _at("cleared_at")),
    Column("encounter_occurred_at", lambda r, ctx: ctx.when(r.encounter.occurred_at)),
    Column("form_purpose", lambda r, ctx: r.version.definition.purpose),
    Column("instrument", lambda r, ctx: r.version.definition.title),
    Column("instrument_version", lambda r, ctx: r.version.number),
    Column("form_started_at", lambda r, ctx: ctx.when(r.started_at)),
    Column("form_completed_at", lambda r, ctx: ctx.when(r.completed_at)),
    Column("result_risk_level", lambda r, ctx: r.risk_level),
    Column("disposition", lambda r, ctx: r.encounter.disposition),
    Column("staff_id", lambda r, ctx: ctx.record_id(r.created_by.public_id, prefix="s-")),
    Column(
        "staff_name", lambda r, ctx: r.created_by.get_full_name() or r.created_by.username, FULL
    ),
    Column("staff_credentials", lambda r, ctx: r.created_by.credentials, IDENTIFIED),
]

BILLED_PURPOSES = (FormDefinition.Purpose.SCREENING, FormDefinition.Purpose.ASSESSMENT)


def billing_queryset(ctx: ExportContext):
    return (
        FormResponse.objects.filter(
            encounter__occurred_at__gte=ctx.start,
            encounter__occurred_at__lt=ctx.end,
            encounter__status=Encounter.Status.SUBMITTED,
            version__definition__purpose__in=BILLED_PURPOSES,
        )
        .select_related(
            "version__definition",
            "encounter__unit",
            "encounter__call",
            "resident",
            "created_by",
        )
        .prefetch_related("encounter__call__assignments")
    )


def billing_count(ctx: ExportContext) -> int:
    return billing_queryset(ctx).count()


def billing_write(ctx: ExportContext, folder: Path) -> Path:
    path = folder / "crisis-billing-evidence.csv"
    _write(path, BILLING_COLUMNS, ctx, keyset_batches(billing_queryset(ctx)))
    return path
