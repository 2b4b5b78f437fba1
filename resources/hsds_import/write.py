"""Writing the planned rows: new ones in bulk, then only the changed columns of the others,
with `updated_at` moved for those alone."""

from __future__ import annotations

from collections import defaultdict

from django.utils import timezone

from resources.services.opening_hours import opening_intervals_affected

from .check import Checker
from .collect import BATCH
from .kinds import KINDS


class Importer(Checker):
    """Collects records from a Source, checks them against the directory, then writes."""

    # -- writing --

    def write(self) -> None:
        now = timezone.now()
        # Whose opening intervals to recompute (bulk writes send no signals).
        self.hours_owners: dict[str, set[int]] = {
            "service_at_location_ids": set(),
            "service_ids": set(),
            "location_ids": set(),
        }
        for kind in KINDS.values():
            plans = self.plans[kind.name]
            if kind.name == "schedule":  # a schedule moved away leaves its old owner to redo
                self._hours_touched([self.pk[p.record.key] for p in plans if p.changed])
            slots = {r.slot: r for r in kind.refs}
            new, later = [], []
            for plan in (p for p in plans if p.changed is None):
                obj = kind.model(public_id=plan.record.id)
                for name, value in plan.desired.items():
                    if name in slots:
                        pk = self.pk.get((slots[name].kind, value))
                        if pk is None:  # a row of this same table, created just below
                            later.append((obj, slots[name], value))
                            continue
                        name, value = f"{name}_id", pk
                    setattr(obj, name, value)
                new.append(obj)
            kind.model.objects.bulk_create(new, batch_size=BATCH)
            for obj in new:
                self.pk[(kind.name, obj.public_id)] = obj.pk
            if later:
                for obj, ref, value in later:
                    setattr(obj, f"{ref.slot}_id", self.pk[(ref.kind, value)])
                fields = sorted({ref.slot for _obj, ref, _value in later})
                kind.model.objects.bulk_update([o for o, _r, _v in later], fields, batch_size=BATCH)
            groups: dict[tuple[str, ...], list] = defaultdict(list)
            for plan in (p for p in plans if p.changed):
                obj = kind.model(pk=self.pk[plan.record.key])
                for name in plan.changed:
                    value = plan.desired[name]
                    if name in slots:
                        setattr(obj, f"{name}_id", self.pk[(slots[name].kind, value)])
                    else:
                        setattr(obj, name, value)
                obj.updated_at = now
                groups[tuple(sorted(plan.changed))].append(obj)
            for fields, objs in groups.items():
                kind.model.objects.bulk_update(objs, [*fields, "updated_at"], batch_size=BATCH)
            written = [o.pk for o in new] + [self.pk[p.record.key] for p in plans if p.changed]
            if kind.name == "schedule":
                self._hours_touched(written)
            elif kind.name == "service_at_location":
                self.hours_owners["service_at_location_ids"].update(written)
            counts = self.report.counts[kind.name]
            counts["created"] = counts.pop("new", 0)
            counts["updated"] = counts.pop("changed", 0)
            if new or groups:
                self.progress(
                    f"  {kind.name}: {counts['created']} created, {counts['updated']} updated"
                )

    def _hours_touched(self, schedule_ids: list[int]) -> None:
        if schedule_ids:
            for key, ids in opening_intervals_affected(schedule_ids).items():
                self.hours_owners[key].update(ids)
