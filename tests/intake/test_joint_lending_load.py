"""Standard v1.1 at load: funders, the facilitator and related persons stored with each account state version,
linked like the borrower, sealed, held without their consent (the account still loads), replaced by a
correction, discarded with a failed load; a v1 file loads exactly as before."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from openbureau.accounts.models import AccountFunder, AccountParty, AccountState
from openbureau.identity.models import Person
from openbureau.identity.service import open_identity
from openbureau.intake import quarantine, service, standard
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member

TODAY = date(2026, 11, 22)
BORROWER, GUARANTOR, CO_BORROWER = PEOPLE[0], PEOPLE[1], PEOPLE[2]


def party(n: int, who: tuple[str, str, str], role: str, **extra: str | None) -> dict[str, str | None]:
    """The columns of related person ``n``."""
    id_number, birth, name = who
    return {f"party_{n}_role": role, f"party_{n}_id_type": "CN_RESIDENT_ID", f"party_{n}_id_number": id_number,
            f"party_{n}_full_name": name, f"party_{n}_birth_date": birth,
            **{f"party_{n}_{k}": v for k, v in extra.items()}}


FUNDERS = {"facilitator_code": "PLAT_A", "funder_1_code": "BANK_A", "funder_1_share": "6000",
           "funder_2_code": "FUND_B", "funder_2_share": "4000"}


def joint_record(**overrides: str | None) -> dict[str, str | None]:
    return person(0, **{**FUNDERS, **party(1, GUARANTOR, "guarantor", liability="3000000", consent_ref="CG-1"),
                        **party(2, CO_BORROWER, "co_borrower"), **overrides})


@pytest.fixture
def market(runtime):
    for code in ("BANK_A", "FUND_B", "PLAT_A"):
        make_member(runtime, code, Role.FURNISHER)
    grant(runtime, "BANK_A", BORROWER[0])
    grant(runtime, "BANK_A", GUARANTOR[0])  # the co-borrower gave none
    return runtime


def _submit(runtime, path):
    return service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A",
                          path=path, today=TODAY).submission


def _rows(runtime, model):
    with session_scope(runtime.engine) as session:
        return session.execute(select(model).order_by(*model.__table__.primary_key.columns)).scalars().all()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_funders_and_parties_are_stored_with_the_state(market, tmp_path, suffix) -> None:
    submission = _submit(market, write_file(tmp_path / f"sep{suffix}", [joint_record()]))
    assert (submission.records_accepted, submission.records_rejected, submission.records_quarantined) == (1, 0, 0)
    assert submission.parties_held == 1  # the co-borrower, without consent: held and counted
    with session_scope(market.engine) as session:
        state = session.execute(select(AccountState)).scalar_one()
        persons = {p.id: p for p in session.execute(select(Person)).scalars()}
    funders = _rows(market, AccountFunder)
    assert [(f.position, f.share_bp, f.version) for f in funders] == [(1, 6000, 1), (2, 4000, 1)]
    assert state.facilitator_id is not None and state.facilitator_id not in {f.funder_id for f in funders}
    guarantor, co_borrower = _rows(market, AccountParty)
    assert (guarantor.role, guarantor.liability, guarantor.held_reason, guarantor.consent_ref) == (
        "guarantor", 3000000, None, "CG-1")
    assert (co_borrower.role, co_borrower.held_reason) == ("co_borrower", quarantine.NO_CONSENT)
    # Linked by the borrower's linking: a person per document, distinct from the borrower.
    assert len({state.person_id, guarantor.person_id, co_borrower.person_id}) == 3
    assert {guarantor.person_id, co_borrower.person_id} <= set(persons)
    # Sealed: the name is not stored in clear, and opens with the bureau's keys.
    assert GUARANTOR[2].encode() not in guarantor.identity_enc
    assert open_identity(market.vault, guarantor.identity_enc)["full_name"] == GUARANTOR[2]
    assert open_identity(market.vault, guarantor.identity_enc)["birth_date"] == GUARANTOR[1]


def test_a_party_who_is_a_borrower_elsewhere_is_the_same_person(market, tmp_path) -> None:
    _submit(market, write_file(tmp_path / "sep.csv", [joint_record(), person(1, furnisher_account_id="ACC-G")]))
    states = {s.furnisher_account_id: s.person_id for s in _rows(market, AccountState)}
    guarantor = _rows(market, AccountParty)[0]
    assert guarantor.person_id == states["ACC-G"]


def test_a_correction_replaces_the_funders_and_parties_of_the_period(market, tmp_path) -> None:
    _submit(market, write_file(tmp_path / "sep.csv", [joint_record()]))
    corrected = joint_record(correction="1", funder_1_share="10000", funder_2_code=None, funder_2_share=None,
                             **dict.fromkeys(party(2, CO_BORROWER, "co_borrower")))
    submission = _submit(market, write_file(tmp_path / "sep-fix.csv", [corrected]))
    assert submission.records_rejected == 0 and submission.parties_held == 0
    funders = [(f.version, f.position, f.share_bp) for f in _rows(market, AccountFunder)]
    assert funders == [(1, 1, 6000), (1, 2, 4000), (2, 1, 10000)]  # the replaced version keeps its own
    parties = [(p.version, p.position, p.role) for p in _rows(market, AccountParty)]
    assert parties == [(1, 1, "guarantor"), (1, 2, "co_borrower"), (2, 1, "guarantor")]


def test_an_invalid_joint_record_is_rejected_whole(market, tmp_path) -> None:
    bad = joint_record(funder_2_code="NOBODY", party_2_id_number=BORROWER[0], party_2_birth_date=BORROWER[1])
    submission = _submit(market, write_file(tmp_path / "sep.csv", [bad]))
    assert submission.records_rejected == 1
    assert {"FUNDER_UNKNOWN", "PARTY_IS_BORROWER"} <= set(submission.finding_counts)
    assert _rows(market, AccountState) == [] and _rows(market, AccountParty) == [] and _rows(market, AccountFunder) == []


def test_a_v1_file_loads_exactly_as_before(market, tmp_path) -> None:
    rows = [person(0), person(3, furnisher_account_id="ACC-2")]  # the second without a consent
    v1 = _submit(market, write_file(tmp_path / "v1.csv", rows, columns=list(standard.V1_COLUMNS)))
    assert (v1.records_accepted, v1.records_rejected, v1.records_quarantined, v1.parties_held) == (2, 0, 1, 0)
    assert v1.finding_counts in (None, {})
    assert [(s.facilitator_id, s.facilitator_account_id) for s in _rows(market, AccountState)] == [(None, None)] * 2
    assert _rows(market, AccountParty) == [] and _rows(market, AccountFunder) == []


def test_a_merge_moves_the_related_person_rows_and_a_failed_load_leaves_none(market, tmp_path) -> None:
    from openbureau.accounts import service as accounts
    from openbureau.intake.loader import _discard

    submission = _submit(market, write_file(tmp_path / "sep.csv", [joint_record()]))
    guarantor = _rows(market, AccountParty)[0]
    with session_scope(market.engine, write=True) as session:
        target = session.execute(select(Person.id).where(Person.id != guarantor.person_id)).scalars().first()
        accounts.move_person(session, from_person_id=guarantor.person_id, to_person_id=target)
    assert _rows(market, AccountParty)[0].person_id == target
    # A load discarded (as after a crash) takes its funders and parties with its states.
    _discard(market.engine, submission_id=submission.id, furnisher_id=_rows(market, AccountState)[0].furnisher_id,
             first_person_id=10**9)
    assert _rows(market, AccountState) == [] and _rows(market, AccountParty) == [] and _rows(market, AccountFunder) == []
