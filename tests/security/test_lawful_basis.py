"""Attacks on the lawful basis of an inquiry: no consent may be manufactured and no exception abused.

The existing-account exception (CN post-loan management, FCRA §604(a)(3)(A)) rests only on an account of
the asking member that is part of the person's file; consents a member records for itself need evidence,
and their subject must be a well-formed identity document.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from openbureau.consent.profiles import PROFILES, Purpose, get_profile
from openbureau.consent.schemas import ConsentCreate, Evidence, Subject
from openbureau.documents import resident_id
from openbureau.inquiries.access import EXISTING_ACCOUNT_STATUSES
from openbureau.intake import quarantine
from openbureau.intake import service as intake
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Forbidden, Unprocessable
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports import service
from openbureau.reports.schemas import InquiryCreate
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member
from tests.reports.factories import furnish, month

VICTIM = PEOPLE[0][0]
NOW = datetime.now(UTC)


def _review(runtime, code: str, id_number: str = VICTIM, purpose: Purpose = Purpose.ACCOUNT_REVIEW,
            profile: str = "CN", now: datetime | None = None):
    with session_scope(runtime.engine, write=True) as session:
        return service.inquire(
            session, vault=runtime.vault, principal=Principal.of_member(get_member(session, code=code)),
            policy=Policy(profile=get_profile(profile), reciprocity=False), now=now,
            request=InquiryCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=id_number), purpose=purpose))


def _refused(runtime, code: str, **kwargs) -> str:
    with pytest.raises(Forbidden) as err:
        _review(runtime, code, **kwargs)
    return err.value.code


@pytest.fixture
def snoop(runtime):
    """SNOOP furnishes and subscribes; the victim never consented to it. BANK_A, the victim's real lender,
    holds a consent to furnish and has an open account."""
    make_member(runtime, "SNOOP", Role.FURNISHER, Role.SUBSCRIBER)
    make_member(runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER)
    grant(runtime, "BANK_A", VICTIM)
    return runtime


def test_a_one_line_file_held_for_want_of_consent_does_not_open_the_file(snoop, tmp_path) -> None:
    furnish(snoop, "BANK_A", [month(0, "REAL-1", "2026-10")], tmp_path)
    loaded = furnish(snoop, "SNOOP", [person(0, furnisher_account_id="FAKE-1", reporting_period="2026-10")], tmp_path)
    assert loaded.records_quarantined == 1  # the planted record is held: the person never agreed
    assert _refused(snoop, "SNOOP") == "CONSENT_REQUIRED"
    assert _refused(snoop, "SNOOP", profile="US") == "CONSENT_REQUIRED"
    assert _review(snoop, "BANK_A").basis.startswith("exception")  # the real lender's review goes on


def test_the_exception_needs_an_account_opened_before_the_inquiry(snoop, tmp_path) -> None:
    furnish(snoop, "BANK_A", [month(0, "LATER", "2026-10", opened_on="2026-10-25")], tmp_path)
    assert _refused(snoop, "BANK_A", now=datetime(2026, 10, 20, tzinfo=UTC)) == "CONSENT_REQUIRED"
    assert _review(snoop, "BANK_A", now=datetime(2026, 10, 26, tzinfo=UTC)).person_found


def test_the_exception_needs_an_account_that_still_exists(snoop, tmp_path) -> None:
    furnish(snoop, "BANK_A", [month(0, "GONE", "2026-09"), month(0, "GONE", "2026-10", "C")], tmp_path)
    assert _refused(snoop, "BANK_A") == "CONSENT_REQUIRED"  # closed: nothing left to review
    furnish(snoop, "BANK_A", [month(0, "DEL", "2026-10", account_status="deleted")], tmp_path)
    assert _refused(snoop, "BANK_A") == "CONSENT_REQUIRED"


def test_collection_of_a_charged_off_account_is_an_existing_account_us(snoop, tmp_path) -> None:
    furnish(snoop, "BANK_A", [month(0, "CO", "2026-10", "7", account_status="charged_off")], tmp_path)
    assert _review(snoop, "BANK_A", purpose=Purpose.COLLECTIONS, profile="US").basis.startswith("exception")
    assert _refused(snoop, "BANK_A", purpose=Purpose.ACCOUNT_REVIEW, profile="US") == "CONSENT_REQUIRED"


def test_every_profile_exception_names_the_accounts_it_rests_on() -> None:
    for profile in PROFILES.values():
        for purpose in profile.existing_customer_exceptions:
            assert EXISTING_ACCOUNT_STATUSES[purpose]


def _consent(**evidence) -> ConsentCreate:
    return ConsentCreate(consent_ref="L-1", subject=Subject(id_type="CN_RESIDENT_ID", id_number=VICTIM),
                         purpose=Purpose.LOAN_ORIGINATION,
                         evidence=Evidence(**{"channel": "app", "captured_at": NOW, "document_hash": "ab" * 32,
                                              **evidence}))


@pytest.mark.parametrize("evidence", [
    {"document_hash": None}, {"document_hash": "x"}, {"document_hash": "not a hash at all, just words!!"},
    {"channel": "telepathy"}, {"channel": ""},
])
def test_a_consent_without_real_evidence_is_refused(evidence) -> None:
    with pytest.raises(ValidationError):
        _consent(**evidence)


def test_evidence_dated_in_the_future_is_refused(snoop) -> None:
    with session_scope(snoop.engine, write=True) as session, pytest.raises(Unprocessable) as err:
        quarantine.grant_consent(session, vault=snoop.vault, profile=snoop.policy.profile, actor=get_member(session, code="SNOOP"),
                                 data=_consent(captured_at=NOW + timedelta(days=30)), now=NOW)
    assert err.value.code == "EVIDENCE_IN_FUTURE"
    with session_scope(snoop.engine, write=True) as session, pytest.raises(Unprocessable) as err:
        quarantine.grant_consent(session, vault=snoop.vault, profile=snoop.policy.profile, actor=get_member(session, code="SNOOP"),
                                 data=_consent().model_copy(update={"valid_from": NOW - timedelta(days=400)}), now=NOW)
    assert err.value.code == "INVALID_WINDOW"  # it cannot cover a time before it was given


@pytest.mark.parametrize(("id_type", "id_number", "code"), [
    ("CN_RESIDENT_ID", "110101199003071234", "ID_CHECK_DIGIT"),
    ("CN_RESIDENT_ID", resident_id("990101", "19900307", "123"), "ID_REGION"),
    ("CN_RESIDENT_ID", "12345", "ID_FORMAT"),
    ("PASSPORT", "E-12", "PASSPORT_FORMAT"),
])
def test_a_consent_subject_passes_the_same_checks_as_intake(id_type, id_number, code) -> None:
    with pytest.raises(ValidationError) as err:
        Subject(id_type=id_type, id_number=id_number)
    assert code in str(err.value)


def test_a_consent_file_needs_evidence_and_valid_subjects(snoop, tmp_path) -> None:
    good = resident_id("110101", "19900307", "123")
    header = "consent_ref,id_type,id_number,purpose,granted_at,channel,evidence_hash"
    rows = [header,
            f"G1,CN_RESIDENT_ID,{good},loan_origination,2026-01-01T00:00:00Z,app,{'ab' * 32}",
            f"B1,CN_RESIDENT_ID,110101199003071234,loan_origination,2026-01-01T00:00:00Z,app,{'ab' * 32}",
            f"B2,CN_RESIDENT_ID,{good},loan_origination,2026-01-01T00:00:00Z,app,",
            f"B3,CN_RESIDENT_ID,{good},loan_origination,2026-01-01T00:00:00Z,carrier_pigeon,{'ab' * 32}",
            f"B4,CN_RESIDENT_ID,{good},loan_origination,2099-01-01T00:00:00Z,app,{'ab' * 32}",
            f"B5,CN_RESIDENT_ID,{good},loan_origination,2026-01-01T00:00:00Z,app,zz"]
    path = tmp_path / "consents.csv"
    path.write_text("\n".join(rows) + "\n")
    with session_scope(snoop.engine) as session:
        actor = get_member(session, code="SNOOP")
    outcome, _ = quarantine.import_consents(snoop.engine, vault=snoop.vault, profile=snoop.policy.profile, actor=actor,
                                            path=path, now=NOW)
    assert (outcome.created, outcome.rejected) == (1, 5)
    assert [(f.line, f.code) for f in outcome.findings] == [
        (3, "ID_CHECK_DIGIT"), (4, "REQUIRED_MISSING"), (5, "INVALID_ENUM"), (6, "EVIDENCE_IN_FUTURE"),
        (7, "INVALID_EVIDENCE_HASH")]


def test_an_inquiry_about_a_malformed_id_says_so(snoop) -> None:
    with pytest.raises(ValidationError) as err:
        InquiryCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number="110101199003071234"),
                      purpose=Purpose.LOAN_ORIGINATION)
    assert "ID_CHECK_DIGIT" in str(err.value)


def test_consent_and_intake_normalise_an_id_number_alike(snoop, tmp_path) -> None:
    """A consent written with spaces and lower case matches the records of the same person."""
    spaced = " ".join(VICTIM[i:i + 4] for i in range(0, 18, 4)).lower()
    grant(snoop, "SNOOP", spaced)
    loaded = furnish(snoop, "SNOOP", [person(0, furnisher_account_id="S-1", reporting_period="2026-10")], tmp_path)
    assert loaded.records_quarantined == 0
    path = write_file(tmp_path / "spaced.csv", [person(0, id_number=spaced, furnisher_account_id="S-2",
                                                       reporting_period="2026-10")])
    again = intake.submit(snoop.engine, settings=snoop.settings, policy=snoop.policy, furnisher_code="SNOOP", path=path).submission
    assert (again.records_accepted + again.records_warnings, again.records_quarantined) == (1, 0)
