"""What a synthetic service can be: its "ACS needs" term, English and Spanish names and
sentences, hour pattern and capacity unit (the table in kinds.json, with each kind's weight: how
many services in a hundred-odd are of that kind), and the schedule rows of each hour pattern."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path


@dataclass(frozen=True)
class Kind:
    term: str
    names: tuple[str, ...]  # English service names of this kind
    names_es: tuple[str, ...]  # Spanish ones
    sentences: tuple[str, ...]  # what the service does, in English
    sentences_es: tuple[str, ...]
    hours: str  # a pattern of hours()
    capacity_unit: str = ""  # blank: no live capacity


def _load_kinds() -> list[tuple[int, Kind]]:
    rows = json.loads((Path(__file__).parent / "kinds.json").read_text(encoding="utf-8"))
    return [
        (
            row["weight"],
            Kind(
                term=row["term"],
                names=tuple(row["names"]),
                names_es=tuple(row["names_es"]),
                sentences=tuple(row["sentences"]),
                sentences_es=tuple(row["sentences_es"]),
                hours=row["hours"],
                capacity_unit=row["capacity_unit"],
            ),
        )
        for row in rows
    ]


KINDS: list[tuple[int, Kind]] = _load_kinds()

WEEKDAYS = "MO,TU,WE,TH,FR"


def hours(kind: str, today: date) -> list[dict]:
    """Schedule rows (without owner) for one of the hour patterns."""
    if kind == "overnight":
        return [{"opens_at": time(19), "closes_at": time(7), "description": "Nightly 7pm-7am"}]
    if kind == "always":
        return [{"opens_at": time(0), "closes_at": time(0), "description": "24 hours"}]
    if kind == "seasonal":
        start = date(today.year if today.month >= 11 else today.year - 1, 11, 1)
        return [
            {
                "opens_at": time(18),
                "closes_at": time(8),
                "valid_from": start,
                "valid_to": date(start.year + 1, 3, 31),
                "description": "Winter nights, 1 November to 31 March",
            }
        ]
    if kind == "weekdays":
        return [
            {"freq": "WEEKLY", "byday": WEEKDAYS, "opens_at": time(8), "closes_at": time(17)},
        ]
    if kind == "split":
        return [
            {"freq": "WEEKLY", "byday": WEEKDAYS, "opens_at": time(9), "closes_at": time(12)},
            {"freq": "WEEKLY", "byday": WEEKDAYS, "opens_at": time(13), "closes_at": time(16)},
        ]
    if kind == "meals":
        return [
            {"opens_at": time(7), "closes_at": time(9), "description": "Breakfast"},
            {"opens_at": time(17), "closes_at": time(19), "description": "Dinner"},
        ]
    if kind == "monthly":
        return [{"freq": "MONTHLY", "byday": "1SA", "opens_at": time(9), "closes_at": time(13)}]
    if kind == "evenings":
        return [
            {"freq": "WEEKLY", "byday": "MO,WE,FR,SA", "opens_at": time(16), "closes_at": time(23)}
        ]
    raise ValueError(kind)
