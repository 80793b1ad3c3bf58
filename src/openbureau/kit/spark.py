"""A Spark session for the batch path: local on one machine, or a cluster named by its master URL.

PySpark is imported when a session is opened, never at import time (``--help`` stays fast, and a bureau
that never runs the Spark path needs neither Spark nor Java running). Spark writes shuffle files, spills
and cached blocks that do not fit in memory to ``spark.local.dir``; the session points it at a private
folder (mode 0700) made for the session and removed when it closes, and encrypts those files
(``spark.io.encryption.enabled``: AES with a key made for the application and never written), so
decrypted identity descriptions do not reach a disk in the clear (docs/scaling.md).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from openbureau.kit.errors import Unprocessable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SPARK_UNAVAILABLE = "SPARK_UNAVAILABLE"
BATCH_ENGINES = ("duckdb", "spark")  # where batch jobs run: this machine in process, or Spark (--engine)


@dataclass(frozen=True, slots=True)
class SparkOptions:
    """How to start a session: the settings ``spark_*`` (``Settings.spark_options()``)."""

    master: str = "local[2]"
    shuffle_partitions: int = 4
    local_dir: Path | None = None  # where the session's private folder is made; None: the system's temp dir
    driver_memory: str | None = None


def _check_java() -> None:
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and (Path(java_home) / "bin" / "java").exists()) and shutil.which("java") is None:
        raise Unprocessable("the Spark path needs Java 17 or later (Debian: apt-get install default-jre-headless)",
                            code=SPARK_UNAVAILABLE)


def local_driver_memory() -> str:
    """The heap of a local session's driver when none is set: half of the machine's memory. In local mode the
    driver is the whole of Spark, and Spark's own default (1g) runs out of heap resolving identities at about
    150,000 records (bench/scale.py); the JVM takes the memory only as it needs it."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(1, total // 2**31)}g"


@contextmanager
def spark_session(options: SparkOptions) -> Iterator[SparkSession]:
    """Open a Spark session for one batch job (or a test run), and stop it and remove its files after.

    A session already running in this process is used as it is and left running (its owner stops it).

    Example:
        >>> with spark_session(settings.spark_options()) as spark:
        ...     pairs = SparkLinker(spark).predict(weak, strong, model=model, prior=1e-4, threshold=0.9)
    """
    try:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise Unprocessable("the Spark path needs PySpark: pip install 'openbureau[spark]'",
                            code=SPARK_UNAVAILABLE) from exc
    running = SparkSession.getActiveSession()
    if running is None and SparkContext._active_spark_context is not None:  # started in another thread
        running = SparkSession.builder.getOrCreate()
    if running is not None:
        yield running
        return
    _check_java()
    private = Path(tempfile.mkdtemp(prefix="openbureau-spark-", dir=options.local_dir))
    builder = (SparkSession.builder.master(options.master).appName("openbureau-batch")
               .config("spark.local.dir", str(private))
               .config("spark.io.encryption.enabled", "true")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", str(options.shuffle_partitions))
               .config("spark.default.parallelism", str(options.shuffle_partitions))
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={private}"))
    local = options.master.startswith("local")
    if local:
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        # Python code run on Spark's workers (a training set's rows) runs in this interpreter, with its packages,
        # unless PYSPARK_PYTHON names another (PySpark reads the variable, not a setting, when it starts).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    memory = options.driver_memory or (local_driver_memory() if local else None)
    if memory:
        builder = builder.config("spark.driver.memory", memory)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        shutil.rmtree(private, ignore_errors=True)
        raise Unprocessable(f"Spark did not start at {options.master}: {exc}", code=SPARK_UNAVAILABLE) from exc
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()
        shutil.rmtree(private, ignore_errors=True)
