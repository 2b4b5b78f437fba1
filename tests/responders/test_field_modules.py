"""The field app's ES modules after the production storage has hashed them.

static/field/field.js imports ./app/*.js, which import each other. In production the storage
(acs.static_storage) gives every file a hashed name; the imports must name the hashed files too,
or the browser asks for names the service worker never precached and an offline tablet cannot
start the app. Here the field files go through that storage's post-processing (what
`collectstatic` runs, on a copy of static/field/ only, to stay fast), and every module the entry
reaches is checked against the service worker's precache list, served with that manifest.
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import override_settings

from responders.field.views import SHELL_STATIC
from tests.static_modules import PRODUCTION_STORAGES
from tests.static_modules import collect as _collect
from tests.static_modules import requested as _requested

pytestmark = pytest.mark.django_db


def test_every_module_is_served_hashed_and_precached_by_the_service_worker(
    client, responder, tmp_path
):
    manifest = _collect(tmp_path)
    entry = manifest["field/field.js"]

    requested = _requested(tmp_path, entry)

    # Every module (and only modules of the app) is reached, under its hashed name.
    modules = {n for n in manifest if n == "field/field.js" or n.startswith("field/app/")}
    assert requested == {manifest[n] for n in modules}
    assert modules == {n for n in SHELL_STATIC if n.endswith(".js")}
    for name in requested:
        assert (tmp_path / name).is_file(), name
    # The service worker, with that manifest, precaches exactly those URLs.
    with override_settings(STORAGES=PRODUCTION_STORAGES, STATIC_ROOT=tmp_path):
        first = client.get("/field/sw.js").content.decode().splitlines()[0]
        client.force_login(responder)
        home = client.get("/field/").content.decode()
        form = client.get("/field/encounters/new").content.decode()
    config = json.loads(first.removeprefix("self.ACS_FIELD = ").rstrip(";"))
    assert {f"/static/{name}" for name in requested} <= set(config["static"])
    # The page names the entry and preloads the rest at the same URLs (one round of requests
    # instead of one per level of imports).
    assert f'<script type="module" src="/static/{entry}">' in home
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/([^"]+)">', home))
    shell = _requested(tmp_path, entry, dynamic=False)
    assert preloaded == shell - {entry}
    # The encounter form's modules come by `import()` on that page only, which preloads them:
    # other pages neither fetch nor preload them.
    encounter = manifest["field/app/encounter.js"]
    assert encounter in requested - shell
    assert {manifest[n] for n in ("field/app/forms.js", "field/app/people.js")} <= requested - shell
    on_form = set(re.findall(r'<link rel="modulepreload" href="/static/([^"]+)">', form))
    assert on_form == requested - {entry}
