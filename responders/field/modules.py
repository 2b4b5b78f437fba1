"""The field app's ES modules (static/field/), as the pages preload them.

`field.js`, the entry every field page loads, imports the modules each page needs; the
encounter form's modules (the form, its people, the referral picker, the bound forms: about
half of the app) are loaded by a dynamic `import()` on that page only, so a first visit to any
other page on a slow line does not wait for them. Each page preloads what it will run
(`<link rel="modulepreload">`: fetched at once rather than one level of imports at a time); the
service worker precaches them all (`SHELL_STATIC` in views), so the encounter form opens
offline too. The lists are read from the import statements (acs.static_modules), never
written by hand.
"""

from __future__ import annotations

from acs.static_modules import static_closure

ENTRY = "field/field.js"
ENCOUNTER_ENTRY = "field/app/encounter.js"


def preloaded(*, encounter_form: bool = False) -> tuple[str, ...]:
    """The modules a page preloads: the entry's, and on the encounter form its own too."""
    shell = static_closure(ENTRY)[1:]
    if not encounter_form:
        return shell
    return shell + tuple(m for m in static_closure(ENCOUNTER_ENTRY) if m not in shell)


SHELL_MODULES = preloaded()
ENCOUNTER_MODULES = preloaded(encounter_form=True)
