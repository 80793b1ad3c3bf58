"""The report follows the bureau's policy: its signal thresholds and its jurisdiction profile (both engines)."""

from __future__ import annotations

from openbureau.consent.profiles import PROFILES
from openbureau.consent.schemas import Subject
from openbureau.kit.db import session_scope
from openbureau.policy import Policy, SignalSettings
from openbureau.principals import Principal
from openbureau.reports import service
from tests.reports.conftest import ID, NOW

AT_COUNTER = Principal.operator("OPERATOR:test")


def _own(runtime, policy: Policy):
    with session_scope(runtime.engine, write=True) as session:
        return service.own_report(session, vault=runtime.vault, subject=Subject(id_type="CN_RESIDENT_ID", id_number=ID),
                                  principal=AT_COUNTER, policy=policy, now=NOW)


def test_the_signal_thresholds_and_the_profile_come_from_the_policy(market) -> None:
    runtime, _ = market
    default = _own(runtime, runtime.policy)
    strict = _own(runtime, Policy(profile=PROFILES["US"], reciprocity=False,
                                  signals=SignalSettings(multi_lending_30d=1, multi_lending_90d=1)))
    lending = {r.jurisdiction: next(s for s in r.signals if s.code == "MULTI_LENDING") for r in (default, strict)}
    assert lending["CN"].thresholds["lenders_30d"] == 5 and not lending["CN"].triggered
    assert lending["US"].thresholds["lenders_30d"] == 1 and lending["US"].triggered  # OTHER opened in October
    assert default.summary.currency == "CNY" and strict.summary.currency == "USD"
