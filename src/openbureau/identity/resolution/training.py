"""Estimate the linkage model's m and u probabilities from the bureau's own records (Splink).

Training reads every stored description of a person (decrypted in memory only, as resolution does) and
lets Splink estimate, on the distinct descriptions:

* **u** (P(level | different persons)) by random sampling of pairs among one description per person: two
  persons drawn at random are almost never the same human being (sampling among all descriptions would
  count a person's own variants as strangers, about one pair in the number of persons);
* **m** (P(level | same person)) by expectation maximisation on blocked pairs, once with pairs sharing a
  birth date (which estimates name, phone and address) and once with pairs sharing a phone number (which
  estimates name, birth date and address). A level the data never shows keeps its starting value, and no
  m falls below ``MIN_M``: a level seen in fewer than one match in 200 (a move of house in a bureau whose
  history is short) is not evidence that it never happens.

Term frequencies of names are not part of the saved model: they are counted from the records of each
run, so a name that becomes common in the bureau weighs less at once.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine

from openbureau.audit import service as audit
from openbureau.identity.models import IdentityModel
from openbureau.identity.repository import ResolutionRepository
from openbureau.identity.resolution.model import FEATURE_COLUMNS, MODEL_VERSION, default_model
from openbureau.identity.resolution.resolver import describe, read_records, with_survivors
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Unprocessable

U_PAIRS = 5_000_000  # pairs sampled to estimate u: enough for levels with u near 1e-6 to be seen
EM_MAX_PAIRS = 5_000_000  # blocked pairs per EM session at most (Splink samples records above it)
EM_BLOCKING_RULES = ('l."dob" = r."dob"', 'l."phone_n" = r."phone_n"')
MIN_M = 0.005
MIN_DESCRIPTIONS = 2_000  # fewer distinct descriptions than this: too few to estimate anything


class TooFewRecords(Unprocessable):
    """The bureau holds too few descriptions to estimate a model from."""


def train(engine: Engine, *, vault: PiiVault, actor_code: str, seed: int = 42, u_pairs: int = U_PAIRS
          ) -> IdentityModel:
    """Estimate a model from every stored record and store it as the bureau's newest model; audited.

    Example:
        >>> stored = train(runtime.engine, vault=runtime.vault, actor_code="OPERATOR:ops")
        >>> json.loads(stored.model)["trained_at"]
    """
    with session_scope(engine) as session:
        repo = ResolutionRepository(session)
        survivors = with_survivors(repo.persons()).select("person_id", "survivor")
        records = read_records(repo, vault)
    records = (records.join(survivors, on="person_id", how="left")
               .with_columns(pl.coalesce("survivor", "person_id").alias("person_id")).drop("survivor"))
    model = estimate(describe(records), seed=seed, u_pairs=u_pairs)
    with session_scope(engine, write=True) as session:
        stored = IdentityModel(version=MODEL_VERSION, trained_at=datetime.fromisoformat(model["trained_at"]),
                               trained_by=actor_code, descriptions=model["training"]["descriptions"],
                               model=json.dumps(model, ensure_ascii=False, sort_keys=True))
        ResolutionRepository(session).add(stored)
        audit.record(session, actor_member_id=None, actor_code=actor_code, action="identity.train",
                     details={"model_id": stored.id, **model["training"]})
        session.expunge(stored)
    return stored


def estimate(descriptions: pl.DataFrame, *, seed: int = 42, u_pairs: int = U_PAIRS,
             threads: int | None = None) -> dict[str, Any]:
    """A model estimated from identity descriptions (``rid`` and the feature columns).

    Args:
        descriptions: Distinct descriptions with their features (``features.features``).
        seed: Seed of the random sampling, so a training run can be repeated.
        u_pairs: Number of random pairs used for u.
        threads: DuckDB threads (all cores by default).

    Returns:
        The model dictionary (``model.default_model`` shape) with the estimated probabilities,
        ``trained_at`` and ``training`` (sizes and time).

    Raises:
        TooFewRecords: fewer than ``MIN_DESCRIPTIONS`` descriptions.

    Example:
        >>> model = estimate(features(descriptions))
    """
    if descriptions.height < MIN_DESCRIPTIONS:
        raise TooFewRecords(f"the bureau holds {descriptions.height} distinct identity descriptions; at least "
                            f"{MIN_DESCRIPTIONS} are needed to estimate an identity model", code="TOO_FEW_RECORDS")
    import duckdb
    from splink import DuckDBAPI, Linker

    started = time.perf_counter()
    start = default_model()
    settings = {
        "link_type": "dedupe_only",
        "unique_id_column_name": "rid",
        "probability_two_random_records_match": 1 / max(descriptions["person_id"].n_unique(), 2),
        "comparisons": start["comparisons"],
        "blocking_rules_to_generate_predictions": [],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
    }
    con = duckdb.connect(":memory:")
    con.execute("SET temp_directory = ''")  # no spilling: plaintext never reaches a disk
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    splink_logger = logging.getLogger("splink")
    level = splink_logger.level
    splink_logger.setLevel(logging.ERROR)
    try:
        db_api = DuckDBAPI(con)
        columns = ["rid", *FEATURE_COLUMNS]
        one_each = descriptions.sample(fraction=1.0, shuffle=True, seed=seed).unique("person_id", keep="first")
        sampler = Linker(db_api.register(one_each.select(columns).to_arrow(), table_name="persons_sample"), settings,
                         log_level=logging.ERROR)
        sampler.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
        settings["comparisons"] = sampler.misc.save_model_to_json()["comparisons"]
        linker = Linker(db_api.register(descriptions.select(columns).to_arrow(), table_name="descriptions"), settings,
                        log_level=logging.ERROR)
        sessions = [linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=EM_MAX_PAIRS) for rule in EM_BLOCKING_RULES]
        trained = linker.misc.save_model_to_json()
    finally:
        splink_logger.setLevel(level)
        con.close()
    model = {**start, "comparisons": _keep_levels(trained["comparisons"], start["comparisons"])}
    model["trained_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    model["training"] = {"descriptions": descriptions.height, "persons": descriptions["person_id"].n_unique(),
                         "u_pairs": u_pairs, "em_blocking_rules": list(EM_BLOCKING_RULES),
                         "em_iterations": [len(s._iteration_history) if hasattr(s, "_iteration_history") else None
                                           for s in sessions],
                         "seed": seed, "seconds": round(time.perf_counter() - started, 2)}
    model["version"] = MODEL_VERSION
    return model


def _keep_levels(trained: list[dict[str, Any]], start: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trained comparisons, with a level the training did not estimate keeping its starting value."""
    out = []
    for new, old in zip(trained, start, strict=True):
        levels = []
        for level, first in zip(new["comparison_levels"], old["comparison_levels"], strict=True):
            level = dict(level)
            if not first.get("is_null_level"):
                for key in ("m_probability", "u_probability"):
                    if not level.get(key):
                        level[key] = first[key]
                level["m_probability"] = max(level["m_probability"], MIN_M)
            levels.append(level)
        total = sum(level["m_probability"] for level in levels if not level.get("is_null_level"))
        for level in levels:  # m is a distribution over the levels: floors and kept values renormalised
            if not level.get("is_null_level"):
                level["m_probability"] /= total
        out.append({**new, "comparison_levels": levels})
    return out


def level_weights(model: dict[str, Any]) -> list[dict[str, Any]]:
    """Each comparison level's label, m, u and match weight log2(m/u) (for docs and explanations)."""
    import math

    rows = []
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level["m_probability"], level["u_probability"]
            rows.append({"field": comparison["output_column_name"], "level": level["label_for_charts"],
                         "m": m, "u": u, "weight": round(math.log2(m / u), 2),
                         "term_frequency": bool(level.get("tf_adjustment_column"))})
    return rows
