"""Long commands draw a progress bar on a terminal and write nothing of it anywhere else
(acs/progress.py): logs and pipes stay free of carriage returns."""

import io

from django.core.management.base import OutputWrapper
from django.core.management.color import color_style

from acs.progress import no_bar, terminal_bars


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def draw(stream) -> str:
    stderr = OutputWrapper(stream)
    stderr.style_func = color_style(force_color=True).ERROR  # as BaseCommand sets it
    with terminal_bars(stderr)(3, "services") as bar:
        for _ in range(3):
            bar.update()
    return stream.getvalue()


def test_a_terminal_gets_a_bar_with_the_count():
    drawn = draw(Terminal())

    assert "services" in drawn and "3/3" in drawn and "\r" in drawn
    assert "\x1b[31" not in drawn  # not in stderr's error style


def test_a_pipe_or_a_file_gets_nothing():
    assert draw(io.StringIO()) == ""


def test_no_bar_counts_nothing_and_says_nothing():
    with no_bar(10, "rows") as bar:
        assert bar.update() is None
