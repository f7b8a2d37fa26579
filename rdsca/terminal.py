"""What rdsca does differently on a terminal: tables that fit its width, status colours, a transient progress line;
and what ``--color``, ``--quiet``, ``NO_COLOR`` and ``FORCE_COLOR`` change.

A pipe, a file or a CI log gets exactly the plain text it always got (``rdsca.output.render_table``, one progress
line per step); nothing here is used for JSON, CSV, SARIF or JUnit. ``rich`` draws the terminal's tables and progress
and is imported only when a terminal needs it (``rdsca --help`` and every pipe never load it); without it, the plain
text is printed.

Colour (stdout and stderr each decide for themselves):

- ``--color always`` / ``never`` win (the command line wins over the environment);
- else ``NO_COLOR`` set and non-empty: no colour (https://no-color.org);
- else ``FORCE_COLOR`` set and non-empty: colour and the terminal layout even in a pipe (https://force-color.org, as
  rich reads it);
- else colour when the stream is a terminal.

``--color never`` on a terminal keeps the fitted layout, without colour. Progress is drawn only when stderr itself
is a terminal (never because of ``FORCE_COLOR``: a forced CI log must not fill with redraws).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import click

from rdsca.output import Column, Tone, printable, render_table

COLOR_MODES = ("auto", "always", "never")
#: Where the root group keeps ``--color`` and ``--quiet`` (click's ``meta`` is shared by every nested context).
_META = "rdsca.terminal"
#: The colour of each tone (rich style names).
STYLES: dict[Tone, str] = {"bad": "red", "warn": "yellow", "good": "green"}
#: Set while a report is rendered for ``--output FORMAT=PATH``: a file is never styled.
_PLAIN: contextvars.ContextVar[bool] = contextvars.ContextVar("rdsca_plain", default=False)


@dataclass
class Settings:
    #: ``--color`` as given (None: not given, the environment and the stream decide).
    color: str | None = None
    #: ``--quiet``: no progress, no warnings, no notes; errors (and what a run changed) still print.
    quiet: bool = False


def settings() -> Settings:
    ctx = click.get_current_context(silent=True)
    found = ctx.meta.get(_META) if ctx is not None else None
    return found if isinstance(found, Settings) else Settings()


def configure(ctx: click.Context, **values: Any) -> None:
    """Set ``color`` or ``quiet`` for the whole run (the root group's options, the configuration file)."""
    current = ctx.meta.setdefault(_META, Settings())
    for key, value in values.items():
        setattr(current, key, value)


@contextlib.contextmanager
def plain() -> Iterator[None]:
    """Plain text whatever ``--color`` and ``FORCE_COLOR`` say: for reports written to files (``--output``)."""
    token = _PLAIN.set(True)
    try:
        yield
    finally:
        _PLAIN.reset(token)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def _env(name: str) -> bool:
    """Set and non-empty: how no-color.org and force-color.org define "set"."""
    return os.environ.get(name, "") != ""


@dataclass(frozen=True)
class Look:
    """How a terminal stream is written: fitted to ``width`` columns, with ``colour`` or not."""

    colour: bool
    width: int


def look(err: bool = False) -> Look | None:
    """The terminal look of stdout (``err``: stderr), or None for the plain text of a pipe, a file or a log."""
    if _PLAIN.get():
        return None
    stream = sys.stderr if err else sys.stdout
    tty = _isatty(stream)
    mode = settings().color
    if mode == "always":
        terminal, colour = True, True
    elif mode == "never" or _env("NO_COLOR"):
        terminal, colour = tty, False
    elif _env("FORCE_COLOR"):
        terminal, colour = True, True
    else:
        terminal, colour = tty, tty
    if not terminal:
        return None
    return Look(colour, max(20, _width(stream)))


def _width(stream: Any) -> int:
    """COLUMNS first (as shutil and rich read it), then the size of the stream's own terminal (stderr may be one
    when stdout is a pipe), else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def _rich() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def paint(text: str, tone: Tone, err: bool = False) -> str:
    """``text`` in its tone's colour when the stream (stdout; ``err``: stderr) is a colour terminal, else as is."""
    chosen = look(err)
    if chosen is None or not chosen.colour or not _rich():
        return text
    from rich.color import ColorSystem
    from rich.style import Style

    return Style.parse(STYLES[tone]).render(text, color_system=ColorSystem.STANDARD)


# -- stderr lines --------------------------------------------------------------------------------------------------


def echo_err(line: str) -> None:
    """A line on stderr whose only escape codes are ``paint``'s (the rest went through ``printable``): kept when
    colour is forced into a pipe, where click would strip them."""
    click.echo(line, err=True, color=True)


def warn(text: str) -> None:
    """``warning: TEXT`` on stderr (TEXT escaped: it may come from a file or a server), unless ``--quiet``."""
    if not settings().quiet:
        echo_err(f"{paint('warning', 'warn', err=True)}: {printable(text)}")


def inform(line: str) -> None:
    """A note on stderr that says nothing went wrong (``info: ...``, ``demo: ...``), unless ``--quiet``."""
    if not settings().quiet:
        click.echo(line, err=True)


# -- tables --------------------------------------------------------------------------------------------------------


def echo_table(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
    """A table on stdout: on a terminal, fitted to its width and coloured (``table_text``); elsewhere the plain
    table, byte for byte as ``render_table`` writes it."""
    chosen = look()
    if chosen is None or not _rich():
        click.echo(render_table(columns, rows))
        return
    # color: click.echo strips ANSI codes from a stream that is not a terminal unless told (FORCE_COLOR in a pipe).
    click.echo(table_text(columns, rows, chosen), nl=False, color=chosen.colour)


def _words(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for word in text.split()), default=0)


def fit(columns: Sequence[Column], cells: Sequence[Sequence[str]], width: int) -> tuple[list[int], list[int]]:
    """(the columns kept, the width of each) for a table of ``cells`` (the header row first) in ``width``
    characters, two between columns. Each column is as wide as its longest cell when that fits. Otherwise ``wrap``
    columns (prose, lists) may wrap down to their longest word, and columns are left out from the highest
    ``elide`` down (rightmost first among equals) until the table fits: a row stays on one line where it can. When
    the columns always shown are still too wide, every column but the ``whole`` ones wraps too. A ``whole`` column
    never shrinks: if those alone are wider than the terminal, so is the table (the terminal wraps it; nothing is
    cut)."""
    from rich.cells import cell_len

    natural = [max(cell_len(row[i]) for row in cells) for i in range(len(columns))]
    words = [max(_words(row[i]) for row in cells) for i in range(len(columns))]

    def needed(kept: list[int], least: list[int]) -> int:
        return sum(least[i] for i in kept) + 2 * (len(kept) - 1)

    least = [words[i] if c.wrap and not c.whole else natural[i] for i, c in enumerate(columns)]
    kept = list(range(len(columns)))
    for index in sorted((i for i, c in enumerate(columns) if c.elide), key=lambda i: (-columns[i].elide, -i)):
        if needed(kept, least) <= width:
            break
        kept.remove(index)
    if needed(kept, least) > width:
        least = [natural[i] if c.whole else words[i] for i, c in enumerate(columns)]
    widths = {i: natural[i] for i in kept}
    excess = needed(kept, natural) - width
    while excess > 0:
        shrinkable = [i for i in kept if widths[i] > least[i]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: (widths[i], i))
        widths[widest] -= 1
        excess -= 1
    return kept, [widths[i] for i in kept]


def table_text(columns: Sequence[Column], rows: Sequence[Sequence[Any]], chosen: Look) -> str:
    """The table as a terminal shows it: rich lays it out in the widths ``fit`` chose, wrapping long cells on
    spaces; every cell is ``printable`` first and goes in as a ``rich.text.Text`` (never as markup: a ``[red]`` in
    a name is text). Columns left out are named on a line after it."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cells = [[c.header for c in columns]] + [["" if c is None else printable(str(c)) for c in row] for row in rows]
    kept, widths = fit(columns, cells, chosen.width)
    # No borders, two spaces between columns and a rule under the headers: the plain table's shape (rich's Table
    # reference: box=None, padding, pad_edge).
    table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False, header_style="")
    for index, width in zip(kept, widths, strict=True):
        column = columns[index]
        table.add_column(_styled(column.header, "bold"), width=width, no_wrap=column.whole, overflow="fold")
    table.add_row(*[Text("-" * width) for width in widths])
    for row in cells[1:]:
        table.add_row(*[_cell(columns[i], row[i]) for i in kept])
    total = sum(widths) + 2 * (len(widths) - 1)
    console = Console(
        file=io.StringIO(), width=max(chosen.width, total), force_terminal=True, color_system="standard" if
        chosen.colour else None, no_color=not chosen.colour, highlight=False, markup=False, emoji=False,
        legacy_windows=False,
    )
    console.print(table)
    left_out = [columns[i].header for i in range(len(columns)) if i not in kept]
    if left_out:
        note = f"({', '.join(left_out)} left out to fit {chosen.width} columns; --format json has every field)"
        console.print(_styled(note, "dim"))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    # Each line without the padding rich adds after its last cell (the plain table has none either).
    return "\n".join(line.rstrip(" ") for line in text.split("\n"))


def _cell(column: Column, text: str) -> Any:
    tone = column.tone(text) if column.tone else None
    return _styled(text, STYLES[tone] if tone else "")


def _styled(text: str, style: str) -> Any:
    """``text`` as a ``rich.text.Text`` (never parsed as markup), styled over its characters only: the padding rich
    adds after it stays unstyled, so that a line ends without blanks."""
    from rich.text import Text

    styled = Text(text)
    if style:
        styled.stylize(style)
    return styled


# -- progress ------------------------------------------------------------------------------------------------------


class Progress:
    """What a long job reports as it goes. On a terminal (stderr), one transient rich line that ``update`` redraws
    and that is cleared at the end; elsewhere the plain lines (``line``) it always printed; with ``--quiet``,
    neither. ``note`` prints a line that stays in every case (above the progress line on a terminal): what a run
    did to an account. Safe to call from worker threads."""

    def __init__(self, bar: Any = None, lines: bool = True) -> None:
        self._bar = bar
        self._lines = lines
        self._task = bar.add_task("", total=None) if bar is not None else None
        self._lock = threading.Lock()

    @property
    def live(self) -> bool:
        """Whether ``update`` shows anything (callers skip work that only feeds it)."""
        return self._bar is not None

    def line(self, text: str) -> None:
        if self._lines:
            click.echo(text, err=True)

    def update(self, text: str, done: float | None = None, total: float | None = None) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.update(self._task, description=printable(text), completed=done or 0, total=total)

    def note(self, text: str) -> None:
        if self._bar is not None:
            from rich.text import Text

            self._bar.console.print(Text(printable(text)), soft_wrap=True)
        else:
            click.echo(text, err=True)


@contextlib.contextmanager
def progress() -> Iterator[Progress]:
    """A ``Progress`` for the job inside the ``with``: transient on a terminal, plain lines elsewhere, silent with
    ``--quiet``."""
    if settings().quiet:
        yield Progress(lines=False)
        return
    chosen = look(err=True)
    # A dumb terminal cannot move its cursor back over a line (rich's own test: TERM dumb or unknown).
    dumb = os.environ.get("TERM", "").lower() in ("dumb", "unknown")
    if chosen is None or not _isatty(sys.stderr) or dumb or not _rich():
        yield Progress()
        return
    from rich.console import Console
    from rich.progress import BarColumn, SpinnerColumn, TextColumn
    from rich.progress import Progress as Bar
    from rich.table import Column as RichColumn

    # force_terminal and no_color given: rich would read FORCE_COLOR and NO_COLOR itself (an empty FORCE_COLOR
    # would make it draw nothing), and here stderr is a terminal and --color always wins.
    console = Console(stderr=True, width=chosen.width, force_terminal=True, no_color=not chosen.colour,
                      color_system="standard" if chosen.colour else None, highlight=False, markup=False, emoji=False)
    # transient: the line is cleared when the job ends (rich's progress docs); the description is data (names from
    # a program or an account): never markup.
    bar = Bar(SpinnerColumn(), BarColumn(bar_width=20),
              TextColumn("{task.description}", markup=False,
                         table_column=RichColumn(no_wrap=True, overflow="ellipsis", ratio=1)),
              console=console, transient=True, expand=True)
    with bar:
        yield Progress(bar, lines=False)


def counted(update: Callable[[str, float | None, float | None], None]) -> Callable[[str, str], None]:
    """A callback for a stream of events without a known total (a program's registrations and policy calls): each
    kind counted, the latest named."""
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def event(kind: str, detail: str) -> None:
        with lock:
            counts[kind] = counts.get(kind, 0) + 1
            summary = ", ".join(f"{n} {k}" for k, n in counts.items())
        update(f"{summary}: {detail}", None, None)

    return event
