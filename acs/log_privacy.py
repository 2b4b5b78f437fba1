"""Keep personal data out of logs: a logging filter on every handler.

Code here logs ids, never names or numbers; this filter is the net under that rule, for
messages we did not write (a library's exception text, a 500's request line, a value echoed in
an error). Before a record is formatted it is rendered once, redacted, and frozen:

- phone numbers (North American and international forms) -> [phone]
- e-mail addresses -> [email]
- dates that look like dates of birth (YYYY-MM-DD, MM/DD/YYYY) -> [date]
- query strings of logged URLs -> ?[redacted] (search terms could be names)
- values of keys that hold personal data in logged dicts or reprs (preferred_name,
  legal_name, aliases, phone, email, date_of_birth, narrative, where_to_find_me, body, ...)
  -> [redacted]

Timestamps in ISO form with a time part (2026-11-24T10:00:00) are kept: they say when, not who.
"""

from __future__ import annotations

import logging
import re

SENSITIVE_KEYS = (
    "preferred_name",
    "legal_name",
    "aliases",
    "name",
    "phone",
    "email",
    "date_of_birth",
    "dob",
    "narrative",
    "where_to_find_me",
    "safety_flags",
    "body",
    "text",
    "reason",
    "note",
    "address",
    "To",
    "From",
    "Body",
)
_KEYS = "|".join(re.escape(k) for k in SENSITIVE_KEYS)
PATTERNS = [
    # 'phone': '505...'  "narrative": "..."  phone=...  (dict reprs, JSON, key=value)
    (
        re.compile(
            rf"""(?P<key>['"]?(?:{_KEYS})['"]?\s*[:=]\s*)(?P<q>['"])(?:(?!(?P=q)).)*(?P=q)""",
            re.IGNORECASE,
        ),
        r"\g<key>\g<q>[redacted]\g<q>",
    ),
    (
        # key=value up to the next & or the end of the line: over-redacting is the safe side.
        re.compile(rf"(?P<key>\b(?:{_KEYS})=)[^&\n]+", re.IGNORECASE),
        r"\g<key>[redacted]",
    ),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"\?[^\s\"'?]*=[^\s\"']*"), "?[redacted]"),
    (re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?![T\d:])"), "[date]"),
    (re.compile(r"(?<!\d)\d{1,2}/\d{1,2}/\d{4}(?!\d)"), "[date]"),
    (
        # Not inside a word: a run of ten digits in a UUID's last group is an id, not a
        # number to call (…-7296783563f3).
        re.compile(r"(?<![\w])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)"),
        "[phone]",
    ),
    (re.compile(r"\+\d{8,15}(?!\d)"), "[phone]"),
]


def redact(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactPersonalData(logging.Filter):
    """Render the message, redact it, and drop the arguments (so no formatter sees them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the template only
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
