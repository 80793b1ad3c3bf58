"""Shared pieces of the command line: the console, error display, progress bars."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import typer
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
            err_console.print(f"[bold red]error[/] {exc.code}: {exc.message}{where}")
            raise typer.Exit(1) from exc

    return wrapper


def record_progress() -> Progress:
    """A progress bar counting records."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err_console, transient=False,
    )
