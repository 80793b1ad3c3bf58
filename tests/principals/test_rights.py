"""Every kind of principal gets exactly its rights at the service level, and no service acts without one.

The expected rights are written out here, apart from ``principals.RIGHTS``, so that a change to the table
(or a service that stops asking it) fails a test. Both engines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from openbureau.audit import service as audit
from openbureau.authorities import service as authorities
from openbureau.batches import service as batches
from openbureau.consent import service as consents
from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import Subject
from openbureau.disputes import investigation
from openbureau.disputes import service as disputes
from openbureau.disputes.models import DisputeOutcome
from openbureau.disputes.schemas import DisputeCreate, TaskAnswer
from openbureau.fraud import statistics as fraud_statistics
from openbureau.identity import service as identity
from openbureau.identity.resolution import resolve
from openbureau.inquiries import objections
from openbureau.intake import service as intake
from openbureau.intake.metro2_out import write_period
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.members import service as members
from openbureau.members import standing
from openbureau.members.models import Role
from openbureau.members.schemas import (
    LicenceUpdate,
    MemberCreate,
    Permissions,
    SuspensionCreate,
    VettingDecision,
)
from openbureau.metering import service as metering
from openbureau.monitoring import service as monitoring
from openbureau.monitoring import webhooks
from openbureau.people.export import export_person
from openbureau.prescreen import optouts
from openbureau.prescreen import service as prescreen
from openbureau.principals import RIGHTS, Action, Kind, Principal, authorize
from openbureau.quality import service as quality
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from openbureau.rights import service as rights
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member

ID = PEOPLE[0][0]
SUBJECT = Subject(id_type="CN_RESIDENT_ID", id_number=ID)
MEMBERS = {"FURN": Role.FURNISHER, "SUB": Role.SUBSCRIBER, "REG": Role.REGULATOR, "OPS": Role.OPERATOR,
           "AUTH": Role.AUTHORITY}

# service call -> the kinds that may make it (the person, signed in, reaches only their own file)
EXPECTED: dict[str, set[Kind]] = {
    "get_submission": {Kind.FURNISHER, Kind.OPERATOR},
    "list_submissions": {Kind.FURNISHER, Kind.OPERATOR},
    "list_findings": {Kind.FURNISHER, Kind.OPERATOR},
    "write_findings_csv": {Kind.FURNISHER, Kind.OPERATOR},
    "account_history": {Kind.FURNISHER},
    "intake_statistics": {Kind.REGULATOR, Kind.OPERATOR},
    "scorecards": {Kind.FURNISHER, Kind.REGULATOR, Kind.OPERATOR},
    "market": {Kind.REGULATOR, Kind.OPERATOR},
    "ring_statistics": {Kind.REGULATOR, Kind.OPERATOR},
    "inquire": {Kind.SUBSCRIBER},
    "list_inquiries": {Kind.SUBSCRIBER},
    "own_report": {Kind.OPERATOR},
    "list_reviews": {Kind.OPERATOR},
    "review_side_by_side": {Kind.OPERATOR},
    "decide_review": {Kind.OPERATOR},
    "merge": {Kind.OPERATOR},
    "split": {Kind.OPERATOR},
    "resolve": {Kind.OPERATOR},
    "file_dispute": {Kind.PERSON, Kind.OPERATOR},
    "list_disputes": {Kind.OPERATOR},
    "resolve_dispute": {Kind.OPERATOR},
    "list_tasks": {Kind.FURNISHER},
    "answer_task": {Kind.FURNISHER},
    "add_statement": {Kind.PERSON, Kind.OPERATOR},
    "place_fraud_alert": {Kind.PERSON, Kind.OPERATOR},
    "remove_fraud_alert": {Kind.PERSON, Kind.OPERATOR},
    "place_freeze": {Kind.PERSON, Kind.OPERATOR},
    "lift_freeze": {Kind.PERSON, Kind.OPERATOR},
    "file_identity_theft_report": {Kind.PERSON, Kind.OPERATOR},
    "protections": {Kind.PERSON, Kind.OPERATOR},
    "list_own_disputes": {Kind.PERSON, Kind.OPERATOR},
    "add_member": {Kind.OPERATOR},
    "issue_key": {Kind.OPERATOR},
    "person_report": {Kind.PERSON},
    "person_inquiries": {Kind.PERSON},
    "consents_of_person": {Kind.PERSON},
    # Every kind may revoke, each only what is theirs: a member what it holds, a person what is about them,
    # the operator any (an unknown id answers NOT_FOUND to all: tests/people, tests/consent).
    "revoke_consent": {Kind.PERSON, Kind.FURNISHER, Kind.SUBSCRIBER, Kind.REGULATOR, Kind.OPERATOR,
                       Kind.AUTHORITY},
    "request_as_authority": {Kind.AUTHORITY},
    "list_authority_requests": {Kind.AUTHORITY, Kind.OPERATOR},  # an authority: its own only
    "authority_requests_about_me": {Kind.PERSON},
    # The person objects for themselves; the export is theirs, or the counter's at their request. (Erasure, which
    # runs its own transactions: tests/people/test_erasure.py.)
    "object_to": {Kind.PERSON},
    "export_person": {Kind.PERSON, Kind.OPERATOR},
    # a furnisher's period written from the store (Metro 2) reads every account's personal data
    "write_metro2": {Kind.OPERATOR},
    # A lender's own monitoring: registrations, webhook endpoints, the delivery log (tests/monitoring).
    "monitored_subjects": {Kind.SUBSCRIBER},
    "webhook_endpoints": {Kind.SUBSCRIBER},
    "webhook_deliveries": {Kind.SUBSCRIBER},
    # A lender's own batch inquiries (tests/batches).
    "batch_inquiries": {Kind.SUBSCRIBER},
    # A lender's own prescreens; the person's opt-out from them, or the counter's at their request (tests/prescreen).
    "prescreens": {Kind.SUBSCRIBER},
    "prescreen_opt_out": {Kind.PERSON, Kind.OPERATOR},
    # Membership: the operator runs it; a lender reads its own statement (tests/members).
    "read_membership": {Kind.OPERATOR},
    "record_licence": {Kind.OPERATOR},
    "vet": {Kind.OPERATOR},
    "permit": {Kind.OPERATOR},
    "suspend_and_reinstate": {Kind.OPERATOR},
    "own_statement": {Kind.FURNISHER, Kind.SUBSCRIBER},
    "member_statement": {Kind.OPERATOR},
}


def _calls(runtime, ctx) -> dict[str, Callable]:
    """Each service, called as ``principal`` (``None`` included), in a session of its own."""
    policy, vault = runtime.policy, runtime.vault
    sid, tmp = ctx["sid"], ctx["tmp"]

    def add_member(s, p):
        return members.add_member(s, principal=p, data=MemberCreate(code=f"NEW_{ctx['n']}", name="New",
                                                                    roles=[Role.FURNISHER]))

    return {
        "get_submission": lambda s, p: intake.get_submission(s, principal=p, submission_id=sid),
        "list_submissions": lambda s, p: intake.list_submissions(s, principal=p),
        "list_findings": lambda s, p: intake.list_findings(s, principal=p, submission_id=sid),
        "write_findings_csv": lambda s, p: intake.write_findings_csv(s, principal=p, submission_id=sid,
                                                                     out=tmp / "findings.csv"),
        "account_history": lambda s, p: intake.account_history(s, principal=p, furnisher_account_id="F-1"),
        "intake_statistics": lambda s, p: intake.intake_statistics(s, principal=p),
        "scorecards": lambda s, p: quality.scorecards(s, principal=p, policy=policy),
        "market": lambda s, p: quality.market(s, principal=p, policy=policy),
        "ring_statistics": lambda s, p: fraud_statistics.ring_statistics(s, vault=vault, principal=p, policy=policy),
        "inquire": lambda s, p: reports.inquire(s, vault=vault, principal=p, policy=policy, request=InquiryCreate(
            subject=SUBJECT, purpose=Purpose.LOAN_ORIGINATION, consent_ref="SUB-1")),
        "list_inquiries": lambda s, p: reports.list_inquiries(s, principal=p),
        "own_report": lambda s, p: reports.own_report(s, vault=vault, subject=SUBJECT, principal=p, policy=policy),
        "list_reviews": lambda s, p: identity.list_reviews(s, principal=p),
        # Unknown reviews, persons and disputes: an allowed principal is told NOT_FOUND, the others 403.
        "review_side_by_side": lambda s, p: identity.review_side_by_side(s, principal=p, vault=vault, review_id=999),
        "decide_review": lambda s, p: identity.decide_review(s, principal=p, review_id=999, accept=True),
        "merge": lambda s, p: identity.merge(s, principal=p, person_id=998, into_person_id=999),
        "split": lambda s, p: identity.split(s, principal=p, vault=vault, person_id=999, furnisher_id=1,
                                             furnisher_account_id="F-1"),
        "resolve": lambda s, p: resolve(runtime.engine, settings=runtime.settings, vault=vault, principal=p),
        "file_dispute": lambda s, p: disputes.file_dispute(s, vault=vault, principal=p, policy=policy, data=DisputeCreate(
            subject=SUBJECT, kind="account", lender="FURN", furnisher_account_id="F-1", statement="not mine")),
        "list_disputes": lambda s, p: disputes.list_disputes(s, principal=p),
        "resolve_dispute": lambda s, p: disputes.resolve_dispute(s, vault=vault, principal=p, dispute_id=999,
                                                                 outcome=DisputeOutcome.VERIFIED),
        "list_tasks": lambda s, p: investigation.list_tasks(s, principal=p),
        "answer_task": lambda s, p: investigation.answer_task(s, vault=vault, principal=p, task_id=999,
                                                              answer=TaskAnswer(outcome="verified", evidence="ok")),
        "add_statement": lambda s, p: investigation.add_statement(s, vault=vault, principal=p, subject=SUBJECT,
                                                                  dispute_id=999, statement="paid"),
        "place_fraud_alert": lambda s, p: rights.place_fraud_alert(s, vault=vault, principal=p, subject=SUBJECT),
        "remove_fraud_alert": lambda s, p: rights.remove_fraud_alert(s, vault=vault, principal=p, subject=SUBJECT,
                                                                     alert_id=999),
        "place_freeze": lambda s, p: rights.place_freeze(s, vault=vault, principal=p, subject=SUBJECT),
        "lift_freeze": lambda s, p: rights.lift_freeze(s, vault=vault, principal=p, subject=SUBJECT, freeze_id=999),
        "file_identity_theft_report": lambda s, p: rights.file_identity_theft_report(
            s, vault=vault, principal=p, subject=SUBJECT, report_ref="R-1", accounts=[]),
        "protections": lambda s, p: rights.protections(s, vault=vault, principal=p, subject=SUBJECT),
        "list_own_disputes": lambda s, p: investigation.list_own_disputes(s, vault=vault, principal=p,
                                                                          subject=SUBJECT),
        "add_member": add_member,
        "issue_key": lambda s, p: members.issue_key(s, principal=p, member=members.get_member(s, code="FURN")),
        "person_report": lambda s, p: reports.prepare_person_report(s, vault=vault, principal=p, policy=policy),
        "person_inquiries": lambda s, p: reports.person_inquiries(s, principal=p, policy=policy),
        "consents_of_person": lambda s, p: consents.list_for_person(s, principal=p),
        "revoke_consent": lambda s, p: consents.revoke(s, vault=vault, principal=p, consent_id=999, reason="x"),
        "request_as_authority": lambda s, p: authorities.request_report(
            s, vault=vault, principal=p, subject=SUBJECT, basis="court_order", citation="Art. 1", reference="R-1",
            order_hash="ab" * 32, policy=policy),
        "list_authority_requests": lambda s, p: authorities.list_requests(s, principal=p),
        "authority_requests_about_me": lambda s, p: authorities.requests_about_me(s, vault=vault, principal=p),
        "monitored_subjects": lambda s, p: monitoring.list_subscriptions(s, principal=p),
        "webhook_endpoints": lambda s, p: webhooks.list_endpoints(s, principal=p),
        "webhook_deliveries": lambda s, p: webhooks.list_deliveries(s, principal=p),
        "batch_inquiries": lambda s, p: batches.list_batches(s, principal=p),
        "prescreens": lambda s, p: prescreen.list_prescreens(s, principal=p),
        "prescreen_opt_out": lambda s, p: optouts.status(s, vault=vault, principal=p, policy=policy, subject=SUBJECT),
        "read_membership": lambda s, p: standing.read_membership(s, principal=p, code="REG"),
        "record_licence": lambda s, p: standing.record_licence(s, principal=p, code="REG", licence=LicenceUpdate(
            kind="authorisation", number="M-1", authority="Parliament", valid_from=date(2020, 1, 1))),
        "vet": lambda s, p: standing.vet(s, principal=p, code="REG", decision=VettingDecision(status="approved")),
        "permit": lambda s, p: standing.permit(s, principal=p, code="REG", permissions=Permissions(purposes=["*"]),
                                               known_purposes=()),
        "suspend_and_reinstate": lambda s, p: (
            standing.suspend(s, principal=p, code="REG", suspension=SuspensionCreate(reason="test")),
            standing.reinstate(s, principal=p, code="REG")),
        "own_statement": lambda s, p: metering.own_statement(s, principal=p, month="2026-01"),
        "member_statement": lambda s, p: metering.member_statement(s, principal=p, code="SUB", month="2026-01"),
        "object_to": lambda s, p: objections.object_to(s, vault=vault, principal=p, policy=policy,
                                                       purpose=Purpose.ACCOUNT_REVIEW),
        "export_person": lambda s, p: export_person(s, vault=vault, principal=p, policy=policy, subject=SUBJECT),
        "write_metro2": lambda s, p: write_period(runtime.engine, vault=vault, principal=p, furnisher_code="FURN",
                                                  period="2026-09", out=tmp / f"furn-{ctx['n']}.m2"),
    }


@pytest.fixture
def world(runtime, tmp_path):
    for code, role in MEMBERS.items():
        make_member(runtime, code, role)
    grant(runtime, "FURN", ID)
    grant(runtime, "SUB", ID, Purpose.LOAN_ORIGINATION, ref="SUB-1")
    result = intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="FURN",
                           path=write_file(tmp_path / "f.csv", [person(0, furnisher_account_id="F-1")]))
    with session_scope(runtime.engine) as session:
        principals = {role: Principal.of_member(members.get_member(session, code=code))
                      for code, role in MEMBERS.items()}
    principals["person"] = Principal.person("PERSON:test")
    principals["terminal"] = Principal.operator("OPERATOR:test")
    return runtime, {"sid": result.submission.id, "tmp": tmp_path, "n": 0}, principals


def _outcome(runtime, call, principal) -> str:
    """``allowed`` (the service ran, or refused for a reason other than the role) or ``refused``."""
    try:
        with session_scope(runtime.engine, write=True) as session:
            call(session, principal)
    except BureauError as exc:
        return "refused" if exc.code == "ROLE_REQUIRED" else "allowed"
    return "allowed"


def test_each_kind_of_principal_gets_exactly_its_rights_in_the_services(world) -> None:
    runtime, ctx, principals = world
    calls = _calls(runtime, ctx)
    assert set(calls) == set(EXPECTED)
    for name, call in calls.items():
        for label, principal in principals.items():
            ctx["n"] += 1
            (kind,) = principal.kinds
            want = "allowed" if kind in EXPECTED[name] else "refused"
            assert _outcome(runtime, call, principal) == want, (name, label)


def test_allowed_calls_do_what_they_say(world) -> None:
    runtime, ctx, p = world
    calls = _calls(runtime, ctx)
    with session_scope(runtime.engine, write=True) as session:
        assert calls["inquire"](session, p[Role.SUBSCRIBER]).person_found
        assert [s.id for s in calls["list_submissions"](session, p[Role.FURNISHER])] == [ctx["sid"]]
        assert [s.id for s in calls["list_submissions"](session, p["terminal"])] == [ctx["sid"]]
        assert [c.furnisher for c in calls["scorecards"](session, p[Role.FURNISHER]).scorecards] == ["FURN"]
        assert calls["own_report"](session, p["terminal"]).person.id_number == ID
        filed = calls["file_dispute"](session, p[Role.OPERATOR])  # an operator member, through the API one day
        assert [d.id for d in calls["list_disputes"](session, p["terminal"])] == [filed.id]
        (entry,) = audit.list_entries(session, action="dispute.file")
    assert (filed.filed_by, entry.actor_code, entry.actor_member_id) == ("OPS", "OPS", p[Role.OPERATOR].member_id)


def test_a_service_called_without_a_principal_fails_and_never_acts_as_the_operator(world) -> None:
    runtime, ctx, _ = world
    for call in _calls(runtime, ctx).values():
        ctx["n"] += 1
        with pytest.raises(TypeError), session_scope(runtime.engine, write=True) as session:
            call(session, None)
    with session_scope(runtime.engine) as session:
        with pytest.raises(TypeError):
            intake.list_submissions(session)  # the argument is required, no default
        with pytest.raises(TypeError):  # a member is not a principal: the adapter must say who acts
            intake.list_submissions(session, principal=members.get_member(session, code="OPS"))


def test_the_rights_table_covers_every_action_and_gives_the_person_only_their_own_file() -> None:
    assert set(RIGHTS) == set(Action)
    person = Principal.person("PERSON:test")
    assert {a for a in Action if person.may(a)} == {Action.READ_OWN_FILE, Action.MANAGE_OWN_CONSENTS,
                                                    Action.FILE_DISPUTE, Action.PROTECT_OWN_FILE,
                                                    Action.ERASE_OWN_DATA, Action.OBJECT_TO_PROCESSING,
                                                    Action.EXPORT_OWN_DATA, Action.OPT_OUT_OF_PRESCREEN}
    authority = Principal(frozenset({Kind.AUTHORITY}), "COURT", 1)
    assert {a for a in Action if authority.may(a)} == {Action.REQUEST_AS_AUTHORITY,
                                                       Action.READ_OWN_AUTHORITY_REQUESTS}
    operator = Principal.operator("OPERATOR:test")
    assert {a for a in Action if operator.may(a)} == {a for a, kinds in RIGHTS.items() if Kind.OPERATOR in kinds}
    with pytest.raises(TypeError):
        authorize(None, Action.READ_MARKET)


def test_a_member_with_two_roles_acts_with_both(runtime) -> None:
    make_member(runtime, "BOTH", Role.FURNISHER, Role.SUBSCRIBER)
    with session_scope(runtime.engine) as session:
        both = Principal.of_member(members.get_member(session, code="BOTH"))
    assert both.kinds == {Kind.FURNISHER, Kind.SUBSCRIBER} and both.member_id is not None
    assert both.may(Action.SUBMIT_FILE) and both.may(Action.INQUIRE) and not both.may(Action.READ_MARKET)
