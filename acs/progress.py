"""Progress of long management commands (hsds_export, hsds_import): a tqdm bar with rate and
time left when the command's stderr is a terminal, nothing otherwise, so logs, pipes and the
tests stay free of carriage returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from django.core.management.base import OutputWrapper


class Bar(Protocol):
    def update(self, n: float | None = 1) -> bool | None: ...


BarFactory = Callable[[int, str], AbstractContextManager[Bar]]


class _Silent:
    def update(self, n: float | None = 1) -> None:
        return None


@contextmanager
def no_bar(total: int, label: str) -> Iterator[Bar]:
    yield _Silent()


class _Unended:
    """A Django OutputWrapper adds a line ending to every write; a bar redraws one line."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        # Not in the wrapper's style (stderr's is red, as for errors).
        self.wrapper.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self.wrapper.flush()

    def isatty(self) -> bool:
        return self.wrapper.isatty()


def terminal_bars(stderr: OutputWrapper) -> BarFactory:
    """Bars drawn on a command's self.stderr when it is a terminal (tqdm's disable=None)."""
    from tqdm import tqdm

    stream = _Unended(stderr)

    def bar(total: int, label: str) -> AbstractContextManager[Bar]:
        # tqdm ships no types: its bar is Any, and is a Bar.
        drawn: AbstractContextManager[Bar] = tqdm(
            total=total, desc=f"  {label}", unit="", file=stream, disable=None, mininterval=0.5
        )
        return drawn

    return bar
