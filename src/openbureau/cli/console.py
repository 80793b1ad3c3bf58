"""Shared pieces of the command line: the console, error display, progress bars."""

from __future__ import annotations

import functools
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from openbureau.kit.errors import BureauError

console = Console()
err_console = Console(stderr=True)


def reports_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Show a BureauError as one clear line (code, message, field) and exit with status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BureauError as exc:
            where = f" (field: {exc.field})" if exc.field else ""
            err_console.print(f"[bold red]error[/] {exc.code}: {exc.message}{where}", soft_wrap=True, highlight=False)
            raise typer.Exit(1) from exc
        except Exception as exc:
            pydantic = sys.modules.get("pydantic")
            if pydantic is None or not isinstance(exc, pydantic.ValidationError):
                raise
            for line in invalid_input_lines(exc):
                err_console.print(f"[bold red]error[/] {line}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from exc

    return wrapper


def until_interrupted() -> threading.Event:
    """An event set by SIGINT or SIGTERM: a worker loop runs until it is set (``worker.run(stop)``)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def invalid_input_lines(exc: Any) -> list[str]:
    """One line per problem of a Pydantic ``ValidationError`` (an option the schemas refuse): the stable code
    when the rule gave one (``ID_CHECK_DIGIT: ...``), else ``INVALID_INPUT``, and the field."""
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        code, _, text = message.partition(": ")
        if not (code.isupper() and text):
            code, text = "INVALID_INPUT", message
        if code.startswith("ID_") or code == "PASSPORT_FORMAT":
            text = f"the ID number is invalid: {text}"
        lines.append(f"{code}: {text}" + (f" (field: {field})" if field else ""))
    return lines


def print_table(table: Any, out: Console) -> None:
    """Print a Rich table on ``out``; when it does not fit it sheds its vertical rules and folds long cells
    instead of cutting them to "…", so that an 80-column terminal shows every value whole."""
    if out.measure(table, options=out.options.update_width(100_000)).maximum > out.width:
        table.box, table.padding, table.pad_edge = box.SIMPLE_HEAD, (0, 1, 0, 0), False
        for column in table.columns:
            column.overflow = "fold"
            longest = max((len(str(cell)) for cell in column.cells), default=0)
            if longest <= 12:  # short values (counts, codes, dates) stay whole; long text and headers fold
                column.min_width = longest
    out.print(table)


def openbureau_command() -> str:
    """How to run this ``openbureau`` from any shell: the script next to the running Python (the virtual
    environment's ``bin/openbureau``) by its absolute path, for examples that work when pasted."""
    script = Path(sys.executable).parent / "openbureau"
    return shlex.quote(str(script.absolute())) if script.exists() else "openbureau"


def shell_path(path: Path) -> str:
    """``path`` made absolute and quoted for a shell."""
    return shlex.quote(str(path.absolute()))


def record_progress() -> Progress:
    """A progress bar counting records."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err_console, transient=False,
    )


class PlainProgress:
    """Progress as plain lines (a line per tenth of each task) when standard error is not a terminal, e.g.
    redirected to a file: a bar drawn there would show nothing until the end. Same calls as Rich's ``Progress``.
    """

    def __init__(self, out: Console, *, steps: int = 10) -> None:
        self.out, self.steps = out, steps
        self.tasks: dict[int, dict[str, Any]] = {}

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *_: object) -> None:
        for task in self.tasks.values():
            if task["shown"] < self.steps:
                self._line(task)

    def add_task(self, description: str, *, total: float | None = None, **_: Any) -> int:
        """A new task; returns its id."""
        self.tasks[len(self.tasks)] = {"description": description, "total": total, "completed": 0, "shown": -1}
        return len(self.tasks) - 1

    def update(self, task_id: int, *, completed: float | None = None, advance: float | None = None,
               description: str | None = None, **_: Any) -> None:
        """Move a task on; print a line when it passes the next tenth of its total."""
        task = self.tasks[task_id]
        task["completed"] = completed if completed is not None else task["completed"] + (advance or 0)
        if description is not None:
            task["description"] = description
        step = int(self.steps * task["completed"] / task["total"]) if task["total"] else 0
        if step > task["shown"]:
            task["shown"] = step
            self._line(task)

    def _line(self, task: dict[str, Any]) -> None:
        total = f"/{task['total']:,.0f}" if task["total"] else ""
        self.out.print(f"{task['description']}: {task['completed']:,.0f}{total}", highlight=False, soft_wrap=True)


def progress(*columns: Any, transient: bool = False) -> Progress | PlainProgress:
    """A Rich progress bar on standard error when it is a terminal, plain lines otherwise."""
    if err_console.is_terminal:
        return Progress(*columns, console=err_console, transient=transient)
    return PlainProgress(err_console)
