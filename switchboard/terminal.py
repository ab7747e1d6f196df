"""The two consoles the CLI prints through, and what they do when they are not a terminal.

Like gh and kubectl, output meant for a person is styled for a terminal, and output going into a pipe or a file
is plain: no colour, and no line wrapped at the terminal's width. Rich takes its width from ``COLUMNS`` even in a
pipe, so ``switchboard runs | grep nightly_sales_export`` found nothing at 80 columns: a name wrapped mid-word.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleDimensions

# Wide enough that no line is ever wrapped; only unbounded output (a panel that expands) would reach it, and the
# CLI prints none in a pipe.
PIPE_WIDTH = 1_000_000


class CliConsole(Console):
    """A Rich console that does not wrap when its file is not a terminal.

    ``is_terminal`` is asked each time, not at construction: the file is whatever ``sys.stdout`` (or
    ``sys.stderr``) is when printing, which tests and typer's CliRunner swap.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Rich reads ``COLUMNS`` and ``LINES`` once, here, and keeps them; a terminal that is resized later (or a
        # test that sets them after this module was imported) would be printed at the old width. Read at each use.
        if kwargs.get("width") is None:
            self._width = None
        if kwargs.get("height") is None:
            self._height = None

    @property
    def size(self) -> ConsoleDimensions:
        """The terminal's size; unbounded width when printing to a pipe or a file."""
        if self.is_terminal:
            return super().size
        return ConsoleDimensions(PIPE_WIDTH, 25)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


# No emoji codes: ":warning:" in a customer's name prints as typed. Markup stays on for our own styling, so
# every value from data or a user is printed as Text or escaped (switchboard.render.plain / safe).
console = CliConsole(emoji=False)
err_console = CliConsole(stderr=True, emoji=False)
