"""Training and resolution on the held-out furnisher (bench/heldout_identity.py), on SQLite and PostgreSQL.

The held-out generator shares no code with the simulator or the resolver: names in pinyin, traditional
characters, truncated; transposed birth dates; changed phones; namesakes and decoys.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from bench.heldout_identity import generate
from bench.identity import store_into
from sqlalchemy import select

from openbureau.audit.models import AuditEntry
from openbureau.audit.service import terminal_operator
from openbureau.identity import service
from openbureau.identity.evaluate import evaluate
from openbureau.identity.models import IdentityMerge, IdentityModel
from openbureau.identity.resolution import resolve
from openbureau.identity.resolution.model import default_model
from openbureau.identity.resolution.training import TooFewRecords, level_weights, train
from openbureau.kit.db import session_scope

PERSONS = 1_200
AT_TERMINAL = terminal_operator()


@pytest.fixture(scope="module")
def heldout(tmp_path_factory: pytest.TempPathFactory):
    """The held-out bureau's records and its truth directory."""
    records, truth, persons = generate(PERSONS, seed=7)
    out = tmp_path_factory.mktemp("heldout") / "truth"
    out.mkdir()
    truth.write_parquet(out / "records.parquet")
    persons.write_parquet(out / "persons.parquet")
    return records, out


def test_weights_are_estimated_from_the_bureau_and_links_meet_the_targets(runtime, heldout) -> None:
    records, truth = heldout
    store_into(runtime, records)
    stored = train(runtime.engine, vault=runtime.vault, actor_code="OPERATOR:test", seed=3)
    model = json.loads(stored.model)
    assert model["version"] == default_model()["version"] and model["trained_at"]
    assert stored.descriptions == model["training"]["descriptions"] > 2_000
    start = {(r["field"], r["level"]): r for r in level_weights(default_model())}
    estimated = {(r["field"], r["level"]): r for r in level_weights(model)}
    # The data, not the starting values, set the weights: every trained level moved.
    moved = [k for k in estimated if abs(estimated[k]["m"] - start[k]["m"]) > 1e-6]
    assert len(moved) >= 8, moved
    assert estimated[("name", "same name")]["weight"] > 5 and estimated[("phone", "different")]["weight"] < 0
    for comparison in model["comparisons"]:
        ms = [lv["m_probability"] for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        assert abs(sum(ms) - 1) < 1e-9

    summary = resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault, principal=AT_TERMINAL)
    assert summary.model_id == stored.id and summary.merged > 0 and summary.queued > 0
    quality = evaluate(runtime.engine, truth=truth)
    assert quality.precision >= 0.999, quality
    assert quality.false_merge_rate <= 0.001, quality
    assert quality.record_recall >= 0.95 and quality.record_recall_corroborable >= 0.99, quality
    # What is not linked waits for an operator with the right person as the candidate: nothing is lost.
    assert quality.record_recall_with_review >= 0.99, quality
    assert quality.namesake_pairs > 0 and quality.namesakes_merged == 0, quality

    with session_scope(runtime.engine) as session:
        actions = list(session.scalars(select(AuditEntry.action)))
        reviews = service.list_reviews(session, principal=terminal_operator(), limit=1_000)
        assert reviews
        reasons = {r for item in reviews for r in json.loads(item.evidence).get("review_reasons", [])}
        assert "not corroborated by phone or address" in reasons
        pair = service.review_side_by_side(session, principal=AT_TERMINAL, vault=runtime.vault,
                                           review_id=reviews[0].id)
        assert pair["person"] and pair["candidate"] and "full_name" in pair["person"][0]
        merged_into = session.execute(select(IdentityModel.id)).scalars().all()
    assert "identity.train" in actions and merged_into == [stored.id]


def test_every_automatic_link_is_explained_and_reversible(runtime, heldout) -> None:
    records, _ = heldout
    store_into(runtime, records)
    train(runtime.engine, vault=runtime.vault, actor_code="OPERATOR:test")
    resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault, principal=AT_TERMINAL)
    with session_scope(runtime.engine) as session:
        entry = session.scalars(select(IdentityMerge).where(IdentityMerge.method == "splink").limit(1)).one()
        links = service.probabilistic_links(session, entry.into_person_id)
    assert links and all(link["method"] == "splink" for link in links)
    evidence = links[0]["evidence"]
    assert set(evidence["levels"]) == {"name", "birth_date", "phone", "address"}
    assert evidence["corroborated"] and evidence["model_id"] and evidence["trained_at"]
    assert evidence["levels"]["phone"] == "same number" or evidence["levels"]["address"].startswith("same")
    assert evidence["records"]["weak"]["furnisher_account_id"] and evidence["records"]["strong"]
    account = links[0]
    with session_scope(runtime.engine, write=True) as session:
        service.split(session, principal=AT_TERMINAL, vault=runtime.vault, person_id=entry.into_person_id,
                      furnisher_id=account["furnisher_id"], furnisher_account_id=account["furnisher_account_id"])
    with session_scope(runtime.engine) as session:
        after = service.probabilistic_links(session, entry.into_person_id)
        kinds = [m.kind for m in service.history(session, entry.into_person_id)]
    assert account["furnisher_account_id"] not in {a["furnisher_account_id"] for a in after}
    assert "merge" in kinds and "split" in kinds


def test_training_refuses_a_bureau_too_small_to_estimate_from(runtime) -> None:
    store_into(runtime, generate(20, seed=1)[0])
    with pytest.raises(TooFewRecords) as err:
        train(runtime.engine, vault=runtime.vault, actor_code="OPERATOR:test")
    assert err.value.code == "TOO_FEW_RECORDS"
    summary = resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault, principal=AT_TERMINAL)
    assert summary.model_id is None


def test_the_heldout_generator_makes_what_it_promises() -> None:
    records, truth, persons = generate(600, seed=5)
    newco = records.filter(pl.col("furnisher") == "NEWCO")
    assert (newco["id_type"] == "OTHER").all()
    assert newco["full_name"].str.contains(r"^[A-Za-z]").any()  # pinyin
    assert newco["phone"].drop_nulls().str.contains(r"^\(|^0086|^\+86|\.").all()
    assert persons["namesake_of"].drop_nulls().len() > 0
    assert truth.height == records.height and set(truth["id_variant"]) == {"resident_id", "other"}
