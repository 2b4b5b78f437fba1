"""Collecting records from a Source: each object and row validated against its HSDS schema,
nested objects walked into records of their own, and the occurrences of one object merged."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from acs.progress import BarFactory, no_bar
from resources.hsds_schemas import is_valid

from .kinds import KINDS, Kind, _schema, _validator, detect
from .read import Source
from .report import Problem, Report

BATCH = 500
Progress = Callable[[str], None]


@dataclass(eq=False)
class Record:
    """One HSDS object as read: its own values and the owners it names (merged occurrences)."""

    kind: Kind
    id: uuid.UUID
    where: str
    values: dict[str, Any] = field(default_factory=dict)
    links: dict[str, tuple[uuid.UUID, bool]] = field(default_factory=dict)  # slot: (id, nested)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, uuid.UUID]:
        return (self.kind.name, self.id)


@dataclass
class _Plan:
    record: Record
    desired: dict[str, Any]  # field or slot: value (slots hold the target's public id)
    changed: list[str] | None  # None: to create


class Collector:
    """The importer's first stage: reads a Source into records (see Importer)."""

    def __init__(
        self,
        report: Report,
        *,
        organization: uuid.UUID | None = None,
        progress: Progress = lambda s: None,
        bar: BarFactory = no_bar,
    ):
        self.report = report
        self.organization = organization
        self.progress = progress
        self.bar = bar
        self.records: dict[tuple[str, uuid.UUID], Record] = {}
        self.rejected: set[tuple[str, uuid.UUID]] = set()
        self.ignored: set[tuple[str, uuid.UUID]] = set()
        self.existing: dict[tuple[str, uuid.UUID], dict] = {}
        self.pk: dict[tuple[str, uuid.UUID], int] = {}
        self.plans: dict[str, list[_Plan]] = defaultdict(list)

    # -- reporting --

    def _reject(self, rec: Record, name: str, message: str, knock_on: bool = False) -> None:
        if rec.key not in self.rejected:
            self.rejected.add(rec.key)
            self.report.counts[rec.kind.name]["rejected"] += 1
        self.report.problems.append(
            Problem(rec.kind.name, str(rec.id), name, message, rec.where, knock_on)
        )

    def _ignore(self, kind: str, ident: object) -> None:
        key = (kind, ident)
        if key not in self.ignored:
            self.ignored.add(key)
            self.report.counts[kind]["ignored"] += 1

    # -- collecting --

    def collect(self, source: Source) -> None:
        self.report.notes.insert(0, f"Read as {source.label}.")
        total = len(source.objects) + sum(len(rows) for _t, rows, _p in source.tables)
        with self.bar(total, "read") as done:
            for kind, obj, where in source.objects:
                self._take_object(kind, obj, where)
                done.update()
            for table, rows, problems in source.tables:
                if table not in KINDS:
                    problems = []  # not kept anyway
                bad_rows = {p.where for p in problems}
                for problem in problems:
                    self.report.problems.append(problem)
                self.report.counts[table]["rejected"] += len(bad_rows)
                for row in rows:
                    if row["__where__"] not in bad_rows:
                        self._take_row(table, row)
                    done.update()
        self.progress(f"  read {total} objects and rows")

    def _take_object(self, kind: str | None, obj: Any, where: str) -> None:
        if not isinstance(obj, dict):
            self.report.problems.append(Problem("", "", "", "not a JSON object", where))
            self.report.counts["(unknown)"]["rejected"] += 1
            return
        kind = kind or detect(obj)
        if kind is None:
            self.report.problems.append(
                Problem(
                    "",
                    str(obj.get("id", "")),
                    "",
                    "cannot tell which HSDS object this is; pass --type",
                    where,
                )
            )
            self.report.counts["(unknown)"]["rejected"] += 1
            return
        problems = self._schema_problems(KINDS[kind], obj, where)
        found: list[Record] = []
        if not problems:
            self._walk(KINDS[kind], obj, where, None, found, problems)
        if problems:
            self.report.problems.extend(problems)
            self.report.counts[kind]["rejected"] += 1
            return
        for rec in found:
            self._merge(rec)

    def _schema_problems(self, kind: Kind, obj: dict, where: str) -> list[Problem]:
        if is_valid(obj, f"{kind.name}.json"):
            return []
        problems = []
        for error in _validator(kind.name).iter_errors(obj):
            owner, ident, rest = _locate(kind, obj, list(error.absolute_path))
            message = error.message if len(error.message) < 200 else error.message[:197] + "..."
            problems.append(Problem(owner, ident, "/".join(rest), message, where))
        return problems

    def _walk(
        self,
        kind: Kind,
        obj: dict,
        where: str,
        link: tuple[str, uuid.UUID] | None,
        found: list[Record],
        problems: list[Problem],
    ) -> uuid.UUID:
        rec = Record(kind, uuid.UUID(obj["id"]), where)
        if link:
            rec.links[link[0]] = (link[1], True)
        covered = set(_schema(kind.name)["properties"])
        for key, value in obj.items():
            if key == "id":
                continue
            if key in kind.children or key in kind.nested:
                child_kind = KINDS[
                    kind.children[key][0]
                    if key in kind.children
                    else kind.ref(kind.nested[key]).kind
                ]
                items = value if key in kind.children else [value]
                if not isinstance(items, list):
                    continue
                for n, child in enumerate(items):
                    at = f"{where}/{key}" + (f"/{n}" if key in kind.children else "")
                    if not isinstance(child, dict):
                        continue
                    if set(child) <= {"id"}:
                        self._reference(rec, key, child)
                        continue
                    if key not in covered:  # an organization's `services`, say
                        extra = self._schema_problems(child_kind, child, at)
                        if extra:
                            problems.extend(extra)
                            continue
                    if key == "taxonomy_details":
                        self.report.warn(
                            kind.name, "taxonomy_details read as taxonomy_detail", rec.id
                        )
                    if key in kind.children:
                        self._walk(
                            child_kind, child, at, (kind.children[key][1], rec.id), found, problems
                        )
                    else:
                        target = self._walk(child_kind, child, at, None, found, problems)
                        rec.links[kind.nested[key]] = (target, True)
            else:
                self._flat(rec, key, value)
        found.append(rec)
        return rec.id

    def _reference(self, rec: Record, key: str, child: dict) -> None:
        """`{"id": ...}` alone: a reference to an object, not the object (our API lists an
        organization's services so)."""
        try:
            target = uuid.UUID(str(child.get("id")))
        except ValueError:
            self.report.warn(rec.kind.name, f"{key}: an id that is not a UUID", rec.id)
            return
        if key in rec.kind.nested:
            rec.links.setdefault(rec.kind.nested[key], (target, False))
        else:
            self.report.warn(
                rec.kind.children[key][0],
                f"listed by id only in a {rec.kind.name}'s {key}: not imported from there",
                target,
            )

    def _flat(self, rec: Record, key: str, value: Any) -> None:
        kind = rec.kind
        if key in kind.fields or key in kind.extensions:
            rec.values[key] = value
        elif key in kind.extra:
            rec.extra[key] = value
        elif ref := next((r for r in kind.refs if r.id_field == key), None):
            if value and ref.slot not in rec.links:
                rec.links[ref.slot] = (uuid.UUID(str(value)), False)
            elif value and rec.links[ref.slot][0] != uuid.UUID(str(value)):
                self.report.warn(
                    kind.name, f"{key} differs from the nested {ref.kind}: nested one used", rec.id
                )
        elif key in kind.not_kept:
            if kind.not_kept[key] is None:
                if value not in (None, ""):
                    self.report.not_kept[kind.name][key] += 1
            else:
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, dict):
                        self._ignore(kind.not_kept[key], item.get("id", id(item)))
        elif key not in kind.derived:
            self.report.warn(kind.name, f"unknown field {key!r} ignored", rec.id)

    def _take_row(self, table: str, row: dict) -> None:
        where = row.pop("__where__")
        kind = KINDS.get(table)
        if kind is None:
            self._ignore(table, row.get("id", where))
            return
        problems = self._schema_problems(kind, row, where)
        if problems:
            self.report.problems.extend(problems)
            self.report.counts[table]["rejected"] += 1
            return
        rec = Record(kind, uuid.UUID(row["id"]), where)
        for key, value in row.items():
            if key != "id":
                self._flat(rec, key, value)
        self._merge(rec)

    def _merge(self, rec: Record) -> None:
        old = self.records.setdefault(rec.key, rec)
        if old is rec:
            return
        for name, value in rec.values.items():
            if name in old.values and old.values[name] != value:
                self._reject(
                    old, name, f"{old.values[name]!r} in {old.where}, {value!r} in {rec.where}"
                )
            old.values.setdefault(name, value)
        for slot, (target, nested) in rec.links.items():
            if slot in old.links and old.links[slot][0] != target:
                self._reject(
                    old,
                    slot,
                    f"under {slot} {old.links[slot][0]} in {old.where} and {target} in "
                    f"{rec.where}; it can belong to one {slot} only",
                )
            elif slot not in old.links or nested:
                old.links[slot] = (target, nested)
        for name, value in rec.extra.items():
            old.extra.setdefault(name, value)


def _locate(kind: Kind, obj: Any, path: list) -> tuple[str, str, list]:
    """The innermost object with an id along a schema error's path, and the rest of the path."""
    owner, ident, rest = kind.name, str(obj.get("id", "")), []
    current_kind, current = kind, obj
    i = 0
    while i < len(path):
        key = path[i]
        rest.append(str(key))
        if not isinstance(current, dict) or key not in current:
            break
        child = current[key]
        name = None
        if current_kind and key in current_kind.children:
            name = current_kind.children[key][0]
        elif current_kind and key in current_kind.nested:
            name = current_kind.ref(current_kind.nested[key]).kind
        if isinstance(child, list) and i + 1 < len(path) and isinstance(path[i + 1], int):
            index = path[i + 1]
            rest.append(str(index))
            child = child[index] if index < len(child) else None
            i += 1
        if name and isinstance(child, dict) and "id" in child:
            owner, ident, rest = name, str(child["id"]), []
        current_kind = KINDS.get(name) if name else None
        current = child
        i += 1
    return owner, ident, rest
