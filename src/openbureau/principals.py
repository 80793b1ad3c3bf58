"""Who is acting, and the one table of what each kind of principal may do.

Adapters turn a caller into a :class:`Principal` (the API from the authenticated member, the command line
into the operator at the terminal) and pass it to services; services ask :func:`authorize` before they act.
There is no default: a service called without a principal fails, it never acts with the operator's rights.

Example:
    >>> op = Principal.operator("OPERATOR:alice")
    >>> op.may(Action.READ_ALL_SUBMISSIONS), Principal.person("P-1").may(Action.READ_ALL_SUBMISSIONS)
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from openbureau.kit.errors import Forbidden


class Kind(StrEnum):
    """The kinds of principal: the five member roles (``members.models.Role``, same values) and the person."""

    PERSON = "person"  # the data subject acting for themselves
    FURNISHER = "furnisher"
    SUBSCRIBER = "subscriber"
    REGULATOR = "regulator"
    OPERATOR = "operator"
    AUTHORITY = "authority"  # a court, the police, a tax office: requests a person's report under the law


class Action(StrEnum):
    """What a principal may be allowed to do; :data:`RIGHTS` says who may."""

    SUBMIT_FILE = "submission.submit"
    READ_OWN_SUBMISSIONS = "submission.read_own"
    READ_ALL_SUBMISSIONS = "submission.read_all"
    WRITE_FURNISHED_FILE = "submission.write_file"  # a furnisher's period written out of the store (Metro 2)
    READ_OWN_ACCOUNTS = "account.read_own"
    READ_FUNDED_ACCOUNTS = "account.read_funded"  # a funder: the accounts it is listed as funder of (v1.1)
    READ_INTAKE_STATISTICS = "stats.intake"
    READ_OWN_SCORECARD = "quality.scorecard_own"
    READ_ALL_SCORECARDS = "quality.scorecard_all"
    READ_MARKET = "quality.market"
    INQUIRE = "inquiry.read"
    LIST_OWN_INQUIRIES = "inquiry.list_own"
    SERVE_OWN_REPORT = "report.self_view"  # the bureau's counter or portal serves a person their report
    REVIEW_IDENTITY = "identity.review"  # see a queued pair side by side, accept or reject it
    CORRECT_IDENTITY = "identity.correct"  # merge two persons or split an account out of one, by hand
    RESOLVE_IDENTITY = "identity.resolve"  # run the resolver, whose merges above its threshold are automatic
    FILE_DISPUTE = "dispute.file"  # a person's dispute: filed by the person, or recorded at the bureau's counter
    MANAGE_DISPUTES = "dispute.manage"  # the dispute queue and its resolutions
    ANSWER_DISPUTES = "dispute.answer"  # a furnisher's investigation tasks: read its own, answer them
    PROTECT_OWN_FILE = "file.protect"  # a person's statement, fraud alerts, freezes, identity-theft blocks
    MANAGE_MEMBERS = "member.manage"
    MANAGE_ALL_CONSENTS = "consent.manage_all"  # every member's consents of a person (a member: its own)
    READ_OWN_FILE = "person.read_own_file"  # a signed-in person: their own report, inquiries, consents
    MANAGE_OWN_CONSENTS = "person.manage_own_consents"  # a signed-in person revokes a consent about them
    REQUEST_AS_AUTHORITY = "authority.request"  # a person's report, citing a legal basis and a reference
    READ_OWN_AUTHORITY_REQUESTS = "authority.read_own"  # an authority: the requests it made (ids only)
    READ_ALL_AUTHORITY_REQUESTS = "authority.read_all"  # the operator: every authority's requests (ids only)
    ERASE_OWN_DATA = "person.erase"  # a signed-in person has what the profile allows erased (PIPL Art. 47)
    OBJECT_TO_PROCESSING = "person.object"  # ... refuses the uses of their file that need no consent (Art. 44)
    EXPORT_OWN_DATA = "person.export"  # everything held about a person, for the person (or the counter)
    MONITOR_PORTFOLIO = "monitoring.manage"  # a lender's monitored subjects, triggers and webhook endpoints
    REPORT_FRAUD = "fraud.report"  # a lender reports confirmed fraud, reads and withdraws its own reports
    BUILD_RINGS = "fraud.build_rings"  # the batch job that finds rings of persons sharing contact details
    READ_RING_STATISTICS = "fraud.ring_statistics"  # rings across the market as k-suppressed aggregates
    BATCH_INQUIRE = "inquiry.batch"  # a lender's batch inquiries: submit a file, follow, cancel, download its own
    PRESCREEN = "prescreen.run"  # a lender's prescreen: criteria in, a firm-offer list of names and addresses out
    OPT_OUT_OF_PRESCREEN = "person.prescreen_opt_out"  # a person keeps off prescreened lists (FCRA §604(e))
    READ_OWN_STATEMENT = "membership.statement_own"  # a member's monthly statement of its own use
    READ_ALL_STATEMENTS = "membership.statement_all"  # the operator: every member's statement


# The one place that says which kind of principal may do what. A principal may do an action when one of its
# kinds is listed. The person signs in for themselves (``people``) to read their own file, manage the
# consents about them, file disputes and protect their file (or the operator at the counter at their
# request); the operator serves the person's report at the bureau's counter. An authority (a court, the
# police, a tax office) requests reports and nothing else; the published transparency report of those requests
# (aggregates only) needs no right at all (``authorities.service.transparency_report``).
RIGHTS: dict[Action, frozenset[Kind]] = {
    Action.SUBMIT_FILE: frozenset({Kind.FURNISHER}),
    Action.READ_OWN_SUBMISSIONS: frozenset({Kind.FURNISHER}),
    Action.READ_ALL_SUBMISSIONS: frozenset({Kind.OPERATOR}),
    Action.WRITE_FURNISHED_FILE: frozenset({Kind.OPERATOR}),
    Action.READ_OWN_ACCOUNTS: frozenset({Kind.FURNISHER}),
    # A funding bank may furnish or only inquire; the operator reviews a named funder's list at the terminal.
    Action.READ_FUNDED_ACCOUNTS: frozenset({Kind.FURNISHER, Kind.SUBSCRIBER, Kind.OPERATOR}),
    Action.READ_INTAKE_STATISTICS: frozenset({Kind.REGULATOR, Kind.OPERATOR}),
    Action.READ_OWN_SCORECARD: frozenset({Kind.FURNISHER}),
    Action.READ_ALL_SCORECARDS: frozenset({Kind.REGULATOR, Kind.OPERATOR}),
    Action.READ_MARKET: frozenset({Kind.REGULATOR, Kind.OPERATOR}),
    Action.INQUIRE: frozenset({Kind.SUBSCRIBER}),
    Action.LIST_OWN_INQUIRIES: frozenset({Kind.SUBSCRIBER}),
    Action.SERVE_OWN_REPORT: frozenset({Kind.OPERATOR}),
    Action.REVIEW_IDENTITY: frozenset({Kind.OPERATOR}),
    Action.CORRECT_IDENTITY: frozenset({Kind.OPERATOR}),
    Action.RESOLVE_IDENTITY: frozenset({Kind.OPERATOR}),
    Action.FILE_DISPUTE: frozenset({Kind.PERSON, Kind.OPERATOR}),
    Action.MANAGE_DISPUTES: frozenset({Kind.OPERATOR}),
    Action.ANSWER_DISPUTES: frozenset({Kind.FURNISHER}),
    # The person, or the operator acting at the person's request (audited as such); never a member.
    Action.PROTECT_OWN_FILE: frozenset({Kind.PERSON, Kind.OPERATOR}),
    Action.MANAGE_MEMBERS: frozenset({Kind.OPERATOR}),
    Action.MANAGE_ALL_CONSENTS: frozenset({Kind.OPERATOR}),
    Action.READ_OWN_FILE: frozenset({Kind.PERSON}),
    Action.MANAGE_OWN_CONSENTS: frozenset({Kind.PERSON}),
    Action.REQUEST_AS_AUTHORITY: frozenset({Kind.AUTHORITY}),
    Action.READ_OWN_AUTHORITY_REQUESTS: frozenset({Kind.AUTHORITY}),
    Action.READ_ALL_AUTHORITY_REQUESTS: frozenset({Kind.OPERATOR}),
    Action.ERASE_OWN_DATA: frozenset({Kind.PERSON}),
    Action.OBJECT_TO_PROCESSING: frozenset({Kind.PERSON}),
    # The person, or the operator at the bureau's counter handing the file to the person (audited as such).
    Action.EXPORT_OWN_DATA: frozenset({Kind.PERSON, Kind.OPERATOR}),
    Action.MONITOR_PORTFOLIO: frozenset({Kind.SUBSCRIBER}),
    # A lender (furnishing or inquiring) reports the fraud it confirmed; never a regulator or the person.
    Action.REPORT_FRAUD: frozenset({Kind.FURNISHER, Kind.SUBSCRIBER}),
    Action.BUILD_RINGS: frozenset({Kind.OPERATOR}),
    Action.READ_RING_STATISTICS: frozenset({Kind.REGULATOR, Kind.OPERATOR}),
    Action.BATCH_INQUIRE: frozenset({Kind.SUBSCRIBER}),
    Action.PRESCREEN: frozenset({Kind.SUBSCRIBER}),
    # The person, or the operator at the counter taking their signed notice or call (audited as such).
    Action.OPT_OUT_OF_PRESCREEN: frozenset({Kind.PERSON, Kind.OPERATOR}),
    # A lender reads what it used (its own statement); only the operator reads another's. The regulator
    # supervises data quality and the market, not a member's bill; an authority is not billed (docs/membership.md).
    Action.READ_OWN_STATEMENT: frozenset({Kind.FURNISHER, Kind.SUBSCRIBER}),
    Action.READ_ALL_STATEMENTS: frozenset({Kind.OPERATOR}),
}


class MemberLike(Protocol):
    """A member of the bureau as ``members.models.Member`` describes it."""

    id: int
    code: str
    roles: frozenset
    standing: Standing | None


ANY = "*"  # a member's permitted purposes or products: all of them


@dataclass(frozen=True, slots=True)
class Standing:
    """A member's standing at the bureau, read with its key (``members``; docs/membership.md): whether its vetting
    was approved, the licence or registration recorded for it (its validity, days inclusive; None: none
    recorded), and the purposes and products it may use. Rules that read it live in ``inquiries.access`` and
    the product's own domain; carried with the principal so that an inquiry asks no extra query for it.
    """

    approved: bool
    licence_from: date | None
    licence_until: date | None
    purposes: frozenset[str]
    products: frozenset[str]

    def permits_purpose(self, purpose: str) -> bool:
        """Whether the member may query for ``purpose`` (``*``: every purpose the policy lets members use)."""
        return purpose in self.purposes or ANY in self.purposes

    def permits_product(self, product: str) -> bool:
        """Whether the member may use ``product`` (``*``: every product)."""
        return product in self.products or ANY in self.products

    def licence_in_force(self, day: date) -> bool:
        """Whether the recorded licence (if any) is valid on ``day``."""
        return ((self.licence_from is None or self.licence_from <= day)
                and (self.licence_until is None or day <= self.licence_until))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: their kinds, the code their actions are logged under, and their member id if a member.

    A signed-in person also carries their person id and the identity documents they proved, as
    (id type, blind index) pairs: what they may read and which consents are theirs.
    """

    kinds: frozenset[Kind]
    code: str
    member_id: int | None = None
    person_id: int | None = None
    documents: frozenset[tuple[str, bytes]] = frozenset()
    standing: Standing | None = None  # a member's: vetting, licence, permitted purposes and products

    @classmethod
    def of_member(cls, member: MemberLike) -> Principal:
        """The principal of an authenticated member: one kind per role it holds, and its standing."""
        return cls(frozenset(Kind(str(r)) for r in member.roles), member.code, member.id,
                   standing=getattr(member, "standing", None))

    @classmethod
    def operator(cls, code: str) -> Principal:
        """The bureau's operator acting outside any member (the command line: ``audit.operator_code()``)."""
        return cls(frozenset({Kind.OPERATOR}), code)

    @classmethod
    def person(cls, code: str, *, person_id: int | None = None,
               documents: frozenset[tuple[str, bytes]] = frozenset()) -> Principal:
        """A data subject acting for themselves (signed in: with their person id and proven documents)."""
        return cls(frozenset({Kind.PERSON}), code, person_id=person_id, documents=documents)

    def is_a(self, kind: Kind) -> bool:
        """Whether the principal is of ``kind``."""
        return kind in self.kinds

    def may(self, action: Action) -> bool:
        """Whether the principal may do ``action`` (:data:`RIGHTS`)."""
        return not self.kinds.isdisjoint(RIGHTS[action])

    def require(self, *actions: Action, message: str | None = None) -> Action:
        """The first of ``actions`` the principal may do; 403 ``ROLE_REQUIRED`` when it may do none."""
        for action in actions:
            if self.may(action):
                return action
        allowed = sorted({k.value for a in actions for k in RIGHTS[a]})
        raise Forbidden(message or f"{self.code} may not do this: it is for the {' or '.join(allowed)}",
                        code="ROLE_REQUIRED")


def authorize(principal: Principal, *actions: Action, message: str | None = None) -> Action:
    """The one role check: the first of ``actions`` that ``principal`` may do, else 403 ``ROLE_REQUIRED``.

    Refuses anything that is not a :class:`Principal` (``None`` above all) with a TypeError: no principal
    never means the operator.
    """
    if not isinstance(principal, Principal):
        raise TypeError(f"a Principal is required, not {type(principal).__name__}")
    return principal.require(*actions, message=message)
