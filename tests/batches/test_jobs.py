"""A batch job answers each row exactly as an online inquiry would be answered, logs each allowed row once,
refuses the others with the inquiry's own codes, reports bad rows and goes on; its results carry nothing that
identifies a person beyond the lender's own reference. Both engines."""

from __future__ import annotations

import pytest

from openbureau.audit.service import terminal_operator
from openbureau.batches import service
from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import Subject
from openbureau.identity.repository import find_person_by_any
from openbureau.inquiries import objections
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.kit.filecrypt import MAGIC
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from openbureau.rights import service as rights
from tests.batches.factories import (
    logged,
    principal,
    result_lines,
    results,
    sealed_files,
    subject,
    submit,
    worker,
    write_batch,
)
from tests.intake.factories import PEOPLE

SECRETS = [p for person in PEOPLE for p in (person[0], person[2])]  # identity numbers and names


def _online(runtime, code: str, row: dict):
    """The same request made online (in its own transaction, logged there)."""
    with session_scope(runtime.engine, write=True) as session:
        return reports.inquire(session, vault=runtime.vault, principal=principal(runtime, code), policy=runtime.policy,
                               request=InquiryCreate(subject=Subject(id_type=row["id_type"], id_number=row["id_number"]),
                                                     purpose=Purpose(row["purpose"]), consent_ref=row["consent_ref"]))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_rows_are_answered_refused_or_found_invalid_as_online_and_logged_once(market, tmp_path, suffix) -> None:
    runtime, _ = market
    rows = [subject(0, "R-1", consent_ref="L-1", declared_monthly_income=800000),
            subject(0, "R-2", consent_ref="L-2"),  # person 1's consent for person 0: refused
            subject(2, "R-3"),  # no consent, no account: refused
            subject(0, "R-4", purpose="loan_origination", consent_ref="L-1") | {"id_number": "110101199003070012"},
            subject(0, "R-5", purpose=""),
            subject(1, "R-6", consent_ref="L-2"),
            subject(0, "R-7", purpose="furnish")]  # not a purpose a member may query for
    job = submit(runtime, "LENDER", write_batch(tmp_path / f"subjects{suffix}", rows))
    assert (job.status, job.rows_total, job.rows_done) == ("queued", 7, 0)
    outcome = worker(runtime).run_once()
    assert (outcome.jobs, outcome.rows) == (1, 7)
    lines = result_lines(runtime, "LENDER", job.id)
    assert [(r["row"], r["reference"], r["outcome"], r["code"], r["field"]) for r in lines] == [
        (1, "R-1", "answered", None, None),
        (2, "R-2", "refused", "CONSENT_SUBJECT_MISMATCH", "consent_ref"),
        (3, "R-3", "refused", "CONSENT_REQUIRED", "consent_ref"),
        (4, "R-4", "invalid", "INVALID_ID_NUMBER", "id_number"),
        (5, "R-5", "invalid", "MISSING_VALUE", "purpose"),
        (6, "R-6", "answered", None, None),
        (7, "R-7", "refused", "PURPOSE_NOT_ALLOWED", "purpose")]
    inquiries, audits = logged(runtime)
    assert sorted(i.id for i in inquiries) == sorted(r["inquiry_id"] for r in lines if r["inquiry_id"])
    assert [(i.purpose, i.hard, i.basis, i.actor_code) for i in inquiries] == [("loan_origination", 1, "consent",
                                                                              "LENDER")] * 2
    assert inquiries[0].declared_monthly_income == 800000 and audits == 2
    first = lines[0]
    online = _online(runtime, "LENDER", rows[0]).report  # the same file, read online
    assert (first["credit_accounts"], first["open_accounts"], first["total_balance"], first["worst_status_24m"],
            first["past_due_amount"]) == (online.summary.credit_accounts, online.summary.open_accounts,
                                          online.summary.total_balance, online.summary.worst_status_24m,
                                          online.summary.past_due_amount)
    # VELOCITY counts credit sought in the last 7 days, which online now includes the batch's own inquiry.
    assert first["signals"] == [s.code.value for s in online.signals if s.triggered and s.code.value != "VELOCITY"]
    assert first["person_found"] is True and first["score"] is None  # no model released
    for code in ("R-2", "R-3"):  # the same refusals online
        row = rows[int(code[-1]) - 1]
        with pytest.raises(BureauError) as refused:
            _online(runtime, "LENDER", row)
        assert refused.value.code == next(r["code"] for r in lines if r["reference"] == code)
    raw = results(runtime, "LENDER", job.id, "csv") + results(runtime, "LENDER", job.id, "jsonl")
    assert not [s for s in SECRETS if s.encode() in raw]
    assert raw.startswith(b"row,reference,outcome,code,field")
    done = worker(runtime).run_once()
    assert done.rows == 0 and len(logged(runtime)[0]) == 3  # nothing asked twice (3: the online one above)


def test_a_frozen_file_is_refused_in_batch_as_online(market, tmp_path) -> None:
    runtime, _ = market
    with session_scope(runtime.engine, write=True) as session:
        rights.place_freeze(session, vault=runtime.vault, principal=terminal_operator(),
                            subject=Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[0][0]))
    row = subject(0, "F-1", consent_ref="L-1")
    job = submit(runtime, "LENDER", write_batch(tmp_path / "f.jsonl", [row]))
    worker(runtime).run_once()
    (line,) = result_lines(runtime, "LENDER", job.id)
    assert (line["outcome"], line["code"], line["credit_accounts"]) == ("refused", "FROZEN", None)
    with pytest.raises(BureauError) as online:
        _online(runtime, "LENDER", row)
    assert online.value.code == "FROZEN" and logged(runtime)[0] == []


def test_the_existing_account_exception_and_the_objection_to_it(market, tmp_path) -> None:
    runtime, _ = market
    rows = [subject(1, "A-1", purpose="account_review"), subject(2, "A-2", purpose="account_review")]
    first = submit(runtime, "BANK_A", write_batch(tmp_path / "a.csv", rows))
    worker(runtime).run_once()
    assert [(r["outcome"], r["code"]) for r in result_lines(runtime, "BANK_A", first.id)] == [
        ("answered", None), ("refused", "CONSENT_REQUIRED")]
    assert [(i.basis, i.hard) for i in logged(runtime)[0]] == [("exception", 0)]
    with session_scope(runtime.engine, write=True) as session:
        vault = runtime.vault
        person = find_person_by_any(session, id_type="CN_RESIDENT_ID",
                                    id_indexes=vault.index_candidates(PEOPLE[1][0], domain="CN_RESIDENT_ID"))
        objections.object_to(session, vault=vault, principal=Principal.person("PERSON:1", person_id=person.id),
                             policy=runtime.policy, purpose=Purpose.ACCOUNT_REVIEW)
    second = submit(runtime, "BANK_A", write_batch(tmp_path / "b.csv", rows[:1]))
    worker(runtime).run_once()
    assert [r["code"] for r in result_lines(runtime, "BANK_A", second.id)] == ["OBJECTION_IN_FORCE"]
    assert len(logged(runtime)[0]) == 1


def test_results_are_sealed_at_rest_and_the_input_is_gone_once_done(market, tmp_path) -> None:
    runtime, _ = market
    job = submit(runtime, "LENDER", write_batch(tmp_path / "s.csv", [subject(0, "SEALED-REF", consent_ref="L-1")]))
    (held,) = sealed_files(runtime)
    assert held.name == "input.sealed" and held.read_bytes().startswith(MAGIC)
    worker(runtime).run_once()
    (part,) = sealed_files(runtime)
    assert part.name.startswith("part-") and part.read_bytes().startswith(MAGIC)
    assert b"SEALED-REF" not in part.read_bytes() and oct(part.stat().st_mode & 0o777) == "0o600"
    assert b"SEALED-REF" in results(runtime, "LENDER", job.id)


def test_another_member_can_neither_read_nor_cancel_nor_download(market, tmp_path) -> None:
    runtime, _ = market
    job = submit(runtime, "LENDER", write_batch(tmp_path / "s.csv", [subject(0, "R", consent_ref="L-1")]))
    other = principal(runtime, "BANK_A")
    with session_scope(runtime.engine, write=True) as session:
        for call in (lambda: service.get_batch(session, principal=other, batch_id=job.id),
                     lambda: service.cancel(session, settings=runtime.settings, principal=other, batch_id=job.id),
                     lambda: service.results_of(session, settings=runtime.settings, principal=other,
                                                batch_id=job.id)):
            with pytest.raises(BureauError) as refused:
                call()
            assert (refused.value.status_code, refused.value.code) == (404, "BATCH_NOT_FOUND")
        assert service.list_batches(session, principal=other) == []
    with session_scope(runtime.engine) as session:
        assert service.get_batch(session, principal=principal(runtime, "LENDER"), batch_id=job.id).status == "queued"


@pytest.mark.parametrize("code", ["OPS", "BANK_A_FURNISHER_ONLY"])
def test_only_a_subscriber_submits(market, tmp_path, code) -> None:
    runtime, _ = market
    if code != "OPS":
        from openbureau.members.models import Role
        from tests.members.factories import make_member
        make_member(runtime, code, Role.FURNISHER, Role.REGULATOR)
    with pytest.raises(BureauError) as refused:
        submit(runtime, code, write_batch(tmp_path / "s.csv", [subject(0, "R", consent_ref="L-1")]))
    assert refused.value.code == "ROLE_REQUIRED"
    assert sealed_files(runtime) == []


def test_cancel_keeps_what_was_committed(market, tmp_path) -> None:
    runtime = market[0]
    runtime = type(runtime)(settings=runtime.settings.model_copy(update={"batch_chunk_rows": 2}),
                            engine=runtime.engine, vault=runtime.vault)
    job = submit(runtime, "LENDER", write_batch(tmp_path / "c.csv",
                                                [subject(0, f"C-{n}", consent_ref="L-1") for n in range(5)]))
    assert worker(runtime).run_once(max_chunks=1).rows == 2
    lender = principal(runtime, "LENDER")
    with session_scope(runtime.engine, write=True) as session:
        with pytest.raises(BureauError) as running:
            service.results_of(session, settings=runtime.settings, principal=lender, batch_id=job.id)
        assert running.value.code == "BATCH_NOT_FINISHED"
        assert service.cancel(session, settings=runtime.settings, principal=lender, batch_id=job.id).status == \
            "cancelled"
    assert worker(runtime).run_once().rows == 0
    assert [r["reference"] for r in result_lines(runtime, "LENDER", job.id)] == ["C-0", "C-1"]
    assert len(logged(runtime)[0]) == 2 and [p.name for p in sealed_files(runtime)][0].startswith("part-")
    with session_scope(runtime.engine, write=True) as session, pytest.raises(BureauError) as again:
        service.cancel(session, settings=runtime.settings, principal=lender, batch_id=job.id)
    assert again.value.code == "BATCH_FINISHED"
