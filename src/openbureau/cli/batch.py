"""Where a batch command's heavy work runs: ``duckdb`` (this machine, in process) or ``spark`` (the master URL of
``OPENBUREAU_SPARK_MASTER``), per command or for all by ``OPENBUREAU_BATCH_ENGINE`` (docs/scaling.md)."""

from __future__ import annotations

import typer

from openbureau.kit.spark import BATCH_ENGINES, SparkOptions
from openbureau.runtime import Runtime


def check_batch_engine(name: str | None) -> str | None:
    """The option's callback: a known batch engine, or a usage error naming the choices."""
    if name is not None and name not in BATCH_ENGINES:
        raise typer.BadParameter(f"unknown batch engine {name!r}; choose {', '.join(BATCH_ENGINES)}")
    return name


def spark_of(runtime: Runtime, name: str | None) -> SparkOptions | None:
    """The Spark options when the command (else the setting) chose Spark; None to run in process."""
    return runtime.settings.spark_options() if (name or runtime.settings.batch_engine) == "spark" else None
