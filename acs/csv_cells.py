"""CSV cells that a spreadsheet will not run as formulas (CSV or formula injection).

Excel, LibreOffice Calc and Google Sheets take a cell that begins with `=`, `+`, `-` or `@`
as a formula, and a leading tab or carriage return can hide one; text typed by staff or a
partner ("=HYPERLINK(...)", "@SUM(...)") would then run on the desk of whoever opens the
file. OWASP's rule: such a cell gets a leading apostrophe, so that it is read as text.

A cell that already begins with an apostrophe gets one more, so removing one leading
apostrophe from an escaped cell always gives the value back (`csv_cell_unescape`, which the
HSDS import uses on our own datapackage). Only text is escaped: numbers, booleans, dates and
None are written as they are, so a negative number in a numeric column stays a number.

defusedcsv (maintained, 3.0.0) was considered: it leaves a leading tab or carriage return
alone, rewrites every `|` inside an escaped cell as `\\|`, and decides by the look of the text
rather than by the column's type, so this module keeps OWASP's rule in a few lines instead.
Which files are escaped, and why the HUD HMIS files are not: docs/exports.md.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    _DictWriter = csv.DictWriter[str]
else:
    _DictWriter = csv.DictWriter  # subscriptable at run time from Python 3.12 only

FORMULA_START = frozenset("=+-@\t\r")
ESCAPE = "'"
_ESCAPED = FORMULA_START | {ESCAPE}


def csv_cell(value: Any) -> Any:
    """The value as a CSV cell no spreadsheet runs: text that begins like a formula (or with
    the apostrophe itself) gets a leading apostrophe; anything that is not text is unchanged."""
    if isinstance(value, str) and value[:1] in _ESCAPED:
        return ESCAPE + value
    return value


def csv_cell_unescape(text: str) -> str:
    """The value `csv_cell` escaped, from the cell it wrote."""
    if text[:1] == ESCAPE and text[1:2] in _ESCAPED:
        return text[1:]
    return text


class CsvWriter:
    """`csv.writer` whose every text cell goes through `csv_cell`."""

    def __init__(self, stream: SupportsWrite[str], **fmtparams: Any) -> None:
        self._writer = csv.writer(stream, **fmtparams)

    # Any: what the stream's write returned, as csv.writer says (typeshed).
    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class CsvDictWriter(_DictWriter):
    """`csv.DictWriter` whose every text cell goes through `csv_cell`."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: csv_cell(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for rowdict in rowdicts:
            self.writerow(rowdict)
