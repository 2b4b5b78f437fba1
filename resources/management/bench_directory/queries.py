"""The queries the directory benchmark times: the words, misspellings, points, hours, terms and
languages of each kind (drawn with a fixed seed), the field app's resources screen's, and how
many of a misspelt query's results are the services meant (recall)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime

from django.utils import timezone

from resources.models import Service, TaxonomyTerm
from resources.selectors import Point

PAGE = 20
CITY_LAT = (35.05, 35.15)
CITY_LON = (-106.70, -106.55)
WORDS = [
    "shelter", "food pantry", "dental", "detox", "counseling", "legal aid", "showers",
    "rental assistance", "bus pass", "birth certificate", "naloxone", "veterans", "comida",
    "albergue", "clinic", "job training", "laundry", "hot meals", "crisis", "housing",
]  # fmt: skip
# Common misspellings and the words meant (recall).
MEANT = {
    "shleter": "shelter", "fod pantry": "food pantry", "detx": "detox", "clnic": "clinic",
    "counceling": "counseling", "showres": "showers", "legl aid": "legal aid",
    "dentl": "dental", "vetrans": "veterans", "benifits": "benefits",
    "transportaion": "transportation", "laundy": "laundry", "hosuing": "housing",
    "naloxon": "naloxone", "albege": "albergue", "comda": "comida", "crisiss": "crisis",
    "hot mels": "hot meals", "rentl asistance": "rental assistance",
    "birth certficate": "birth certificate",
}  # fmt: skip
TYPOS = list(MEANT)
RECALL_TYPOS = 7  # the recall sample starts with the first seven (main's list before this one)
LANGUAGES = ["es", "es", "es", "nv", "vi", "ar", "zh", "ker"]


@dataclass(frozen=True)
class Query:
    text: str = ""
    term: TaxonomyTerm | None = None
    near: Point | None = None
    radius_km: float | None = None
    at: datetime | None = None
    has_capacity: bool = False
    language: str = ""
    accepts_referrals: bool | None = None

    def search_kwargs(self) -> dict:
        return {
            "text": self.text,
            "taxonomy_terms": [self.term] if self.term else [],
            "near": self.near,
            "radius_km": self.radius_km,
            "open_now": self.at is not None,
            "at": self.at,
            "has_capacity": self.has_capacity,
            "language": self.language,
            "accepts_referrals": self.accepts_referrals,
        }

    def api_params(self) -> dict:
        params: dict = {"per_page": PAGE}
        if self.text:
            params["search"] = self.text
        if self.term:
            params["taxonomy_term_id"] = str(self.term.public_id)
        if self.near:
            params["latitude"], params["longitude"] = self.near.latitude, self.near.longitude
        if self.radius_km:
            params["radius_km"] = self.radius_km
        if self.at:
            params["open_at"] = self.at.isoformat()
        if self.has_capacity:
            params["has_capacity"] = "true"
        if self.language:
            params["language"] = self.language
        return params


def misspell(word: str, rng: random.Random) -> str:
    """One edit a hurried typist makes: a letter dropped, two neighbours swapped, one replaced."""
    i = rng.randrange(1, len(word) - 1)  # keep the first letter, as people mostly do
    kind = rng.choice(["delete", "swap", "replace"])
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    letter = rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != word[i]])
    return word[:i] + letter + word[i + 1 :]


def misspellings(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(misspelt query, the words meant): the first RECALL_TYPOS of TYPOS, then one or two
    words of a random service's name with one of them misspelt."""
    queries = [(typo, MEANT[typo]) for typo in TYPOS[:RECALL_TYPOS]]
    names = list(Service.objects.order_by("id").values_list("name", flat=True))
    for name in rng.sample(names, min(len(names), count * 2)):
        if len(queries) >= count:
            break
        words = [w for w in re.findall(r"[a-z]+", name.lower()) if len(w) >= 4]
        if not words:
            continue
        start = rng.randrange(len(words))
        meant = words[start : start + rng.choice([1, 2])]
        target = rng.randrange(len(meant))
        typo = [misspell(w, rng) if i == target else w for i, w in enumerate(meant)]
        queries.append((" ".join(typo), " ".join(meant)))
    return queries[:count]


def relevant_share(rows: list, meant: str) -> float:
    """The share of `rows` (services at locations) with every word of `meant` in the service's
    name, its organization's name or its taxonomy terms."""
    if not rows:
        return 0.0
    words = meant.split()
    relevant = 0
    for sal in rows:
        terms = " ".join(a.taxonomy_term.name for a in sal.service.attributes.all())
        haystack = f"{sal.service.name} {sal.service.organization.name} {terms}".lower()
        if all(re.search(rf"\b{re.escape(w)}", haystack) for w in words):
            relevant += 1
    return relevant / len(rows)


def query_plan(n: int, rng: random.Random) -> dict[str, tuple[str, list[Query]]]:
    today = timezone.localdate()
    terms = list(TaxonomyTerm.objects.filter(taxonomy__name="ACS needs").order_by("code"))

    def point() -> Point:
        return Point(round(rng.uniform(*CITY_LAT), 6), round(rng.uniform(*CITY_LON), 6))

    def instant(hours: range = range(24)) -> datetime:
        clock = dtime(rng.choice(hours), rng.randrange(60))
        return timezone.make_aware(datetime.combine(today, clock))

    def word(pool: list[str]) -> str:
        return rng.choice(pool)

    def make(build: Callable[[], Query]) -> list[Query]:
        return [build() for _ in range(n)]

    night = range(18, 24)
    return {
        "text": ("text only (correct words)", make(lambda: Query(text=word(WORDS)))),
        "typo": ("a misspelt word", make(lambda: Query(text=word(TYPOS)))),
        "open": ("open now only", make(lambda: Query(at=instant()))),
        "taxonomy": ("one taxonomy term", make(lambda: Query(term=rng.choice(terms)))),
        "near": ("within 5 km, nearest first", make(lambda: Query(near=point(), radius_km=5))),
        "language": ("language", make(lambda: Query(language=word(LANGUAGES)))),
        "capacity": ("places free", make(lambda: Query(has_capacity=True))),
        "street": (
            "street corner (text+open+3 km+free+es)",
            make(
                lambda: Query(
                    text="shelter",
                    at=instant(night),
                    near=point(),
                    radius_km=3,
                    has_capacity=True,
                    language="es",
                )
            ),
        ),
        "text_near": (
            "text + within 5 km",
            make(lambda: Query(text=word(WORDS), near=point(), radius_km=5)),
        ),
        "taxonomy_open": (
            "taxonomy term + open now",
            make(lambda: Query(term=rng.choice(terms), at=instant())),
        ),
        "language_free_near": (
            "language + places free + 5 km",
            make(lambda: Query(language="es", has_capacity=True, near=point(), radius_km=5)),
        ),
    }


def field_queries(n: int, rng: random.Random) -> list[Query]:
    """What responders send from the resources screen: a word or none, often open now, places
    free or Spanish, nearest first from where the tablet is (no radius)."""
    out = []
    for _ in range(n):
        out.append(
            Query(
                text=rng.choice(["", "", *WORDS, *TYPOS[:5]]),
                at=timezone.now() if rng.random() < 0.6 else None,
                has_capacity=rng.random() < 0.3,
                language="es" if rng.random() < 0.3 else "",
                near=Point(round(rng.uniform(*CITY_LAT), 6), round(rng.uniform(*CITY_LON), 6)),
            )
        )
    return out


def field_params(q: Query) -> dict:
    params = {"lat": q.near.latitude, "lon": q.near.longitude}
    if q.text:
        params["q"] = q.text
    if q.at:
        params["open_now"] = "1"
    if q.has_capacity:
        params["has_capacity"] = "1"
    if q.language:
        params["language"] = q.language
    return params
