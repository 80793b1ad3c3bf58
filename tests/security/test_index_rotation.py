"""Blind-index key rotation: lookups keep working while every index is recomputed under a new key.

The threat: the index key leaks, and with it the power to test guessed ID numbers against the database's
blind indexes. Rotating makes a new index key current and recomputes every blind index (persons, consents)
while the bureau serves; persons and consents are found throughout, and afterwards the old key matches
nothing.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from openbureau.cli.main import app
from openbureau.consent.models import Consent
from openbureau.consent.profiles import Purpose, get_profile
from openbureau.consent.schemas import Subject
from openbureau.documents import resident_id
from openbureau.identity.models import Person
from openbureau.intake import service as intake
from openbureau.kit.crypto import PiiVault, load_keys, rotate_index_key
from openbureau.kit.db import session_scope
from openbureau.kit.keyrotation import index_columns, reindex
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.migrations.metadata import target_metadata
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member
from tests.security.factories import cli_env

runner = CliRunner()
ORPHAN = resident_id("110101", "19800101", "555")  # consented, never furnished


@pytest.fixture
def bureau(runtime, tmp_path, monkeypatch):
    make_member(runtime, "BANK_A", Role.FURNISHER)
    make_member(runtime, "LENDER", Role.SUBSCRIBER)
    for number, _, _ in PEOPLE:
        grant(runtime, "BANK_A", number)
        grant(runtime, "LENDER", number, Purpose.LOAN_ORIGINATION, ref=f"L-{number[-4:]}")
    grant(runtime, "LENDER", ORPHAN, Purpose.LOAN_ORIGINATION, ref="L-ORPHAN")
    rows = [person(i, furnisher_account_id=f"A{i}") for i in range(len(PEOPLE))]
    intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A",
                  path=write_file(tmp_path / "first.csv", rows), today=date(2026, 11, 22))
    with cli_env(runtime, monkeypatch):
        yield runtime


def _inquire(runtime, vault: PiiVault, number: str):
    with session_scope(runtime.engine, write=True) as session:
        return reports.inquire(session, vault=vault, principal=Principal.of_member(get_member(session, code="LENDER")),
                               policy=Policy(profile=get_profile("CN"), reciprocity=False), request=InquiryCreate(
                                   subject=Subject(id_type="CN_RESIDENT_ID", id_number=number),
                                   purpose=Purpose.LOAN_ORIGINATION))


def _indexes(runtime) -> set[bytes]:
    with session_scope(runtime.engine) as session:
        return {bytes(i) for i in session.scalars(select(Person.id_index))} | {
            bytes(i) for i in session.scalars(select(Consent.subject_id_index))}


def test_lookups_work_before_during_and_after_a_rotation(bureau, tmp_path) -> None:
    old = PiiVault(load_keys(bureau.settings))
    before = _indexes(bureau)
    assert all(_inquire(bureau, old, n).report is not None for n, _, _ in PEOPLE)

    rotate_index_key(bureau.settings)
    rotating = PiiVault(load_keys(bureau.settings))
    assert rotating.index_rotating
    persons = next(c for c in index_columns(target_metadata) if c.table.name == "persons")
    assert reindex(bureau.engine, persons, rotating) == len(PEOPLE)  # halfway: persons done, consents not
    for number, _, _ in PEOPLE:  # the person under the new key, their consent still under the old one
        result = _inquire(bureau, rotating, number)
        assert result.report is not None and result.basis.startswith("consent:")
    # A file loaded halfway links to the same persons and finds their consents to furnish.
    loaded = intake.submit(bureau.engine, settings=bureau.settings, policy=bureau.policy, furnisher_code="BANK_A", today=date(2026, 11, 22),
                           path=write_file(tmp_path / "mid.csv", [person(0, furnisher_account_id="MID")])).submission
    assert loaded.records_quarantined == 0
    with session_scope(bureau.engine) as session:
        assert session.scalar(select(func.count()).select_from(Person)) == len(PEOPLE)

    finished = runner.invoke(app, ["keys", "rotate-index", "--resume"])
    assert finished.exit_code == 0, finished.output
    new = PiiVault(load_keys(bureau.settings))
    assert not new.index_rotating
    after = _indexes(bureau)
    assert not before & after  # every index recomputed: the leaked key matches nothing
    assert all(_inquire(bureau, new, n).report is not None for n, _, _ in PEOPLE)
    with session_scope(bureau.engine) as session:
        orphan = session.scalar(select(Consent.subject_id_index).where(Consent.consent_ref == "L-ORPHAN"))
    assert bytes(orphan) == new.blind_index(ORPHAN, domain="CN_RESIDENT_ID")


def test_a_serving_vault_follows_a_rotation_started_elsewhere(bureau) -> None:
    from openbureau.kit.keyfile import key_file_path

    serving = PiiVault(load_keys(bureau.settings), reload=lambda: load_keys(bureau.settings),
                       watch=key_file_path(bureau.settings.data_dir))
    assert not serving.index_rotating
    rotate_index_key(bureau.settings)
    serving._checked -= 2  # a second has passed
    assert serving.index_rotating and len(serving.index_candidates(PEOPLE[0][0], domain="CN_RESIDENT_ID")) == 2


def test_a_second_rotation_waits_for_the_first(bureau) -> None:
    rotate_index_key(bureau.settings)
    again = runner.invoke(app, ["keys", "rotate-index"])
    assert again.exit_code != 0 and "ROTATION_UNFINISHED" in again.output
