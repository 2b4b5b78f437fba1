"""JSON log lines (LOG_FORMAT=json): one object per line, for a log shipper or a SIEM.

python-json-logger's formatter, narrowed to a fixed set of fields: the time, level, logger,
message, request id, and the exception text when there is one. Its default also writes any
`extra=` attribute a caller (or a library) put on the record; those never went through the
privacy filter (acs/log_privacy.py redacts the message and the exception), so they are dropped
here rather than trusted.
"""

from __future__ import annotations

from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

FIELDS = ("levelname", "name", "message", "request_id")
RENAMES = {"levelname": "level", "name": "logger"}
KEPT = {RENAMES.get(f, f) for f in FIELDS} | {"time", "exc_info", "stack_info"}


class JsonFormatter(_JsonFormatter):
    def __init__(self, **kwargs: Any) -> None:
        # "time": the record's time in UTC, ISO 8601.
        super().__init__(list(FIELDS), rename_fields=RENAMES, timestamp="time", **kwargs)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in log_data.items() if key in KEPT}
