"""A period written from the store carries the stored related persons as J1 segments (ECOA 2 a co-borrower, 5 a
guarantor), on both engines; a related person held for want of consent never appears in the file."""

from __future__ import annotations

from datetime import date

from openbureau.audit import service as audit
from openbureau.intake import service
from openbureau.intake.metro2_out import write_period
from openbureau.members.models import Role
from openbureau.metro2 import base, read
from openbureau.metro2.mapping import to_standard
from tests.consent.factories import grant
from tests.intake.test_metro2_parties import CO, GUARANTOR, USER
from tests.members.factories import make_member
from tests.metro2.factories import CONSUMERS, consumer_file, consumer_values

TODAY = date(2026, 11, 22)
PARTY = ("role", "id_type", "id_number", "full_name", "birth_date")


def _joint():
    """A loan of consumer 0 with a co-borrower (J1), a guarantor (J2), an authorised user and the co-borrower
    again; and a loan of consumer 1 with consumer 3 as guarantor."""
    return [base(consumer_values(0, "JOINT-1"), ("J1", CO), ("J2", GUARANTOR), ("J1", USER), ("J1", CO)),
            base(consumer_values(1, "JOINT-2"),
                 ("J1", {**CO, "social_security_number": CONSUMERS[3][0], "surname": CONSUMERS[3][1],
                         "first_name": CONSUMERS[3][2], "date_of_birth": CONSUMERS[3][3], "ecoa_code": "5"}))]


def _parties(path) -> dict[str, list[tuple]]:
    """The related persons of each account of a Metro 2 file, as the standard's party columns."""
    found = {}
    for record in read(path):
        if record.kind == "base":
            row = to_standard(record)
            found[row["furnisher_account_id"]] = [tuple(row[f"party_{n}_{s}"] for s in PARTY) for n in range(1, 5)
                                                  if row[f"party_{n}_role"] is not None]
    return found


def _load(bureau, path):
    return service.submit(bureau.engine, settings=bureau.settings, policy=bureau.policy, furnisher_code="BANK_US",
                          path=path, today=TODAY).submission


def test_the_stored_parties_are_written_as_associated_consumers(us_bureau, tmp_path) -> None:
    source = tmp_path / "joint.m2"
    source.write_bytes(consumer_file(1, records=_joint()))
    loaded = _load(us_bureau, source)
    assert (loaded.records_received, loaded.records_rejected, loaded.parties_held) == (3, 0, 0)

    out = tmp_path / "written.m2"
    written = write_period(us_bureau.engine, vault=us_bureau.vault, principal=audit.terminal_operator(),
                           furnisher_code="BANK_US", period="2026-09", out=out)
    assert (written.records, written.parties, written.parties_unwritable) == (3, 3, 0)
    assert _parties(out) == _parties(source)
    assert _parties(out)["JOINT-1"] == [
        ("co_borrower", "OTHER", CO["social_security_number"], f"{CO['first_name']} {CO['surname']}",
         CO["date_of_birth"].isoformat()),
        ("guarantor", "OTHER", GUARANTOR["social_security_number"],
         f"{GUARANTOR['first_name']} {GUARANTOR['surname']}", GUARANTOR["date_of_birth"].isoformat())]
    # Written as J1 segments with the role's ECOA code; the account without parties has none.
    segments = {r.main["consumer_account_number"].strip(): [(s.name, s.values["ecoa_code"]) for s in r.segments[1:]]
                for r in read(out) if r.kind == "base"}
    assert segments == {"M2-0000": [], "JOINT-1": [("J1", "2"), ("J1", "5")], "JOINT-2": [("J1", "5")]}


def test_a_party_without_consent_never_appears_in_the_file(runtime, tmp_path) -> None:
    """Under a profile that asks for consent to furnish: the borrowers and the co-borrower consented, the
    guarantors did not; the guarantors are held at load and left out of the written file, whole."""
    make_member(runtime, "BANK_US", Role.FURNISHER)
    assert CO["social_security_number"] == CONSUMERS[1][0]  # the co-borrower of JOINT-1 borrows JOINT-2
    for ssn in (CONSUMERS[0][0], CONSUMERS[1][0]):
        grant(runtime, "BANK_US", ssn, id_type="OTHER")
    source = tmp_path / "joint.m2"
    source.write_bytes(consumer_file(1, records=_joint()))
    loaded = _load(runtime, source)
    assert (loaded.records_received, loaded.records_rejected, loaded.records_quarantined, loaded.parties_held) == (
        3, 0, 0, 2), loaded.finding_counts

    out = tmp_path / "written.m2"
    written = write_period(runtime.engine, vault=runtime.vault, principal=audit.terminal_operator(),
                           furnisher_code="BANK_US", period="2026-09", out=out)
    assert (written.records, written.held, written.parties) == (3, 0, 1)
    assert _parties(out) == {"M2-0000": [], "JOINT-1": [_parties(source)["JOINT-1"][0]], "JOINT-2": []}
    data = out.read_bytes()
    for held in (GUARANTOR, CONSUMERS[3]):
        ssn, surname = (held["social_security_number"], held["surname"]) if isinstance(held, dict) else held[:2]
        assert ssn.encode() not in data and surname.encode() not in data
