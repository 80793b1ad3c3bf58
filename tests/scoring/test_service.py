"""Scoring the bureau's own files: training data as of an observation period, the registry, and the score an
inquiry carries, with its reasons. Then model governance on the same market (3,000 persons, 18 months to
2026-06; SQLite and PostgreSQL, both model engines): a model trained at the newest period with a whole
outcome under-predicts at the top of the scale on other periods; recalibrated on one held-out period it
agrees with the observed bad rate in every band on another, through the registry; and the fairness report
reads gender, age band and region from the encrypted resident IDs, audited.

One module for both: they share the replayed market, and two test processes asking for it at once had one
of them wait for the other's replay."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from openbureau import sim
from openbureau.accounts.models import AccountState
from openbureau.audit import service as audit
from openbureau.audit.models import AuditEntry
from openbureau.cli import demo
from openbureau.cli.main import app
from openbureau.consent.profiles import Purpose, get_profile
from openbureau.consent.schemas import Subject
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from openbureau.kit.settings import get_settings
from openbureau.members.service import get_member
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from openbureau.scoring import engines, governance, service, training
from openbureau.scoring.scorecard import SCALES
from openbureau.scoring.training_set import default_observation_period, training_set
from tests.scoring.conftest import END

CN = Policy(profile=get_profile("CN"), reciprocity=False)
NOW = datetime(2026, 7, 15, tzinfo=UTC)  # reports as of 2026-06, the market's last period


@pytest.fixture(scope="package")
def trained(bureau):
    """The training set at the default observation period and a model trained on it."""
    with session_scope(bureau.runtime.engine) as session:
        period = default_observation_period(session)
        data = training_set(session, observation_period=period)
    card = training.train_bureau(data, scale=SCALES["300-850"], version=f"test-{bureau.runtime.engine.dialect.name}")
    return data, card


@pytest.fixture(scope="package")
def registered(bureau, trained):
    """The trained model, registered (not released): every test that needs it in the registry asks for it,
    so none depends on another having run first."""
    with session_scope(bureau.runtime.engine, write=True) as session:
        service.register(session, card=trained[1], actor_code="OPERATOR:test")
    return trained


def test_the_training_set_observes_each_file_at_the_period_and_its_outcome_after(bureau, trained) -> None:
    data, card = trained
    assert data.observation_period == "2025-06" and END == "2026-06"  # the newest period with 12 months after
    assert len(data.rows) > 1_000 and 30 <= data.bad.sum() < len(data.rows) / 5
    assert set(data.excluded) == {"no_file_at_observation", "unscorable", "already_bad"}
    with session_scope(bureau.runtime.engine) as session:
        s = AccountState.__table__.c
        went_bad = {r[0] for r in session.execute(select(s.person_id).where(
            s.reporting_period > "2025-06", s.reporting_period <= "2026-06", s.held_reason.is_(None),
            s.product_type.not_in(["utility", "telecom", "rent"]),
            s.payment_status.in_(["4", "5", "6", "7"]) | (s.account_status == "charged_off")))}
    assert {p for p, b in zip(data.person_ids, data.bad, strict=True) if b} == went_bad & set(data.person_ids)
    assert card.training["observation_period"] == "2025-06"
    # About 18 bads are held out by one split, so one split's AUC ranges from 0.64 to 0.84 with the split's seed
    # (and the rows' order follows person ids, which may differ between runs). The test asks for a working model
    # over five splits, each better than chance and their median clearly so (a median of 0.70 was still missed
    # once in a few dozen runs); the benchmark (bench/scoring.py) asks for an accurate one.
    aucs = [card.validation["auc"]] + [training.train_bureau(data, scale=SCALES["300-850"], version="seed",
                                                             seed=s).validation["auc"] for s in range(4)]
    assert min(aucs) > 0.55 and float(np.median(aucs)) > 0.65, aucs


def test_a_released_model_scores_every_inquiry_with_reasons(bureau, registered, monkeypatch) -> None:
    runtime = bureau.runtime
    _, card = registered
    # Released now, after any release another test made, and read at once: the newest release scores.
    monkeypatch.setattr(service, "RELEASE_CHECK_SECONDS", 0.0)
    with session_scope(runtime.engine, write=True) as session:
        service.release(session, version=card.model_version, actor_code="OPERATOR:test")
    # BANK_A reviews borrowers whose open account it furnished with their consent (the existing-account
    # exception): its last file's consenting, open resident-ID accounts.
    latest = next(e for e in sim.read_manifest(bureau.market) if e.furnisher == "BANK_A" and e.period == END)
    borrowers = pl.read_csv(latest.path, infer_schema=False).filter(
        pl.col("consent_ref").is_not_null() & (pl.col("id_type") == "CN_RESIDENT_ID")
        & (pl.col("account_status") == "open"))
    scored = []
    for id_number in borrowers["id_number"].drop_nulls().unique().sort().to_list()[:50]:
        try:
            with session_scope(runtime.engine, write=True) as session:
                result = reports.inquire(session, vault=runtime.vault,
                                         principal=Principal.of_member(get_member(session, code="BANK_A")),
                                         policy=CN, now=NOW, request=InquiryCreate(
                                             subject=Subject(id_type="CN_RESIDENT_ID", id_number=id_number),
                                             purpose=Purpose.ACCOUNT_REVIEW))
        except Forbidden:  # the bureau holds the account's records (no consent in force): no existing account
            continue
        if result.report is not None and result.report.score is not None:
            scored.append(result.report.score)
    assert len(scored) >= 30 and {s.model_version for s in scored} == {card.model_version}
    good = [s for s in scored if s.scorable]
    assert good and all(300 <= s.score <= 850 and s.band for s in good)
    assert all(len(s.reasons) <= 5 and s.improvements is None for s in good)  # the lender sees no advice
    low = min(good, key=lambda s: s.score)
    assert low.reasons and all(r.points > 0 for r in low.reasons)
    assert [r.points for r in low.reasons[:4]] == sorted((r.points for r in low.reasons[:4]), reverse=True)
    with session_scope(runtime.engine, write=True) as session:
        own = reports.own_report(session, vault=runtime.vault, principal=Principal.operator("OPERATOR:test"),
                                 policy=CN, now=NOW,
                                 subject=Subject(id_type="CN_RESIDENT_ID", id_number=borrowers["id_number"].drop_nulls().sort()[0]))
    assert own.score is not None and (own.score.improvements is not None or not own.score.scorable)
    with session_scope(runtime.engine) as session:
        actions = [e.action for e in audit.list_entries(session, limit=1000)]
    assert "model.register" in actions and "model.release" in actions


def test_the_registry_refuses_what_it_cannot_do(bureau, registered, tmp_path) -> None:
    runtime = bureau.runtime
    _, card = registered
    with pytest.raises(Conflict), session_scope(runtime.engine, write=True) as session:
        service.register(session, card=card, actor_code="OPERATOR:test")
    with pytest.raises(NotFound), session_scope(runtime.engine, write=True) as session:
        service.release(session, version="no-such-model", actor_code="OPERATOR:test")
    table = tmp_path / "t.csv"
    table.write_text("x,y\n" + "".join(f"{i},{int(i % 3 == 0)}\n" for i in range(600)))
    tabular = training.train_table(training.read_table(table, target="y"), scale=SCALES["300-850"],
                                   version="table-x", source="t.csv", target="y")
    with pytest.raises(Unprocessable) as err, session_scope(runtime.engine, write=True) as session:
        service.register(session, card=tabular, actor_code="OPERATOR:test")
        service.release(session, version="table-x", actor_code="OPERATOR:test")
    assert err.value.code == "MODEL_NOT_RELEASABLE"
    with session_scope(runtime.engine) as session:
        listed = {m.version: m for m in service.list_models(session)}
        stored = json.loads(service.artefact_text(service.load(session, card.model_version)))
    assert listed[card.model_version].auc == pytest.approx(card.validation["auc"])
    assert stored == json.loads(service.artefact_text(card))  # the registry returns the model as trained


def test_a_later_release_reaches_the_inquiry_path(bureau, trained, monkeypatch) -> None:
    runtime = bureau.runtime
    data, card = trained
    monkeypatch.setattr(service, "RELEASE_CHECK_SECONDS", 0.0)
    newer = training.train_bureau(data, scale=SCALES["350-950"], version=f"{card.model_version}-950")
    with session_scope(runtime.engine, write=True) as session:
        service.register(session, card=newer, actor_code="OPERATOR:test")
        service.release(session, version=newer.model_version, actor_code="OPERATOR:test")
    with session_scope(runtime.engine) as session:
        released = service.released_model(session)
    assert released.model_version == newer.model_version and released.scale.name == "350-950"


def test_the_bureau_training_job_registers_and_releases_its_model(bureau, monkeypatch) -> None:
    runtime = bureau.runtime
    monkeypatch.setattr(service, "RELEASE_CHECK_SECONDS", 0.0)
    card, data = service.train_on_bureau(runtime.engine, scale=SCALES["300-850"], actor_code="OPERATOR:test",
                                         prefix="job", release_it=True)
    # By default six months before the newest period with a whole outcome (2025-06), held to three months of files
    # after the market's first (2025-01): so that the default evaluation is out-of-time.
    assert data.observation_period == "2025-03"
    assert card.model_version.startswith("job-2025-03-") and card.kind == "bureau"
    with session_scope(runtime.engine) as session:
        assert service.released_model(session).model_version == card.model_version


def test_the_default_periods_hold_out_a_later_month_or_say_why_they_cannot(bureau) -> None:
    from openbureau.scoring.training_set import default_periods

    with session_scope(bureau.runtime.engine) as session:
        periods = default_periods(session)
        # 16 months of outcome leave the validation period (2025-02) before three months of files (2025-03).
        short = default_periods(session, outcome_months=16)
    assert (periods.training, periods.validation, periods.out_of_time) == ("2025-03", "2025-06", True)
    assert "3 months later" in periods.note
    assert (short.training, short.validation, short.out_of_time) == ("2025-02", "2025-02", False)
    assert "only validation is the in-time hold-out" in short.note


# Model governance: recalibration on a held-out period, and the fairness report.

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


# The demo's printed AUC is the figure ``model evaluate`` prints by default: the same rows (the files of the newest
# period with a whole outcome, out-of-time for a model trained at the default period), labelled the same way, to the
# same digits. Here, last in the module, so that it trains on the bureau the tests above share.

@pytest.fixture
def bureau_env(bureau, monkeypatch):
    """The environment names the test market's bureau, as a user's shell would (the settings read afresh)."""
    settings = bureau.runtime.settings
    monkeypatch.setenv("OPENBUREAU_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("OPENBUREAU_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("OPENBUREAU_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "400")
    get_settings.cache_clear()
    yield bureau
    get_settings.cache_clear()


def test_the_demo_prints_the_validation_auc_that_model_evaluate_prints(bureau_env) -> None:
    bureau = bureau_env
    with demo.console.capture() as captured:
        demo._train_and_release(bureau.runtime, months=18)
    printed = " ".join(captured.get().split())
    version = re.search(r"Scorecard (\S+) trained on [\d,]+ files observed at 2025-03 ", printed).group(1)
    shown = re.search(r"validation, out-of-time \(2025-06, ([\d,]+) files none of which training saw\): AUC "
                      r"(0\.\d{4}), KS (0\.\d{4})", printed)
    assert shown is not None, printed

    evaluated = CliRunner().invoke(app, ["model", "evaluate", "--model", version, "--no-fairness"])
    assert evaluated.exit_code == 0, evaluated.output
    lines = " ".join(evaluated.output.split())
    later = re.search(r"on the bureau observed at 2025-06, validation, out-of-time \(observed at 2025-06, later than "
                      r"the training observation \(2025-03\)\): ([\d,]+) rows, bad rate [\d.]+%, AUC (0\.\d{4}), KS "
                      r"(0\.\d{4})", lines)
    assert later is not None, lines
    assert later.groups() == shown.groups()
    assert "in-sample" not in lines  # out-of-time: no row of the evaluation was one the model was fitted on
