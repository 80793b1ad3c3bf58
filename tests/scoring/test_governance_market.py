"""On the simulated market (3,000 persons, 18 months to 2026-06; SQLite and PostgreSQL, both model engines):
a model trained at the newest period with a whole outcome under-predicts at the top of the scale on other
periods; recalibrated on one held-out period it agrees with the observed bad rate in every band on another,
through the registry; and the fairness report reads gender, age band and region from the encrypted resident
IDs, audited."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import polars as pl
import pytest
from sqlalchemy import select

from openbureau.audit.models import AuditEntry
from openbureau.kit.db import session_scope
from openbureau.scoring import engines, governance, service, training
from openbureau.scoring.scorecard import SCALES
from openbureau.scoring.training_set import default_observation_period, training_set

TRAINED, FIT, HELD_OUT = "2025-06", "2025-04", "2025-05"  # trained at the newest period with a whole outcome


def _labels(data) -> list[str]:
    return ["thin" if t else "main" for t in data.thin]


@pytest.fixture(scope="module", params=engines.ENGINES)
def recalibrated(request, bureau):
    engine = bureau.runtime.engine
    card, _ = service.train_on_bureau(engine, scale=SCALES["300-850"], actor_code="OPERATOR:test",
                                      observation_period=TRAINED, version=f"cal-{request.param}",
                                      model_engine=request.param)
    new, _ = service.recalibrate_on_bureau(engine, version=card.model_version, observation_period=FIT,
                                           actor_code="OPERATOR:test")
    with session_scope(engine) as session:
        data = training_set(session, observation_period=HELD_OUT)
        stored = service.load(session, new.model_version)
        assert default_observation_period(session) == card.training["observation_period"] == TRAINED
    return card, new, stored, data


MIN_BADS_FOR_DIRECTION = 10


def test_recalibrated_on_a_held_out_period_the_bands_agree_on_another(recalibrated) -> None:
    card, new, stored, data = recalibrated
    assert new.model_version == f"{card.model_version}-r{FIT}" and new.recalibration["observation_period"] == FIT
    assert json.loads(service.artefact_text(stored)) == json.loads(service.artefact_text(new))  # the registry round trip
    result = training.evaluate(stored, data.frame(), data.bad, segments=_labels(data))
    bands = result["calibration_by_band"]
    assert [b["band"].split(" ")[0] for b in bands] == ["poor", "fair", "good", "very", "exceptional"]
    assert sum(b["rows"] for b in bands) == len(data.bad)
    # Every band of the scale within its simultaneous 95% interval on a period the model never saw, allowing
    # one near miss: with about 50 bads a period, every band held in 11 of 13 runs (docs/scoring.md).
    shown = [(b["band"], b["rows"], b["bads"], b["predicted_bad_rate"], b["interval"]) for b in bands]
    outside = [b for b in bands if b["rows"] and not b["within"]]
    assert len(outside) <= 1, (shown, stored.recalibration["segments"])
    for b in outside:
        low, high = b["interval"]
        assert low - (high - low) / 4 <= b["predicted_bad_rate"] <= high + (high - low) / 4, shown
    # Where the top of the scale under-predicted before (the raw points extrapolate beyond 850), it rises after;
    # judged only where the band holds enough bads for its observed rate to say which way it should move (a
    # band of a handful of bads, as the top one of a small market can be, was seen to go either way).
    for a, b in zip(bands, result["calibration_before_by_band"], strict=True):
        if a["bads"] >= MIN_BADS_FOR_DIRECTION and not b["within"] and b["predicted_bad_rate"] < b["interval"][0]:
            assert a["predicted_bad_rate"] > b["predicted_bad_rate"]
    assert result["auc"] == pytest.approx(training.evaluate(card, data.frame(), data.bad, segments=_labels(data))["auc"])


def test_the_training_period_cannot_recalibrate_its_own_model(recalibrated, bureau) -> None:
    card, *_ = recalibrated
    from openbureau.kit.errors import Unprocessable

    with pytest.raises(Unprocessable) as exc:
        service.recalibrate_on_bureau(bureau.runtime.engine, version=card.model_version, observation_period="2025-06",
                                      actor_code="OPERATOR:test", new_version=f"{card.model_version}-again")
    assert exc.value.code == "RECALIBRATION_IN_SAMPLE"


def test_the_fairness_report_reads_the_attributes_from_resident_ids_and_audits_it(recalibrated, bureau) -> None:
    _, new, _, data = recalibrated
    runtime = bureau.runtime
    with session_scope(runtime.engine, write=True) as session:
        groups = governance.protected_groups(session, vault=runtime.vault, person_ids=data.person_ids,
                                             observed=date(2025, 5, 31), actor_code="OPERATOR:test",
                                             model_version=new.model_version)
    with session_scope(runtime.engine) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == governance.ACTION)
                                .order_by(AuditEntry.seq.desc())).first()
        from openbureau.identity.service import resident_ids

        numbers = resident_ids(session, vault=runtime.vault, person_ids=data.person_ids)
    assert entry.purpose == "model_governance" and f'"persons":{len(data.person_ids)}' in entry.details.replace(" ", "")
    assert str(numbers[data.person_ids[0]]) not in entry.details  # the audit names no identifier
    # The attributes agree with the simulator's truth about the same persons.
    truth = pl.read_parquet(bureau.market / "truth" / "persons.parquet").select("id_number", "sex", "birth_date")
    sex = dict(zip(truth["id_number"].to_list(), truth["sex"].to_list(), strict=True))
    checked = 0
    for pid, gender in zip(data.person_ids, groups["gender"], strict=True):
        if pid in numbers and numbers[pid] in sex:
            assert gender == {"M": "male", "F": "female"}[sex[numbers[pid]]]
            checked += 1
    assert checked > 0.9 * len(data.person_ids)
    report = governance.fairness_report(new, data.frame(), data.bad, groups=groups, segments=_labels(data))
    assert report["cutoff"] == 670 and report["threshold"] == 0.8
    for attribute in ("gender", "age_band", "region"):
        a = report["attributes"][attribute]
        assert sum(g["rows"] for g in a["groups"].values()) == len(data.bad)
        assert a["reference"] is not None and a["groups"][a["reference"]]["impact_ratio"] == 1.0
        for name, g in a["groups"].items():
            assert g["too_small"] == (g["rows"] < governance.fairness.MIN_GROUP_ROWS)
            if not g["too_small"] and name != "unknown":
                assert (g["impact_ratio"] < 0.8) == g["adverse_impact"] == (name in a["breached"])
    assert set(report["attributes"]["gender"]["groups"]) <= {"male", "female", "unknown"}
    score, _ = training.score_frame(new, data.frame(), segments=_labels(data))
    males = np.array(groups["gender"]) == "male"
    assert report["attributes"]["gender"]["groups"]["male"]["approval_rate"] == pytest.approx(
        float((score[males] >= 670).mean()))
