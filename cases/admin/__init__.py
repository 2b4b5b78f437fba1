"""The cases admin, one module per topic. Django's admin autodiscovery imports this package;
importing the modules below registers their admins (in the order of the former single module).
The shared admin plumbing is acs/admin_base.py."""

from django.contrib import admin

from cases.admin import dashboard

# isort: off
from cases.admin import calls  # noqa: F401
from cases.admin import residents  # noqa: F401
from cases.admin import encounters  # noqa: F401
from cases.admin import followups  # noqa: F401
from cases.admin import notifications  # noqa: F401
from cases.admin import eligibility  # noqa: F401

# isort: on

dashboard.install(admin.site)

# --- Transparency dashboard, staff version ---------------------------------------------------
# Registered in its own module (cases/transparency/admin.py); imported here so that the admin's
# autodiscovery, which imports only this package (cases.admin), finds it.
from cases.transparency import admin as transparency_admin  # noqa: E402, F401

# isort: split
# --- Exports (cases/exports/admin.py), registered here for the admin's autodiscovery -----------
from cases.exports import admin as _exports_admin  # noqa: E402, F401

# isort: split
# --- Forms: definitions, versions, responses (cases/screening/admin.py), for autodiscovery ------
from cases.screening import admin as _screening_admin  # noqa: E402, F401
