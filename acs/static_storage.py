"""The production storage of static files: WhiteNoise's compressed manifest storage (hashed names,
gzip and brotli copies), with the import statements of JavaScript modules rewritten to the hashed
names too (the field app is ES modules: static/field/field.js imports ./app/*.js). Without that
the browser would ask for the unhashed names, which the service worker does not precache, and an
offline tablet could not start the app.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
