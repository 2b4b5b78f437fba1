"""The ES modules a page's entry script reaches (static/), read from its import statements, so a
page can name them all with `<link rel="modulepreload">` (fetched at once rather than one level
of imports at a time). Used by the field app (responders/field/modules.py) and the operations
board (cases/board/views.py); the lists are never written by hand."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from django.conf import settings

STATIC = Path(settings.BASE_DIR) / "static"
# `import {a} from "./x.js";` / `export {a} from "./x.js";` (one statement may span lines).
STATIC_IMPORT = re.compile(
    r"""^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']\s*;""", re.M | re.S
)


def _targets(name: str) -> list[str]:
    """The modules `name` imports statically, as paths under static/."""
    source = (STATIC / name).read_text()
    return [
        str(PurePosixPath(name).parent / target).replace("/./", "/")
        for target in STATIC_IMPORT.findall(source)
    ]


def static_closure(entry: str) -> tuple[str, ...]:
    """Every module `entry` reaches through static imports, itself first, then by name."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_targets(name))
    return (entry, *sorted(seen - {entry}))
