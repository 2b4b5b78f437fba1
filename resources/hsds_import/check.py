"""Checking the records against our tables before anything is written: values, references,
owners, the check and unique constraints, against the file and the directory; and planning
the writes. Reads only."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from resources.models import Taxonomy
from resources.opening_hours import Rule, ScheduleError, occurs_on

from .collect import Collector, Record, _Plan
from .kinds import KINDS, NOT_MODELLED, TRUNCATED, UNIQUE, Kind, Ref
from .values import _Bad, _required_text, convert


class Checker(Collector):
    """The importer's second stage: checks the records and plans the writes (see Importer)."""

    # -- checking --

    def check(self) -> None:
        """Convert, resolve references, check constraints and plan the writes (reads only)."""
        self._load()
        self._taxonomy_stubs()
        for kind in KINDS.values():
            records = [r for r in self.records.values() if r.kind is kind]
            for rec in records:
                if rec.key in self.rejected:
                    continue
                desired = self._desired(rec)
                if rec.key not in self.rejected and rec.key not in self.ignored:
                    existing = self.existing.get(rec.key)
                    changed = None
                    if existing is not None:
                        changed = [k for k, v in desired.items() if existing[k] != v]
                    self.plans[kind.name].append(_Plan(rec, desired, changed))
            self._check_unique(kind)
            self._drop_self_refs(kind)
            plans = [p for p in self.plans[kind.name] if p.record.key not in self.rejected]
            self.plans[kind.name] = plans
            counts = self.report.counts[kind.name]
            for plan in plans:
                if plan.changed is None:
                    counts["new"] += 1
                elif plan.changed:
                    counts["changed"] += 1
                else:
                    counts["unchanged"] += 1
            if records:
                self.progress(f"  checked {len(records)} {kind.name}")

    def _load(self) -> None:
        """The rows the file names, and the pks of the targets it refers to, in bulk."""
        wanted: dict[str, set[uuid.UUID]] = defaultdict(set)
        for rec in self.records.values():
            for slot, (target, _nested) in rec.links.items():
                wanted[rec.kind.ref(slot).kind].add(target)
        if self.organization:
            wanted["organization"].add(self.organization)
        for kind in KINDS.values():
            ids = [i for (k, i) in self.records if k == kind.name]
            slots = [r.slot for r in kind.refs]
            columns = ["id", "public_id", *kind.fields, *kind.extensions]
            columns += [f"{slot}__public_id" for slot in slots]
            for chunk in _chunks(ids):
                for row in kind.model.objects.filter(public_id__in=chunk).values(*columns):
                    for slot in slots:
                        row[slot] = row.pop(f"{slot}__public_id")
                    key = (kind.name, row["public_id"])
                    self.existing[key] = row
                    self.pk[key] = row["id"]
            others = [i for i in wanted[kind.name] if (kind.name, i) not in self.records]
            for chunk in _chunks(others):
                for public_id, pk in kind.model.objects.filter(public_id__in=chunk).values_list(
                    "public_id", "id"
                ):
                    self.pk[(kind.name, public_id)] = pk

    def _known(self, kind: str, ident: uuid.UUID) -> bool:
        key = (kind, ident)
        if key in self.records:
            return key not in self.rejected and key not in self.ignored
        return key in self.pk

    def _taxonomy_stubs(self) -> None:
        """Give each term whose taxonomy is neither nested nor found by id its taxonomy: the
        one its `taxonomy` name names, or else one made from the taxonomy_id and name it gives
        (HSDS's tabular example has such a term). A term with neither is rejected later."""
        terms = [r for r in self.records.values() if r.kind.name == "taxonomy_term"]
        names = {r.extra["taxonomy"] for r in terms if isinstance(r.extra.get("taxonomy"), str)}
        by_name = {
            r.values.get("name"): r.id
            for r in self.records.values()
            if r.kind.name == "taxonomy" and r.key not in self.rejected
        }
        for public_id, pk, name in Taxonomy.objects.filter(name__in=names).values_list(
            "public_id", "id", "name"
        ):
            by_name.setdefault(name, public_id)
            self.pk.setdefault(("taxonomy", public_id), pk)
        for term in terms:
            link = term.links.get("taxonomy")
            if link and (link[1] or self._known("taxonomy", link[0])):
                continue
            name = term.extra.get("taxonomy")
            name = name if isinstance(name, str) and name else None
            if name in by_name:
                term.links["taxonomy"] = (by_name[name], False)
                if link:
                    self.report.warn(
                        "taxonomy_term",
                        f"taxonomy_id {link[0]} is unknown: taxonomy found by its name",
                        term.id,
                    )
                continue
            if name is None or link is None:
                continue  # left to the required-reference check
            ident = link[0]
            stub = Record(KINDS["taxonomy"], ident, term.where, {"name": name, "description": ""})
            self._merge(stub)
            by_name[name] = ident
            term.links["taxonomy"] = (ident, False)
            self.report.warn(
                "taxonomy",
                "not in the file nor in the directory: made from the taxonomy_id and taxonomy "
                "name its terms give",
                ident,
            )

    def _desired(self, rec: Record) -> dict[str, Any]:
        kind, meta = rec.kind, rec.kind.model._meta
        desired: dict[str, Any] = {}
        required = _required_text(kind)
        for name in (*kind.fields, *kind.extensions):
            if name not in rec.values and name in kind.extensions:
                continue
            raw = rec.values.get(name)
            limit = meta.get_field(name).max_length
            if (kind.name, name) in TRUNCATED and isinstance(raw, str) and len(raw) > limit:
                self.report.warn(kind.name, f"{name}: longer than {limit} characters, cut", rec.id)
                raw = raw[: limit - 1] + "…"
            try:
                value, offset = convert(meta.get_field(name), raw)
            except _Bad as exc:
                self._reject(rec, name, str(exc))
                continue
            if offset:
                self.report.warn(
                    kind.name,
                    f"{name}: time zone offset dropped; times are local (America/Denver)",
                    rec.id,
                )
            if name in required and value == "":
                self._reject(rec, name, "must not be empty")
            desired[name] = value
        hook = getattr(self, f"_check_{kind.name}", None)
        if hook:
            hook(rec, desired)
        if rec.key in self.ignored:
            return desired
        for ref in kind.refs:
            self._resolve(rec, ref, desired)
        existing = self.existing.get(rec.key)
        owned = any(desired.get(r.slot) for r in kind.refs) or (
            existing and any(existing[r.slot] for r in kind.refs)
        )
        if kind.one_owner and not owned:
            owners = ", ".join(r.id_field for r in kind.refs)
            lost = [(r.kind, rec.links[r.slot][0]) for r in kind.refs if r.slot in rec.links]
            knock_on = any(key in self.rejected for key in lost)
            self._reject(rec, "", f"belongs to nothing: none of {owners} is known", knock_on)
        for ref in kind.refs:
            if ref.required and ref.slot not in desired and not existing:
                self._missing(rec, ref, desired)
        return desired

    def _resolve(self, rec: Record, ref: Ref, desired: dict) -> None:
        link = rec.links.get(ref.slot)
        if link is None:
            return
        target = link[0]
        if self._known(ref.kind, target):
            desired[ref.slot] = target
            return
        rejected = (ref.kind, target) in self.rejected
        why = "was rejected" if rejected else "is neither in the file nor in the directory"
        if ref.required:
            self._reject(rec, ref.id_field, f"{ref.kind} {target} {why}", knock_on=rejected)
        elif rejected and rec.kind.one_owner:
            self.report.warn(rec.kind.name, f"{ref.id_field}: its {ref.kind} was rejected", rec.id)
        else:
            self.report.warn(
                rec.kind.name, f"{ref.id_field} names a {ref.kind} that {why}: left out", target
            )

    def _missing(self, rec: Record, ref: Ref, desired: dict) -> None:
        if rec.key in self.rejected:
            return
        if ref.slot == "organization" and rec.kind.name == "service" and self.organization:
            desired["organization"] = self.organization
            return
        hint = (
            "; pass --organization ID to attach such services to one"
            if (rec.kind.name == "service")
            else ""
        )
        self._reject(rec, ref.id_field, f"missing, and the row cannot do without it{hint}")

    def _check_location(self, rec: Record, desired: dict) -> None:
        lat, lon = desired.get("latitude"), desired.get("longitude")
        if (lat is None) != (lon is None) or (
            lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180)
        ):
            self.report.warn(
                "location",
                "latitude/longitude not a point on Earth (or only one given): not kept",
                rec.id,
            )
            desired.pop("latitude", None)
            desired.pop("longitude", None)

    def _check_service(self, rec: Record, desired: dict) -> None:
        low, high = desired.get("minimum_age"), desired.get("maximum_age")
        if low is not None and high is not None and low > high:
            self._reject(rec, "minimum_age", f"{low} is above maximum_age {high}")
        if desired.get("referral_response_hours") == 0:
            self._reject(rec, "referral_response_hours", "must be at least 1")

    def _check_schedule(self, rec: Record, desired: dict) -> None:
        start, end = desired.get("valid_from"), desired.get("valid_to")
        if start and end and start > end:
            self._reject(rec, "valid_to", f"{end} is before valid_from {start}")
        if desired.get("closed") and not start:
            self._reject(rec, "valid_from", "a closure needs the date it starts")
        if desired.get("interval") == 0:
            self._reject(rec, "interval", "must be at least 1")
        try:
            # Reads byday and bymonthday whatever the dates: the monthly rule parses both.
            occurs_on(
                Rule(
                    freq="MONTHLY",
                    byday=desired.get("byday", ""),
                    bymonthday=desired.get("bymonthday", ""),
                ),
                date(2000, 1, 1),
            )
        except ScheduleError as exc:
            self._reject(rec, "byday/bymonthday", str(exc))

    def _check_cost_option(self, rec: Record, desired: dict) -> None:
        if desired.get("amount") is not None and desired["amount"] < 0:
            self._reject(rec, "amount", "must not be negative")

    def _check_attribute(self, rec: Record, desired: dict) -> None:
        entity = rec.extra.get("link_entity") or ""
        link_id = rec.extra.get("link_id") or ""
        link_type = rec.extra.get("link_type") or ""
        if link_type not in ("", "service_category"):
            self.report.not_kept["attribute"]["link_type"] += 1
        nested = rec.links.get("service")
        if nested:  # within a service: that is its link, whatever the link fields say
            if entity not in ("", "service") or (link_id and link_id != str(nested[0])):
                self.report.warn(
                    "attribute",
                    "link_entity/link_id ignored: the attribute is nested in a service",
                    rec.id,
                )
            return
        if entity == "service" or (not entity and link_id):
            try:
                target = uuid.UUID(str(link_id))
            except ValueError:
                target = None
            if target and (entity == "service" or self._known("service", target)):
                rec.links["service"] = (target, False)
                return
        what = f"link_entity {entity!r}" if entity else "no link_entity"
        if entity in KINDS or entity in NOT_MODELLED:
            message = f"attributes on a {entity} are not kept"
        else:
            message = f"{what}, link_id {link_id or '-'} is not a service here: not imported"
        self.report.warn("attribute", message, rec.id)
        self._ignore("attribute", rec.id)

    def _check_unique(self, kind: Kind) -> None:
        """The unique constraints, among the file's rows and against the directory's others."""
        fields = UNIQUE.get(kind.name)
        if not fields:
            return
        column = {f: f if f in kind.fields else f"{f}__public_id" for f in fields}
        mine: dict[tuple, Record] = {}
        for plan in self.plans[kind.name]:
            if plan.record.key in self.rejected:
                continue
            existing = self.existing.get(plan.record.key, {})
            value = tuple(plan.desired[f] if f in plan.desired else existing.get(f) for f in fields)
            other = mine.setdefault(value, plan.record)
            if other is not plan.record:
                self._reject(plan.record, ", ".join(fields), f"the same as {kind.name} {other.id}")
        for chunk in _chunks(sorted({value[0] for value in mine}, key=str)):
            rows = kind.model.objects.filter(**{f"{column[fields[0]]}__in": chunk}).values_list(
                "public_id", *(column[f] for f in fields)
            )
            for public_id, *value in rows:
                key = (kind.name, public_id)
                if key in self.records and self._known(*key):
                    continue  # the file's values replace these
                rec = mine.get(tuple(value))
                if rec is not None and rec.id != public_id and rec.key not in self.rejected:
                    self._reject(
                        rec,
                        ", ".join(fields),
                        f"the directory has {kind.name} {public_id} with the same",
                    )

    def _drop_self_refs(self, kind: Kind) -> None:
        for ref in kind.refs:
            if ref.kind != kind.name:
                continue
            for plan in self.plans[kind.name]:
                target = plan.desired.get(ref.slot)
                if target and (kind.name, target) in self.rejected:
                    del plan.desired[ref.slot]
                    if plan.changed:
                        plan.changed = [c for c in plan.changed if c != ref.slot]
                    self.report.warn(
                        kind.name, f"{ref.id_field}: it was rejected, left out", plan.record.id
                    )


def _chunks(items: list, size: int = 2000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
