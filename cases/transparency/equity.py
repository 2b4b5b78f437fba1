"""The groups of the equity breakdowns (issue 21): HUD race and ethnicity categories, age
bands and preferred language, and the people-based figures broken down by them.

Race and ethnicity are recorded as the person says them (a list: several allowed); they are
read into HUD's FY2024 categories by the same words as the HMIS export
(cases/exports/hmis.py), and a person counts in every category they named. No category
recognised (nothing recorded, refused, does not know) is "Not recorded".
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cases.exports.hmis import RACE_COLUMNS
from cases.models import Language

# HUD column -> our group code.
_CODES = {
    "AmIndAKNative": (
        "american_indian_alaska_native",
        _("American Indian, Alaska Native or Indigenous"),
    ),
    "Asian": ("asian", _("Asian or Asian American")),
    "BlackAfAmerican": ("black", _("Black, African American or African")),
    "HispanicLatinaeo": ("hispanic_latina_e_o", _("Hispanic/Latina/e/o")),
    "MidEastNAfrican": ("middle_eastern_north_african", _("Middle Eastern or North African")),
    "NativeHIPacific": (
        "native_hawaiian_pacific_islander",
        _("Native Hawaiian or Pacific Islander"),
    ),
    "White": ("white", _("White")),
}
# (code, words) for the refresh's SQL: words as the HMIS export reads them.
HUD_RACE_GROUPS = tuple((_CODES[column][0], words) for column, words in RACE_COLUMNS)
NOT_RECORDED_GROUP = "not_recorded"
RACE_GROUPS = (
    *tuple(_CODES[column] for column, _w in RACE_COLUMNS),
    (NOT_RECORDED_GROUP, _("Not recorded")),
)
# (code, label, lowest age, below this age): age in whole years at the month's start.
AGE_BANDS = (
    ("under_18", _("Under 18"), 0, 18),
    ("18_24", "18-24", 18, 25),
    ("25_34", "25-34", 25, 35),
    ("35_44", "35-44", 35, 45),
    ("45_54", "45-54", 45, 55),
    ("55_64", "55-64", 55, 65),
    ("65_plus", _("65 and over"), 65, 200),
)
AGE_GROUPS = (
    *tuple((code, label) for code, label, _lo, _hi in AGE_BANDS),
    ("unknown", _("Age unknown")),
)
LANGUAGE_GROUPS = tuple((lang.value, lang.label) for lang in Language)

AXES = {
    "equity_race": (_("race and ethnicity"), RACE_GROUPS),
    "equity_age": (_("age band"), AGE_GROUPS),
    "equity_language": (_("preferred language"), LANGUAGE_GROUPS),
}
# The figures, in page order: (code, title, what the share is of).
FIGURES = (
    ("served", _("People served"), _("of the named people served")),
    ("referred", _("People referred"), _("of the group's people served")),
    ("connected", _("People connected to a service"), _("of the group's people served")),
    ("follow_up_48h", _("Follow-up within 48 hours"), _("of the group's people due one")),
    ("transported", _("People transported"), _("of the group's people served")),
    ("police", _("Police involvement"), _("of the group's people served")),
)
BASE_FIGURE = "served"  # its count is every other share's denominator in the group


def split(dimension: str) -> tuple[str, str]:
    """ "referred:black" -> ("referred", "black")."""
    figure, _sep, group = dimension.partition(":")
    return figure, group
