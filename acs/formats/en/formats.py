# What Django prints for a date or a moment outside the lists (a record's read-only fields):
# the desk's shape ("5 Dec 2026 08:47", acs/local_times.py), not "Dec. 5, 2026, 8:47 a.m.".
# Django format strings cannot drop this year's year, so these keep it.
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
