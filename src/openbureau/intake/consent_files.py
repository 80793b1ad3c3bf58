"""Consent files (docs/consent.md) read in bounded memory: intake's chunk readers, in two passes.

The first pass checks every line and keeps, of each line, only what the file's own rules need later: its
number, two 64-bit hashes of its reference and whether it is good, so a reference repeated anywhere in the
file is found (``DUPLICATE_IN_FILE``) whatever the file's size: 25 bytes a line (two different references
share both hashes with odds of about n²/2¹²⁹). Nothing is stored until the whole file is known, so a file naming a
purpose its sender may not hold, or one that cannot be read, stores nothing. The second pass reads the file
again, checks each chunk the same way, seals its good lines and hands them over ``IMPORT_CHUNK`` at a time.
A kept file is read through decryption both times (``keys``): nothing of it is ever on disk in clear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from openbureau.consent import importer
from openbureau.consent import service as consents
from openbureau.consent.schemas import ImportFinding
from openbureau.intake.errors import FileRejected
from openbureau.intake.readers import ChunkReader, FileFormat, MalformedRecord, detect_format
from openbureau.intake.standard import Field, FieldType, Layout
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import FILE_FORMAT_UNKNOWN, FILE_MISSING_COLUMNS
from openbureau.kit.files import file_sha256
from openbureau.kit.memory import release_freed_memory

CONSENT_FILE = Layout("consents", tuple(
    Field(name, FieldType.TEXT, name in importer.REQUIRED, f"the consent's {name}", personal=name == "id_number")
    for name in importer.COLUMNS))
FORMATS = (FileFormat.CSV, FileFormat.JSONL)
KEY_SEEDS = (0x0B5E55ED, 0x5EED5EED)  # two independent hashes of a reference
NO_ROWS = pl.DataFrame(schema={"_line": pl.Int64, "consent_ref": pl.String})


@dataclass(slots=True)
class ConsentFile:
    """A consent file to import: ``name`` tells its format (an upload's own name; by default the path's);
    ``keys`` (key id to key) mean it is sealed and read through decryption."""

    path: Path
    name: str | None = None
    keys: Mapping[str, bytes] | None = None
    sha256: str | None = None
    chunk_size: int = 100_000

    def rows(self, malformed: Callable[[list[MalformedRecord]], None]) -> Iterator[pl.DataFrame]:
        """Every line as text columns with ``_line``, a chunk at a time; lines no reader could take are
        handed to ``malformed`` as they are met. A file of another format, or a CSV file without the
        required columns, is refused before any line is read."""
        name = self.name or self.path.name
        try:
            fmt = detect_format(name)
        except FileRejected:
            fmt = None
        if fmt not in FORMATS:
            raise FileRejected(f"consent files are .csv or .jsonl, not {Path(name).suffix[:16] or 'no suffix'}",
                               code=FILE_FORMAT_UNKNOWN, field="file")
        reader = ChunkReader(self.path, fmt, chunk_size=self.chunk_size, keys=self.keys, layout=CONSENT_FILE)
        missing = [c for c in importer.REQUIRED if c not in reader.open()]
        if missing and fmt is FileFormat.CSV:  # a JSON line lacking one is that line's REQUIRED_MISSING
            raise FileRejected(f"the consent file lacks columns: {', '.join(missing)}", code=FILE_MISSING_COLUMNS,
                               field=missing[0], details={"columns": missing})
        for chunk in reader.chunks():
            malformed(reader.take_malformed())
            yield chunk
        malformed(reader.take_malformed())


@dataclass(slots=True)
class CheckedFile:
    """A consent file's first pass: what it came to, and its lines that repeat an earlier reference."""

    outcome: consents.ImportOutcome
    summary: consents.ImportSummary
    repeated: pl.Series


def check(file: ConsentFile, *, actor: consents.Actor, now: datetime) -> CheckedFile:
    """Check every line of ``file`` and refuse it whole if it names a purpose ``actor`` may not hold; keeps
    no line's content."""
    outcome = consents.ImportOutcome()
    unreadable = 0

    def malformed(records: list[MalformedRecord]) -> None:
        nonlocal unreadable
        unreadable += len(records)
        outcome.note([ImportFinding(line=m.line, field=m.field, code=m.code, message=m.message) for m in records])

    keys, purposes, read = [], set(), 0
    no_repeats = pl.Series("_line", [], dtype=pl.Int64)
    for rows in file.rows(malformed):
        good, found = importer.validate_consent_rows(rows, now=now, repeated=no_repeats)
        outcome.note(found)
        purposes.update(good["purpose"].unique().to_list())
        keys.append(_reference_keys(rows, good=good["_line"]))
        read += rows.height
        release_freed_memory()
    consents.check_purposes(actor, purposes)
    every = pl.concat(keys) if keys else _reference_keys(NO_ROWS, good=no_repeats)
    repeated = importer.repeated_lines(every, [f"_key{i}" for i in range(len(KEY_SEEDS))])
    if repeated.len():  # counted here: only the first are built as findings
        outcome.finding_counts[importer.DUPLICATE[1]] += repeated.len()
        outcome.note(importer.duplicate_findings(repeated.head(consents.FINDINGS_SHOWN)), counted=True)
    stored = every.filter(pl.col("_good") & ~pl.col("_line").is_in(repeated.implode())).height
    outcome.received = read + unreadable
    outcome.rejected = outcome.received - stored
    summary = consents.ImportSummary(sha256=file.sha256 or file_sha256(file.path), received=outcome.received,
                                     rejected=outcome.rejected, lines=stored)
    return CheckedFile(outcome=outcome, summary=summary, repeated=repeated)


def sealed_chunks(file: ConsentFile, checked: CheckedFile, *, vault: PiiVault, actor: consents.Actor,
                  now: datetime) -> Iterator[pl.DataFrame]:
    """The second pass: the good lines of ``file`` (as ``check`` found them), sealed, in file order,
    ``consent.service.IMPORT_CHUNK`` at a time."""
    pending: pl.DataFrame | None = None
    for rows in file.rows(lambda _: None):
        good, _ = importer.validate_consent_rows(rows, now=now, repeated=checked.repeated)
        sealed = consents.seal_lines(vault=vault, actor=actor, good=good)
        pending = sealed if pending is None else pl.concat([pending, sealed])
        while pending.height >= consents.IMPORT_CHUNK:
            yield pending.head(consents.IMPORT_CHUNK)
            pending = pending.slice(consents.IMPORT_CHUNK)
        release_freed_memory()  # the chunk's freed heap, so that memory does not grow with the file
    if pending is not None and pending.height:
        yield pending


def _reference_keys(rows: pl.DataFrame, *, good: pl.Series) -> pl.DataFrame:
    """Each line's number, the two hashes of its reference and whether it is among the ``good`` lines
    (lines without a reference have nothing to repeat, and are not good)."""
    ref = pl.col("consent_ref")
    return rows.filter(ref.is_not_null()).select(
        "_line", *(ref.hash(seed=seed).alias(f"_key{i}") for i, seed in enumerate(KEY_SEEDS)),
        pl.col("_line").is_in(good.implode()).alias("_good"))
