"""Measure how often resident search finds the person: recall@5 per kind of name variant.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_recall_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_recall_bench \\
        .venv/bin/python manage.py bench_resident_recall --residents 20000 --queries 1200

Generates residents with varied names (about 1,200 given names, 100 surnames, some with
accents, some with two-part or hyphenated surnames, some with street names), then searches
for some of them the way a responder types a name they heard, through `resident_candidates`
(the selector behind the field app, the field API, the admin and the duplicate check), and
counts how often the person is among the first five. Half the searches give the exact date of
birth. Variant kinds, as many of each:

- typo: a typo in every word (two letters swapped, one dropped, doubled, or a neighbouring key;
  the first letter kept, as people hear it);
- swapped: last name first;
- nickname: a nickname for the given name, or the given name for a nickname ("Bill Smith" for
  William Smith, cases/data/nicknames/);
- spelling: the given name spelt another way that sounds alike ("Sunnie"/"Sunny",
  "Jon"/"John", "Katherine"/"Catherine", "Gonzalez"/"Gonzales");
- accents: "Jose Garcia" for José García;
- surname: a two-part surname typed with a hyphen, with a space, or only one part.

The residents are marked (where_to_find_me) and replaced on each run; refuses to run on a
database whose name lacks "bench" unless --force.
"""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from cases.management.commands.bench_resident_search import FIRST, LAST, STREET
from cases.models import Resident
from cases.nicknames import _relations
from cases.selectors import resident_candidates
from cases.services.residents import refresh_search_names

MARK = "bench_resident_recall"
KINDS = ("typo", "swapped", "nickname", "spelling", "accents", "surname")
MORE_LAST = (  # noqa: SIM905 - a list of words reads better so
    "abeyta anaya apodaca atencio barela benavidez candelaria cordova crespin dominguez "
    "espinoza fresquez gurule hernandez jimenez leyba madrid mondragon nieto olguin "
    "ortiz quintana ramirez rivera rodriguez ruiz saavedra serna sisneros tapia torres "
    "ulibarri valdez varela zamora castillo mendoza morales gutierrez flores perez gomez "
    "diaz reyes cruz moreno alvarez vasquez castro mares lovato griego anderson thomas "
    "jackson white harris clark lewis walker hall allen young king wright scott green "
    "baker adams nelson hill campbell mitchell roberts carter phillips evans turner "
    "parker collins edwards stewart morris murphy cook rogers morgan peterson cooper "
    "reed bailey bell kelly howard ward cox richardson wood watson brooks bennett gray "
    "james hughes price sanders myers long ross foster nakai tso etsitty yellowhorse "
    "chee manuelito"
).split()
ACCENTED = {
    "jose": "josé",
    "maria": "maría",
    "ramon": "ramón",
    "jesus": "jesús",
    "andres": "andrés",
    "monica": "mónica",
    "ines": "inés",
    "raul": "raúl",
    "garcia": "garcía",
    "lopez": "lópez",
    "martinez": "martínez",
    "chavez": "chávez",
    "sanchez": "sánchez",
    "gonzales": "gonzáles",
    "hernandez": "hernández",
    "jimenez": "jiménez",
    "rodriguez": "rodríguez",
    "ramirez": "ramírez",
    "perez": "pérez",
    "gomez": "gómez",
    "diaz": "díaz",
    "alvarez": "álvarez",
    "vasquez": "vásquez",
    "dominguez": "domínguez",
    "gutierrez": "gutiérrez",
    "aragon": "aragón",
    "duran": "durán",
    "benavidez": "benavídez",
    "mondragon": "mondragón",
    "nunez": "núñez",
    "pena": "peña",
    "ibanez": "ibáñez",
}
# Spellings that sound alike: (pattern, replacement), tried in turn on the given name.
SPELLINGS = (
    (r"y$", "ie"),
    (r"ie$", "y"),
    (r"i$", "y"),
    (r"^jon$", "john"),
    (r"^john", "jon"),
    (r"^c", "k"),
    (r"^k", "c"),
    (r"ph", "f"),
    (r"f", "ph"),
    (r"th", "t"),
    (r"([bcdfglmnprst])\1", r"\1"),
    (r"ck", "k"),
    (r"ey$", "y"),
    (r"z$", "s"),
    (r"s$", "z"),
    (r"ine$", "yn"),
    (r"yn$", "ine"),
    (r"i", "y"),
    (r"v", "b"),
)
KEYBOARD = "qwertyuiop asdfghjkl zxcvbnm"


def neighbour(rng: random.Random, letter: str) -> str:
    rows = KEYBOARD.split()
    for row in rows:
        if letter in row:
            i = row.index(letter)
            options = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            return rng.choice(options)
    return letter


def typo(rng: random.Random, word: str) -> str:
    """One typo, never in the first letter; a word too short to bear one is kept."""
    if len(word) < 4:
        return word
    for _ in range(10):
        i = rng.randrange(1, len(word) - 1)
        kind = rng.choice(("swap", "drop", "double", "key"))
        if kind == "swap":
            new = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        elif kind == "drop":
            new = word[:i] + word[i + 1 :]
        elif kind == "double":
            new = word[:i] + word[i] + word[i:]
        else:
            new = word[:i] + neighbour(rng, word[i]) + word[i + 1 :]
        if new != word:
            return new
    return word


def respell(word: str) -> str | None:
    for pattern, replacement in SPELLINGS:
        new = re.sub(pattern, replacement, word, count=1)
        if new != word:
            return new
    return None


class Command(BaseCommand):
    help = "Recall@5 of resident search per kind of name variant (see docs/benchmarks.md)."

    def add_arguments(self, parser):
        parser.add_argument("--residents", type=int, default=20_000)
        parser.add_argument("--queries", type=int, default=1_200, help="in all, every kind alike")
        parser.add_argument("--seed", type=int, default=17)
        parser.add_argument("--force", action="store_true", help="run on any database")

    def handle(self, *args, residents, queries, seed, force, **options):
        name = connection.settings_dict["NAME"]
        if "bench" not in name and not force:
            raise CommandError(f"Refusing to add rows to {name!r}: use a *bench* database.")
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        people = self.generate(rng, residents)
        per_kind = max(1, queries // len(KINDS))
        found: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # kind -> [found, asked]
        by_dob: dict[bool, list[int]] = defaultdict(lambda: [0, 0])
        start = time.perf_counter()
        for kind in KINDS:
            targets = [p for p in people if kind in p["kinds"]]
            asked = 0
            while asked < per_kind and targets:
                person = rng.choice(targets)
                query = self.variant(rng, kind, person)
                if query is None:
                    continue
                dob = person["resident"].date_of_birth if asked % 2 else None
                matches = resident_candidates(name=query, date_of_birth=dob, limit=5)
                hit = person["resident"].pk in [m.resident.pk for m in matches]
                for tally in (found[kind], by_dob[dob is not None]):
                    tally[0] += hit
                    tally[1] += 1
                asked += 1
        elapsed = time.perf_counter() - start
        total = [sum(f[0] for f in found.values()), sum(f[1] for f in found.values())]
        self.stdout.write(f"{'variant':<12} {'queries':>7} {'recall@5':>9}")
        rows = [(k, found[k]) for k in KINDS] + [
            ("with dob", by_dob[True]),
            ("without dob", by_dob[False]),
            ("overall", total),
        ]
        for label, (hits, asked) in rows:
            self.stdout.write(f"{label:<12} {asked:>7} {hits / max(asked, 1):>9.1%}")
        self.stdout.write(f"{total[1]} searches in {elapsed:.1f} s")

    def variant(self, rng: random.Random, kind: str, person: dict) -> str | None:
        first, last = person["first"], person["last"]
        if kind == "typo":
            return " ".join(typo(rng, w) for w in f"{first} {' '.join(last)}".split())
        if kind == "swapped":
            return f"{' '.join(last)} {first}"
        if kind == "nickname":
            return f"{rng.choice(sorted(person['nicknames']))} {' '.join(last)}"
        if kind == "spelling":
            return f"{person['respelt']} {' '.join(last)}"
        if kind == "accents":
            return f"{first} {' '.join(last)}"  # typed without the accents recorded
        if kind == "surname":
            a, b = last
            return rng.choice((f"{first} {a}-{b}", f"{first} {a} {b}", f"{first} {b}"))
        raise ValueError(kind)

    def generate(self, rng: random.Random, count: int) -> list[dict]:
        """`count` residents with distinct legal names, and what each can be searched as."""
        Resident.objects.filter(where_to_find_me=MARK).delete()
        nicks, stands_for = _relations()
        firsts = sorted({*FIRST, *nicks, *ACCENTED} - set(LAST))
        lasts = sorted({*LAST, *MORE_LAST})
        accent_lasts = [w for w in lasts if w in ACCENTED]
        seen, people, rows = set(), [], []
        while len(people) < count:
            first = rng.choice(firsts)
            kinds = {"typo", "swapped"}
            roll = rng.random()
            if roll < 0.15:
                last = tuple(rng.sample(lasts, 2))  # two-part surname
                kinds.add("surname")
            elif roll < 0.35:
                last = (rng.choice(accent_lasts),)
            else:
                last = (rng.choice(lasts),)
            if (first, last) in seen:
                continue
            seen.add((first, last))
            accented = {w: ACCENTED[w] for w in (first, *last) if w in ACCENTED}
            shown_first = ACCENTED.get(first, first) if accented else first
            if accented:
                kinds.add("accents")
            variants = nicks.get(first, set()) | stands_for.get(first, set())
            if variants:
                kinds.add("nickname")
            respelt = respell(first)
            if respelt:
                kinds.add("spelling")
            joiner = "-" if len(last) == 2 and rng.random() < 0.5 else " "
            surname = joiner.join(ACCENTED.get(w, w) if accented else w for w in last)
            legal = f"{shown_first} {surname}".title()
            dob = date(rng.randint(1940, 2008), rng.randint(1, 12), rng.randint(1, 28))
            resident = Resident(
                preferred_name=shown_first.title() if rng.random() < 0.5 else "",
                legal_name=legal,
                aliases=[rng.choice(STREET).title()] if rng.random() < 0.2 else [],
                date_of_birth=dob,
                dob_quality="full",
                where_to_find_me=MARK,
            )
            refresh_search_names(resident)
            rows.append(resident)
            people.append(
                {
                    "resident": resident,
                    "first": first,
                    "last": last,
                    "kinds": kinds,
                    "nicknames": variants,
                    "respelt": respelt,
                    "accented": accented,
                }
            )
        Resident.objects.bulk_create(rows, batch_size=2000)
        with connection.cursor() as cursor:
            # Flushes the GIN indexes' pending lists too, as autovacuum would in time.
            cursor.execute("VACUUM ANALYZE cases_resident")
        return people
