"""The import's report: counts per kind, the rejected objects, what HSDS has and we do not
keep, warnings, and the outcome line."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .kinds import KINDS, NOT_MODELLED


@dataclass(frozen=True)
class Problem:
    kind: str
    id: str  # the HSDS id, or "" when the object has none that can be read
    field: str
    message: str
    where: str
    knock_on: bool = False  # rejected because something it needs was

    def __str__(self) -> str:
        what = f"{self.kind} {self.id}".strip()
        return f"{what} [{self.where}]: {self.field + ': ' if self.field else ''}{self.message}"


@dataclass
class Report:
    source: str = ""
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    problems: list[Problem] = field(default_factory=list)
    warnings: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    not_kept: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    notes: list[str] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    partial: bool = False

    def total(self, what: str) -> int:
        return sum(c[what] for c in self.counts.values())

    @property
    def rejected(self) -> int:
        return self.total("rejected")

    def warn(self, kind: str, message: str, ident: object = "") -> None:
        idents = self.warnings.setdefault((kind, message), [])
        if str(ident) not in idents[-3:]:
            idents.append(str(ident))

    def lines(self, limit: int = 100) -> list[str]:
        done = ("created", "updated") if self.written else ("new", "changed")
        columns = (*done, "unchanged", "rejected", "ignored")
        out = [f"HSDS import of {self.source}"]
        out += [f"  {note}" for note in self.notes]
        kinds = [*KINDS, *NOT_MODELLED, *sorted(set(self.counts) - set(KINDS) - set(NOT_MODELLED))]
        rows = [k for k in kinds if k in self.counts and any(self.counts[k].values())]
        if rows:
            out.append(f"  {'':<24}" + "".join(f"{h:>10}" for h in columns))
            for kind in rows:
                out.append(
                    f"  {kind:<24}" + "".join(f"{self.counts[kind][c]:>10}" for c in columns)
                )
        if self.problems:
            direct = [p for p in self.problems if not p.knock_on]
            out.append(f"Rejected ({self.rejected}):")
            out += [f"  {p}" for p in direct[:limit]]
            if len(direct) > limit:
                out.append(f"  ... and {len(direct) - limit} more")
            knock_on = len(self.problems) - len(direct)
            if knock_on:
                out.append(f"  and {knock_on} that need a rejected object")
        if self.not_kept:
            out.append("Not kept (HSDS fields we do not model):")
            for kind, fields in self.not_kept.items():
                out.append(f"  {kind}: " + ", ".join(f"{f} ({n})" for f, n in fields.items()))
        if self.warnings:
            out.append("Warnings:")
            for n, ((kind, message), idents) in enumerate(self.warnings.items()):
                if n == limit:
                    out.append(f"  ... and {len(self.warnings) - limit} more")
                    break
                shown = ", ".join(i for i in idents[:3] if i)
                more = f" and {len(idents) - 3} more" if len(idents) > 3 else ""
                out.append(f"  {kind}: {message}" + (f" ({shown}{more})" if shown else ""))
        out.append(self.outcome())
        return out

    def outcome(self) -> str:
        done = (
            f"{self.total('created')} created, {self.total('updated')} updated, "
            f"{self.total('unchanged')} unchanged"
        )
        if self.written:
            rejected = (
                f"; {self.rejected} rejected and skipped (--partial)" if self.rejected else ""
            )
            return f"Imported: {done}{rejected}."
        if self.rejected and not self.partial:
            return (
                f"Nothing written: {self.rejected} object(s) rejected. Fix them, or pass "
                "--partial to import the others."
            )
        would = (
            f"{self.total('new')} new, {self.total('changed')} changed, "
            f"{self.total('unchanged')} unchanged"
        )
        return f"Dry run, nothing written: {would}."
