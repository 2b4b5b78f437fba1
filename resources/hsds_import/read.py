"""Reading the input: a JSON file (an object, an array, an API page, collections, the tabular
JSON) or a CSV datapackage, into top-level objects and tabular rows."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acs.csv_cells import csv_cell_unescape
from resources.hsds_export import descriptor as default_descriptor

from .kinds import COLLECTIONS, KINDS, TOP_KINDS, _schema, detect
from .report import Problem, Report


class HsdsInputError(Exception):
    """The input as a whole cannot be read: missing, not JSON, not UTF-8, an unknown shape."""


@dataclass
class Source:
    label: str
    objects: list[tuple[str | None, Any, str]] = field(default_factory=list)  # kind, obj, where
    tables: list[tuple[str, list[dict], list[Problem]]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # what was read, resolved


def _load_json(path: Path) -> Any:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HsdsInputError(
            f"{path} is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "HSDS JSON is UTF-8."
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise HsdsInputError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc


def _is_datapackage(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("resources"), list)
        and "data-package" in str(data.get("profile", "data-package"))
        and "id" not in data
    )


def read(path: Path, kind: str | None = None) -> tuple[Source, Report]:
    """Read PATH into top-level objects or tabular rows; HsdsInputError when it cannot."""
    report = Report(source=str(path))
    if not path.exists():
        raise HsdsInputError(f"{path} does not exist.")
    if path.is_dir():
        return _read_package(path, path / "datapackage.json", report, kind), report
    if path.suffix.lower() == ".csv":
        raise HsdsInputError(
            f"{path} is one CSV file: give the folder of the datapackage, or its datapackage.json."
        )
    data = _load_json(path)
    if _is_datapackage(data):
        return _read_package(path.parent, path, report, kind), report
    source = _json_source(data, kind, report)
    source.files = [path.resolve()]
    return source, report


def _json_source(data: Any, forced: str | None, report: Report) -> Source:
    if isinstance(data, list):
        source = Source("JSON array")
        items = [(forced, item, f"item {n}") for n, item in enumerate(data, start=1)]
    elif not isinstance(data, dict):
        raise HsdsInputError(
            f"The top level is a {type(data).__name__}: expected an HSDS object, an array of "
            "them, an API page or the tabular form."
        )
    elif isinstance(data.get("contents"), list):
        source = Source("HSDS API page")
        contents = data["contents"]
        items = [(forced, item, f"contents[{n}]") for n, item in enumerate(contents)]
        total = data.get("total_items")
        if isinstance(total, int) and total > len(contents):
            report.notes.append(
                f"Page {data.get('page_number', '?')} of {data.get('total_pages', '?')}: only its "
                f"{len(contents)} of {total} objects are imported."
            )
    elif data and all(isinstance(k, str) and k.endswith(".csv") for k in data):
        if forced:
            raise HsdsInputError("--type does not apply to the tabular form.")
        source = Source("HSDS tabular JSON")
        _tabular_json(data, source, report)
        return source
    elif "id" in data:
        kind = forced or detect(data)
        if kind is None:
            raise HsdsInputError(
                f"Cannot tell which HSDS object this is (keys: {', '.join(sorted(data))}); "
                f"pass --type ({', '.join(TOP_KINDS)})."
            )
        source = Source(f"one {kind}")
        items = [(kind, data, "the object")]
    elif data and all(k in COLLECTIONS and isinstance(v, list) for k, v in data.items()):
        source = Source("JSON collections (" + ", ".join(data) + ")")
        items = [
            (forced or COLLECTIONS[key], item, f"{key}[{n}]")
            for key, values in data.items()
            for n, item in enumerate(values)
        ]
    elif "version" in data and ({"openapi_url", "profile"} & set(data)):
        report.notes.append(
            f"This is the HSDS API root (version {data['version']}): it holds no directory "
            "objects, nothing to import."
        )
        return Source("HSDS API root")
    else:
        raise HsdsInputError(
            "Unknown shape: expected an HSDS object with an `id`, an array of them, an API page "
            '(`contents`), `{"services": [...]}` or the tabular form (`{"services.csv": '
            f"[...]}}`); found the keys {', '.join(sorted(map(str, data))) or '(none)'}."
        )
    if forced is None and len(items) > 1:
        # A page or array holds one kind: objects whose keys do not tell take their siblings'.
        kinds = [k or (detect(o) if isinstance(o, dict) else None) for k, o, _w in items]
        if len(set(kinds) - {None}) == 1 and None in kinds:
            sibling = next(k for k in kinds if k)
            items = [(k or sibling, o, w) for k, (_k, o, w) in zip(kinds, items, strict=True)]
            report.notes.append(f"Objects whose keys do not tell are read as {sibling}s too.")
    source.objects = items
    return source


# Table Schema's default true and false values.
_TRUE, _FALSE = {"true", "True", "TRUE", "1"}, {"false", "False", "FALSE", "0"}
_INTEGER = re.compile(r"[+-]?\d+")


def _cell(text: str, type_: str) -> Any:
    """A CSV cell as the JSON value HSDS's schemas expect; ValueError when it is not one."""
    if type_ in ("number", "integer"):
        if _INTEGER.fullmatch(text.strip()):
            return int(text)
        number = float(text)  # ValueError for text; nan and inf are refused by the caller
        if type_ == "integer" or number != number or number in (float("inf"), float("-inf")):
            raise ValueError(text)
        return number
    if type_ == "boolean":
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError(text)
    # Our export escapes text that a spreadsheet would run as a formula (acs/csv_cells.py).
    return csv_cell_unescape(text)


def _types(package: dict) -> dict[str, dict[str, str]]:
    return {
        r["name"]: {f["name"]: f.get("type", "string") for f in r["schema"]["fields"]}
        for r in package["resources"]
        if isinstance(r, dict) and "name" in r and isinstance(r.get("schema"), dict)
    }


def _read_package(folder: Path, descriptor: Path, report: Report, forced: str | None) -> Source:
    if forced:
        raise HsdsInputError("--type does not apply to the CSV datapackage.")
    known = default_descriptor()
    types = _types(known)
    if descriptor.exists():
        source_files = [descriptor.resolve()]
        package = _load_json(descriptor)
        if not _is_datapackage(package):
            raise HsdsInputError(f"{descriptor} is not a datapackage descriptor (no resources).")
        for name, declared in _types(package).items():
            types.setdefault(name, {}).update(declared)
        source = Source("HSDS CSV datapackage")
    else:
        source_files = []
        if not any(folder.glob("*.csv")):
            raise HsdsInputError(f"{folder} holds neither a datapackage.json nor CSV files.")
        package = known
        source = Source("HSDS CSV datapackage")
        report.notes.append(
            "No datapackage.json: the CSVs are read as HSDS 3.0's (with our extension columns)."
        )
    listed = set()
    base = folder.resolve()
    for resource in package["resources"]:
        name, rel = resource.get("name"), resource.get("path")
        if not isinstance(rel, str) or name not in types:
            continue
        path = (folder / rel).resolve()
        if base not in path.parents:
            raise HsdsInputError(f"datapackage.json names {rel}, which is outside {folder}.")
        listed.add(path.name)
        if not path.exists():
            if descriptor.exists():
                report.warn(name, f"{rel} is in datapackage.json but not in the folder")
            continue
        rows, problems = _read_csv(path, name, types[name], report)
        source.tables.append((name, rows, problems))
        source_files.append(path)
    for extra in sorted(p.name for p in folder.glob("*.csv") if p.name not in listed):
        report.warn("datapackage", f"{extra} is not an HSDS table: skipped")
    source.files = source_files
    return source


def _read_csv(
    path: Path, table: str, types: dict[str, str], report: Report
) -> tuple[list[dict], list[Problem]]:
    rows: list[dict] = []
    problems: list[Problem] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            required = _required_strings(table, types)
            for column in header:
                if column not in types and column not in _known_fields(table):
                    report.warn(table, f"{path.name}: column {column!r} is not an HSDS field")
            for cells in reader:
                if not any(cells):
                    continue
                where = f"{path.name} line {reader.line_num}"
                row: dict[str, Any] = {"__where__": where}
                if len(cells) > len(header):
                    problems.append(
                        Problem(
                            table,
                            cells[0] if cells else "",
                            "",
                            f"{len(cells)} cells, the header has {len(header)}",
                            where,
                        )
                    )
                    continue
                for column, text in zip(header, cells, strict=False):
                    if column not in types and column not in _known_fields(table):
                        continue
                    if text == "":
                        if column in required:  # empty text, which HSDS requires be there
                            row[column] = ""
                        continue
                    try:
                        row[column] = _cell(text, types.get(column, "string"))
                    except ValueError:
                        problems.append(
                            Problem(
                                table,
                                row.get("id", cells[0]),
                                column,
                                f"{text!r} is not a {types.get(column)}",
                                where,
                            )
                        )
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise HsdsInputError(
            f"{path} is not UTF-8 (offset {exc.start}); HSDS CSV is UTF-8."
        ) from exc
    except csv.Error as exc:
        raise HsdsInputError(f"{path} is not readable CSV: {exc}.") from exc
    return rows, problems


def _required_strings(table: str, types: dict[str, str]) -> set[str]:
    """Text columns HSDS requires: an empty cell there is "", not a missing value."""
    required = _schema(table).get("required", ()) if table in KINDS else ()
    return {name for name in required if types.get(name, "string") == "string"}


def _known_fields(table: str) -> set[str]:
    kind = KINDS.get(table)
    return set(kind.fields + kind.extensions) if kind else set()


def _tabular_json(data: dict, source: Source, report: Report) -> None:
    package = default_descriptor()
    types = _types(package)
    by_path = {r["path"]: r["name"] for r in package["resources"]}
    for path, values in data.items():
        table = by_path.get(path)
        if table is None or not isinstance(values, list):
            report.warn("tabular", f"{path} is not an HSDS table: skipped")
            continue
        rows: list[dict] = []
        problems: list[Problem] = []
        required = _required_strings(table, types[table])
        for n, value in enumerate(values):
            where = f"{path}[{n}]"
            if not isinstance(value, dict):
                problems.append(Problem(table, "", "", "not an object", where))
                continue
            row: dict[str, Any] = {"__where__": where}
            for column, cell in value.items():
                type_ = types[table].get(column, "string")
                if cell is None or cell == "":
                    if cell == "" and column in required:
                        row[column] = ""
                    continue
                if isinstance(cell, int | float) and not isinstance(cell, bool):
                    if type_ == "string":
                        # A cell is text in the table schema; HSDS's own tabular.json has two.
                        report.warn(
                            table, f"{column}: a number where text is expected, read as text"
                        )
                        cell = str(cell)
                elif isinstance(cell, str) and type_ != "string":
                    try:
                        cell = _cell(cell, type_)
                    except ValueError:
                        problems.append(
                            Problem(
                                table, str(value.get("id", "")), column, f"not a {type_}", where
                            )
                        )
                        continue
                row[column] = cell
            rows.append(row)
        source.tables.append((table, rows, problems))
