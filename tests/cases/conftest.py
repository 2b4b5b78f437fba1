"""Fixtures shared by the tests of this folder."""

# The HMIS export's hand-built case and a private export folder, used by test_hmis.py and the
# test_exports*.py modules.
from tests.cases.hmis_world import case, exports_dir  # noqa: F401

# The transparency dashboard's hand-made records, used by every test_transparency*.py module.
from tests.cases.transparency_world import busy_april, records, refreshed  # noqa: F401
