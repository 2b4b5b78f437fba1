"""ES modules after the production storage (acs.static_storage) has hashed them: a folder of
static/ post-processed as `collectstatic` does (on a copy of that folder only, to stay fast), and
the modules a browser fetches from an entry on. Used by the field app's and the board's tests."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.storage import FileSystemStorage

from acs.static_modules import STATIC, STATIC_IMPORT
from acs.static_storage import StaticFilesStorage

DYNAMIC = re.compile(r"""\bimport\(\s*["']([^"']+)["']\s*\)""")
PRODUCTION_STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "acs.static_storage.StaticFilesStorage"},
}


def collect(root: Path, *folders: str) -> dict[str, str]:
    """static/<folder>/ (static/field/ by default) copied under root, for each folder, and
    post-processed as collectstatic does: the manifest."""
    names = []
    for folder in folders or ("field",):
        shutil.copytree(STATIC / folder, root / folder)
        names += [p.relative_to(root).as_posix() for p in (root / folder).rglob("*") if p.is_file()]
    source = FileSystemStorage(location=root)
    storage = StaticFilesStorage(location=root, base_url="/static/")
    for _name, _hashed, processed in storage.post_process(
        {name: (source, name) for name in names}, dry_run=False
    ):
        if isinstance(processed, Exception):
            raise processed
    return json.loads((root / "staticfiles.json").read_text())["paths"]


def requested(root: Path, entry: str, *, dynamic: bool = True) -> set[str]:
    """What the browser fetches, from the hashed entry on: each relative import, resolved
    (with `dynamic`, the modules loaded by `import()` too: what some page runs)."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        source = (root / name).read_text()
        targets = STATIC_IMPORT.findall(source) + (DYNAMIC.findall(source) if dynamic else [])
        for target in targets:
            assert target.startswith("./"), f"{name} imports {target}: relative imports only"
            todo.append(str(PurePosixPath(name).parent / target).replace("/./", "/"))
    return seen
