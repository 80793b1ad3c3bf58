"""The policy object: built once per bureau from its settings, frozen, and the only source of thresholds."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from openbureau.consent.profiles import PROFILES, Purpose
from openbureau.kit.settings import Settings
from openbureau.policy import Policy, QualitySettings, SignalSettings, build_policy
from openbureau.reports import assembly


def test_the_policy_is_built_from_the_settings_and_their_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OPENBUREAU_SIGNAL_MULTI_LENDING_7D", "2")
    monkeypatch.setenv("OPENBUREAU_QUALITY_MIN_CELL_PERSONS", "25")
    policy = build_policy(Settings(data_dir=tmp_path, jurisdiction="US", reciprocity=True, balance_tolerance=0.2))
    assert policy.profile is PROFILES["US"] and policy.reciprocity is True and policy.balance_tolerance == 0.2
    assert build_policy(Settings(data_dir=tmp_path)).balance_tolerance == Policy(
        profile=PROFILES["CN"], reciprocity=False).balance_tolerance == 0.10  # one default for both
    assert policy.signals.multi_lending_7d == 2 and policy.quality.min_cell_persons == 25
    assert policy.grantee_role[Purpose.FURNISH] == "furnisher"
    assert policy.grantee_role[Purpose.LOAN_ORIGINATION] == "subscriber"
    assert Purpose.SELF_INQUIRY not in policy.grantee_role  # no member holds a consent for it
    with pytest.raises(TypeError):
        policy.grantee_role[Purpose.SELF_INQUIRY] = "subscriber"  # read-only


def test_a_bureau_has_one_frozen_policy(sqlite_runtime) -> None:
    policy = sqlite_runtime.policy
    assert policy is sqlite_runtime.policy and policy.profile is PROFILES["CN"] and policy.reciprocity is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.reciprocity = True


def test_report_assembly_needs_the_policy_and_has_no_default_of_its_own() -> None:
    for function in (assembly.assemble, assembly.read_file):
        parameter = inspect.signature(function).parameters["policy"]
        assert parameter.default is inspect.Parameter.empty and parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert not hasattr(assembly, "get_signal_settings") and not hasattr(assembly, "SignalSettings")


def test_thresholds_are_values_of_the_policy_not_of_the_process() -> None:
    low = Policy(profile=PROFILES["CN"], reciprocity=False, signals=SignalSettings(multi_lending_7d=1),
                 quality=QualitySettings(min_cell_persons=3))
    assert low.signals.multi_lending()[7] == 1 and Policy(profile=PROFILES["CN"], reciprocity=False
                                                          ).signals.multi_lending()[7] == 3
