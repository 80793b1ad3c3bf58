"""``openbureau fraud evaluate``: the fraud signals and score against a simulated market's fraud truth, each
case read as an inquiry at that moment would read it.

The truth folder holds ``fraud.parquet`` (each fraudster's pattern and the moment their fraud's first account
was granted, ``began_at``), ``first_credit.parquet`` (every person's first credit account granted in the
patterns' months) and ``persons.parquet`` (the identity numbers). A fraudster is read at ``began_at`` less
one second (the granting lender's inquiry: the application is on file, the account not yet), an honest person
at their own first account of the period the same way. The report is assembled exactly as an inquiry's
(``read_file``, ``assemble`` with the released models), with the file as it stood at that moment (the monthly
records of complete periods before it, the events before it: ``as_it_stood``), and ``fraud.evaluation``
counts (docs/fraud.md, Evaluating against known fraud). Rings are those of the last build.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from openbureau.fraud.evaluation import Case, Evaluation, flag_reasons, summarise
from openbureau.identity.repository import find_person
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.policy import Policy
from openbureau.reports.assembly import assemble, read_file
from openbureau.reports.schemas import View

_BEFORE = timedelta(seconds=1)


def truth_folder(path: Path | str) -> Path:
    """The truth folder of ``path`` (a market or its ``truth`` folder)."""
    path = Path(path)
    return path / "truth" if (path / "truth" / "fraud.parquet").exists() else path


def evaluation_cases(truth: Path | str, *, honest_sample: int | None = None, seed: int = 0) -> tuple[pl.DataFrame, int]:
    """Every case to read (``id_number``, ``pattern`` or null, ``at`` UTC, ``first_missed_on``, ``defaulted_on``)
    and the number of honest persons they sample from."""
    truth = truth_folder(truth)
    persons = pl.read_parquet(truth / "persons.parquet", columns=["person_key", "id_number", "synthetic"])
    fraud = pl.read_parquet(truth / "fraud.parquet").filter(pl.col("began_at").is_not_null())
    fraudsters = fraud.select("person_key", "pattern", at=pl.col("began_at"), first_missed_on="first_missed_on",
                              defaulted_on="defaulted_on")
    honest = (pl.read_parquet(truth / "first_credit.parquet")
              .join(persons.filter(pl.col("synthetic")).select("person_key"), on="person_key", how="anti")
              .join(fraud.select("person_key"), on="person_key", how="anti")
              .sort("person_key"))
    population = honest.height
    if honest_sample is not None and honest_sample < honest.height:
        honest = honest.sample(n=honest_sample, seed=seed).sort("person_key")
    honest_cases = honest.select("person_key", pattern=pl.lit(None, pl.String), at=pl.col("opened_at"),
                                 first_missed_on=pl.lit(None, pl.Date), defaulted_on=pl.lit(None, pl.Date))
    cases = pl.concat([fraudsters, honest_cases]).join(persons.select("person_key", "id_number"), on="person_key")
    return cases, population


def evaluate_fraud(engine: Engine, *, vault: PiiVault, policy: Policy, truth: Path | str,
                   honest_sample: int | None = None, seed: int = 0,
                   progress: Callable[[int, int], None] | None = None) -> Evaluation:
    """Read every case's report at its moment and count what flagged it (``fraud.evaluation``)."""
    cases, population = evaluation_cases(truth, honest_sample=honest_sample, seed=seed)
    found: list[Case] = []
    missing = 0
    with session_scope(engine) as session:
        for done, row in enumerate(cases.iter_rows(named=True), start=1):
            if progress is not None and done % 200 == 0:
                progress(done, cases.height)
            person = find_person(session, id_type="CN_RESIDENT_ID",
                                 id_index=vault.blind_index(row["id_number"], domain="CN_RESIDENT_ID"))
            if person is None:
                missing += 1
                continue
            at: datetime = row["at"].astimezone(UTC) - _BEFORE
            file = read_file(session, vault=vault, person=person, now=at, policy=policy, as_it_stood=True)
            report = assemble(file, view=View.SUBSCRIBER, viewer_id=None, vault=vault, now=at, policy=policy,
                              session=session)
            band = report.fraud_score.band if report.fraud_score is not None else None
            found.append(Case(row["pattern"], flag_reasons(report.signals, band), at.date(),
                              row["first_missed_on"], row["defaulted_on"]))
    return summarise(found, honest_population=population, not_in_bureau=missing)
