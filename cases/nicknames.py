"""Given names and their nicknames, for resident search: "Bill" finds William and "Lupe" finds
Guadalupe. The lists are checked in under cases/data/nicknames/ (README there: sources and
licence); they are read once per process."""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "nicknames"
FILES = ("names.csv", "spanish.csv")


@cache
def _relations() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(nicknames of each name, names each nickname stands for)."""
    nicks: dict[str, set[str]] = defaultdict(set)
    stands_for: dict[str, set[str]] = defaultdict(set)
    for file in FILES:
        with open(DATA / file, encoding="utf-8", newline="") as rows:
            for name, relationship, nick in csv.reader(rows):
                if relationship == "has_nickname":
                    nicks[name].add(nick)
                    stands_for[nick].add(name)
    return dict(nicks), dict(stands_for)


@cache
def name_variants(word: str) -> frozenset[str]:
    """The names `word` may be another form of (normalized, lower case): its nicknames, the
    names it is a nickname of, and their other nicknames ("bill": william, robert, will,
    billy, bob...). Not `word` itself. Never from one full name to another through a shared
    nickname (William is not Robert)."""
    nicks, stands_for = _relations()
    variants = set(nicks.get(word, ()))
    for name in stands_for.get(word, ()):
        variants.add(name)
        variants |= nicks.get(name, set())
    variants.discard(word)
    return frozenset(variants)
