"""docs/security.md sets each promise beside the test that proves it: every test it names must
exist, or a promise loses its evidence without anyone noticing."""

import re
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)
# `tests/x/test_y.py`, `tests/x/test_y.py::TestC::test_d`, and the shorthand that follows one
# of those: `::test_e`, or a bare `test_f`, both in the file named last before them.
# Backticks optional, but for a bare name.
REFERENCE = re.compile(r"(tests/[\w/]+\.py(?:::\w+)*|(?<![\w/.])::\w+(?:::\w+)*|`test_\w+`)")


def references(text: str) -> list[tuple[str, list[str]]]:
    found, current = [], None
    for token in REFERENCE.findall(text):
        token = token.strip("`")
        if token.startswith("tests/"):
            current, *names = token.split("::")
        else:
            names = [n for n in token.split("::") if n]
            assert current is not None, f"`{token}` follows no file"
        found.append((current, names))
    return found


def missing(text: str) -> list[str]:
    gone = []
    for path, names in references(text):
        source = BASE / path
        if not source.is_file():
            gone.append(path)
            continue
        code = source.read_text()
        gone += [
            f"{path}::{name}"
            for name in names
            if not re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{name}\b", code, re.MULTILINE)
        ]
    return gone


def test_every_test_the_security_document_names_exists():
    text = (BASE / "docs" / "security.md").read_text()

    assert sum(len(names) for _, names in references(text)) > 80  # the document was read
    assert missing(text) == []


def test_a_renamed_test_or_a_moved_file_is_caught():
    text = (
        "| promise | `tests/acs/test_security_doc.py::test_a_renamed_test_or_a_moved_file_is_"
        "caught`, `::test_that_was_renamed`, `test_every_test_the_security_document_names_exists`"
        " |\n"
        "| other | `tests/acs/test_gone.py` |"
    )

    assert missing(text) == [
        "tests/acs/test_security_doc.py::test_that_was_renamed",
        "tests/acs/test_gone.py",
    ]
