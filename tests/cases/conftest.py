"""Fixtures shared by the tests of this folder."""

# The transparency dashboard's hand-made records, used by every test_transparency*.py module.
from tests.cases.transparency_world import busy_april, records, refreshed  # noqa: F401
