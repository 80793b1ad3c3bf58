"""End to end on a small simulated market: intake, resolution, evaluation against the truth (both engines)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from openbureau import sim
from openbureau.identity.evaluate import evaluate
from openbureau.identity.resolution import resolve
from openbureau.principals import Principal
from openbureau.sim.replay import register_members, replay

AT_TERMINAL = Principal.operator("OPERATOR:test")


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 400-person, 4-month market (pinned end period: the same files every run)."""
    out = tmp_path_factory.mktemp("market")
    sim.generate(persons=400, months=4, seed=7, out=out, end_period="2025-06")
    return out


def test_resolution_meets_the_targets_and_keeps_identifiers_out_of_the_database(runtime, market) -> None:
    register_members(runtime.engine)
    replay(runtime.engine, settings=runtime.settings, policy=runtime.policy, vault=runtime.vault, market=market,
           events=False)  # resolution links the monthly records; the daily event files add nothing it measures
    before = evaluate(runtime.engine, truth=market / "truth")
    summary = resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault, principal=AT_TERMINAL)
    after = evaluate(runtime.engine, truth=market / "truth")
    assert summary.persons_weak > 0 and summary.merged > 0
    assert before.recall < after.recall
    assert after.precision >= 0.999 and after.recall >= 0.98, after
    assert after.bureau_persons_mixed == 0 and after.false_merged_records == 0
    assert after.namesake_pairs > 0 and after.namesakes_merged == 0
    assert after.record_recall >= 0.9 and after.linkable_records > 0  # untrained starting values, 99 records
    if runtime.settings.resolved_database_url.startswith("sqlite"):
        stored = b"".join(p.read_bytes() for p in runtime.settings.data_dir.glob("bureau.db*"))
        names = pl.read_parquet(market / "truth" / "persons.parquet")["full_name"].head(50).to_list()
        assert not any(name.encode() in stored for name in names)


def test_evaluating_a_bureau_that_holds_none_of_the_market_says_so(runtime, tmp_path) -> None:
    import polars as pl
    import pytest

    from openbureau.identity.evaluate import evaluate
    from openbureau.kit.errors import Unprocessable

    truth = tmp_path / "truth"
    truth.mkdir()
    pl.DataFrame({"furnisher": ["X"], "period": ["2026-01"], "furnisher_account_id": ["A"],
                  "person_key": ["p1"]}).write_parquet(truth / "records.parquet")
    with pytest.raises(Unprocessable) as err:
        evaluate(runtime.engine, truth=truth)
    assert err.value.code == "NOTHING_TO_EVALUATE"


def test_false_merges_are_counted_record_by_record(runtime, tmp_path) -> None:
    from tests.identity.factories import RESIDENT_ID, add_person, add_records
    from tests.members.factories import make_member

    make_member(runtime, "BANK_A")
    make_member(runtime, "UTILITY")
    add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
    add_records(runtime, 1, furnisher_id=1, account="A1", periods=("2025-01", "2025-02", "2025-03"))
    add_records(runtime, 1, furnisher_id=2, account="U1")  # a namesake's account, wrongly filed here
    add_person(runtime, 2, "OTHER", "UT0000009")
    add_records(runtime, 2, furnisher_id=2, account="U2")  # the first person's, left apart
    truth = tmp_path / "truth"
    truth.mkdir()
    pl.DataFrame({"furnisher": ["BANK_A"] * 3 + ["UTILITY", "UTILITY"],
                  "period": ["2025-01", "2025-02", "2025-03", "2025-01", "2025-01"],
                  "furnisher_account_id": ["A1", "A1", "A1", "U1", "U2"],
                  "person_key": ["P1", "P1", "P1", "P2", "P1"],
                  "id_variant": ["resident_id"] * 3 + ["other", "other"]}).write_parquet(truth / "records.parquet")
    pl.DataFrame({"person_key": ["P1", "P2"], "namesake_of": [None, "P1"]}).write_parquet(truth / "persons.parquet")
    found = evaluate(runtime.engine, truth=truth)
    assert (found.false_merged_records, found.false_merge_rate) == (1, 0.2)
    assert (found.linkable_records, found.linkable_linked, found.record_recall) == (1, 0, 0.0)
    assert (found.namesake_pairs, found.namesakes_merged) == (1, 1)
    assert found.bureau_persons_mixed == 1 and found.precision == 0.5
