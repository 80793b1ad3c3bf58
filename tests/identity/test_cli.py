"""``openbureau identity`` on the embedded default: resolve, review, merge, split, history, evaluate."""

from __future__ import annotations

import json

import polars as pl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from openbureau.audit.models import AuditEntry
from openbureau.cli.identity import app
from openbureau.kit.db import session_scope
from openbureau.kit.settings import get_settings
from openbureau.members.models import Member
from openbureau.runtime import Runtime, open_runtime
from tests.identity.factories import RESIDENT_ID, add_person, add_records
from tests.members.factories import make_member

runner = CliRunner()


@pytest.fixture
def bureau(tmp_path, monkeypatch) -> Runtime:
    """A bureau in a fresh data directory named by the environment, with two furnishers."""
    monkeypatch.setenv("OPENBUREAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OPENBUREAU_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runtime = open_runtime()
    make_member(runtime, "BANK_A")
    make_member(runtime, "UTILITY")
    yield runtime
    runtime.engine.dispose()
    get_settings.cache_clear()


def _ids(runtime: Runtime) -> dict[str, int]:
    with session_scope(runtime.engine) as session:
        return {m.code: m.id for m in session.scalars(select(Member))}


def test_resolve_merge_split_and_history(bureau) -> None:
    ids = _ids(bureau)
    add_person(bureau, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(bureau, 1, furnisher_id=ids["BANK_A"], account="A1")
    add_person(bureau, 2, "OTHER", "UT0000001")
    add_records(bureau, 2, furnisher_id=ids["UTILITY"], account="U1", full_name="张 伟")
    result = runner.invoke(app, ["resolve", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["merged"] == 1
    result = runner.invoke(app, ["split", "1", "--account", "UTILITY:U1"])
    assert result.exit_code == 0, result.output
    assert "to person 2" in result.output
    result = runner.invoke(app, ["merge", "2", "1"])
    assert result.exit_code == 0 and "merged into 1" in result.output
    assert runner.invoke(app, ["merge", "2", "1"]).exit_code == 1  # already merged: one clear error
    result = runner.invoke(app, ["history", "1"])
    assert result.exit_code == 0 and "split" in result.output and result.output.count("merge") >= 2
    assert runner.invoke(app, ["split", "1", "--account", "nocolon"]).exit_code != 0
    assert runner.invoke(app, ["review", "list"]).exit_code == 0
    assert runner.invoke(app, ["review", "accept", "99"]).exit_code == 1
    with session_scope(bureau.engine) as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"identity.resolve", "identity.split", "identity.merge"} <= actions


def test_evaluate_prints_pairwise_figures(bureau, tmp_path) -> None:
    ids = _ids(bureau)
    add_person(bureau, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(bureau, 1, furnisher_id=ids["BANK_A"], account="A1", periods=("2025-01", "2025-02"))
    add_person(bureau, 2, "OTHER", "UT0000001")
    add_records(bureau, 2, furnisher_id=ids["UTILITY"], account="U1", full_name="伟张")
    truth = tmp_path / "truth"
    truth.mkdir()
    pl.DataFrame({"furnisher": ["BANK_A", "BANK_A", "UTILITY"], "period": ["2025-01", "2025-02", "2025-01"],
                  "furnisher_account_id": ["A1", "A1", "U1"], "person_key": ["P1", "P1", "P1"]}
                 ).write_parquet(truth / "records.parquet")
    before = json.loads(runner.invoke(app, ["evaluate", "--truth", str(truth), "--json"]).output)
    assert (before["precision"], before["pairs_true"], before["pairs_correct"]) == (1.0, 3, 1)
    runner.invoke(app, ["resolve"])
    after = json.loads(runner.invoke(app, ["evaluate", "--truth", str(truth), "--json"]).output)
    assert (after["precision"], after["recall"], after["f1"], after["persons_bureau"]) == (1.0, 1.0, 1.0, 1)


def test_train_model_links_and_review_show(bureau) -> None:
    from bench.heldout_identity import generate
    from bench.identity import store_into

    result = runner.invoke(app, ["model"])
    assert result.exit_code == 1 and "no trained identity model" in result.output
    result = runner.invoke(app, ["train"])
    assert result.exit_code == 1 and "TOO_FEW_RECORDS" in result.output  # an empty bureau: one clear error
    store_into(bureau, generate(1_200, seed=11)[0])
    result = runner.invoke(app, ["train", "--json"])
    assert result.exit_code == 0, result.output
    trained = json.loads(result.output)
    assert trained["trained_at"] and {r["level"] for r in trained["levels"]} >= {"same name", "day and month transposed"}
    shown = runner.invoke(app, ["model"])
    assert shown.exit_code == 0 and f"identity model {trained['model_id']}" in shown.output
    result = runner.invoke(app, ["resolve", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["model_id"] == trained["model_id"]
    with session_scope(bureau.engine) as session:
        from openbureau.identity.models import IdentityMerge, IdentityReview

        into = session.scalars(select(IdentityMerge.into_person_id).limit(1)).one()
        review = session.scalars(select(IdentityReview.id).limit(1)).one()
    links = runner.invoke(app, ["links", str(into), "--json"])
    assert links.exit_code == 0 and json.loads(links.output)[0]["method"] == "splink"
    side = runner.invoke(app, ["review", "show", str(review)])
    assert side.exit_code == 0 and "candidate" in side.output and "birth_date" in side.output
    assert runner.invoke(app, ["review", "show", "999999"]).exit_code == 1
