"""A large synthetic Albuquerque-area directory for benchmarks (`manage.py generate_directory`).

Deterministic for a given seed, written with bulk_create in chunks of CHUNK services (memory
stays flat up to hundreds of thousands of services). Services draw their
category from the seeded "ACS needs" taxonomy and their names, descriptions and hours from that
category, so text, term, open-now and capacity filters select realistic shares of the rows:
overnight and 24-hour shelters, split-hours offices, weekday clinics, a monthly Saturday
clinic and seasonal (1 November to 31 March) warming centers.

The package, by concern: `generate` writes the rows (chunks, organizations' sizes, places on the
map); `kinds` is what a service can be (its taxonomy term, names, sentences, hour pattern and
capacity unit, read from `kinds.json`) and the schedule rows of each hour pattern; `text` makes
organizations' and services' names and descriptions from its word lists.
"""

from resources.synthetic.generate import CHUNK, LAT_RANGE, LON_RANGE, generate_directory

__all__ = ["CHUNK", "LAT_RANGE", "LON_RANGE", "generate_directory"]
