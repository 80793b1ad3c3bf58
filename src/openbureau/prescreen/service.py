"""Rules of prescreening: a lender's criteria select the persons it may make a firm offer of credit to.

Where the profile allows it (US: FCRA §604(c)(1)(B)); elsewhere 403 ``PRESCREEN_NOT_AVAILABLE`` naming the
law (CN: no consent of the persons covers selecting them for offers). Only a subscriber runs one, and reads
only its own (another lender's is not found).

**Who is considered.** The candidates are chosen in SQL, a page of person ids at a time: persons with a
published credit account in their file, **without** an opt-out in force (§604(e)), a security freeze in force
(§605A(i), whether or not temporarily lifted) or a fraud alert in force (an extended alert must keep the
person off such lists, §605A(b)(1)(B); the bureau leaves off every person with an alert, initial alerts
included: a list is an offer the person did not ask for, which is what an alert is about). Each page's files
are then read in one statement and judged as a report would show them (``criteria``): the delinquency,
open-account and balance criteria, the released scorecard's score, and the region of the mailing address.

**What is written.** Each chunk commits in one short transaction: a soft inquiry on each selected person's
file (purpose ``prescreen``, shown to the person, never to another lender, never counted as new credit or in
the score) with its audit entry, and the person on the list with their name and address sealed. The run
itself is audited with its criteria and counts, and each read of the list is audited.

**What the lender gets.** Only what a firm offer needs (§604(c)(2)): a reference, the name and the mailing
address; nothing of the file beyond the fact of qualifying.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_
from sqlalchemy.orm import Session

from openbureau.accounts import service as accounts
from openbureau.audit import service as audit
from openbureau.audit.service import AuditNote
from openbureau.disputes.investigation import marks_of
from openbureau.identity.service import open_identity_values
from openbureau.inquiries.log import LogEntry, write_entries
from openbureau.inquiries.repository import InquiryRepository
from openbureau.intake.service import has_loaded_submission
from openbureau.intake.standard import NON_CREDIT_PRODUCTS, PRODUCT_TYPES
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Forbidden, NotFound, Unprocessable
from openbureau.kit.periods import last_complete_period, period_end
from openbureau.members.models import Product
from openbureau.members.standing import check_use
from openbureau.policy import Policy
from openbureau.prescreen import criteria as rules
from openbureau.prescreen import errors
from openbureau.prescreen.models import PRESCREEN_PURPOSE
from openbureau.prescreen.optouts import available
from openbureau.prescreen.repository import PrescreenRepository, opted_out
from openbureau.prescreen.schemas import (
    FirmOfferEntry,
    FirmOfferList,
    PrescreenCreate,
    PrescreenCriteria,
    PrescreenRead,
)
from openbureau.principals import Action, Kind, Principal, authorize
from openbureau.reports.items import shown_tradelines
from openbureau.rights.service import alert_or_freeze
from openbureau.scoring.service import released_model, score_file
from openbureau.tradelines.history import Tradeline, build_tradelines

CREDIT_PRODUCTS = tuple(p for p in PRODUCT_TYPES if p not in NON_CREDIT_PRODUCTS)
RUNNING, DONE = "running", "done"
CHUNK = 1_000
MAX_PAGE = 1_000
INQUIRY_WINDOW = timedelta(days=400)  # the scorecard counts hard inquiries of the last 12 months


def check_lender(session: Session, *, principal: Principal, policy: Policy) -> None:
    """Role, standing, profile and reciprocity: who may run a prescreen, before anything is read."""
    authorize(principal, Action.PRESCREEN)
    check_use(principal, product=Product.PRESCREEN, day=datetime.now(UTC).date())
    available(policy)
    if policy.reciprocity and not (principal.is_a(Kind.FURNISHER)
                                   and has_loaded_submission(session, furnisher_id=principal.member_id)):
        raise Forbidden(f"{principal.code} does not furnish data; reciprocity is on: only members that furnish "
                        "may prescreen", code="RECIPROCITY_REQUIRED")


def candidates(moment: datetime) -> Callable[[ColumnElement], ColumnElement[bool]]:
    """The condition on a person id that keeps a person on the candidates' page at ``moment``: no opt-out,
    no freeze and no fraud alert in force."""
    return lambda person_id: and_(~opted_out(person_id, moment), ~alert_or_freeze(person_id, moment))


def _mailing(vault: PiiVault, rows: list) -> tuple[str, str] | None:
    """(name, address) of the newest record of the person that carries both; None when none does."""
    for row in sorted(rows, key=lambda r: (r.reporting_period, r.version), reverse=True):
        if row.identity_enc is None:
            continue
        name, _, _, address = open_identity_values(vault, row.identity_enc)
        if name and address:
            return name, address
    return None


class _Run:
    """One prescreen's selection, a chunk of candidates at a time."""

    def __init__(self, engine: Engine, *, vault: PiiVault, policy: Policy, principal: Principal,
                 request: PrescreenCreate, prescreen_id: int, card, now: datetime) -> None:
        self.engine, self.vault, self.policy, self.principal = engine, vault, policy, principal
        self.criteria, self.request, self.id, self.card, self.now = request.criteria, request, prescreen_id, card, now
        self.as_of = last_complete_period(now.date())
        self.considered = self.selected = 0

    def _lines(self, session: Session, person_id: int, rows: list) -> list[Tradeline]:
        lines = build_tradelines(rows, as_of=self.now.date(), retention_years=self.policy.profile.negative_retention_years)
        return shown_tradelines(lines, marks_of(session, person_id=person_id, now=self.now).hidden)

    def _judge(self, session: Session, ids: list[int]) -> list[tuple[int, tuple[str, str]]]:
        """The persons of ``ids`` who meet the criteria, with their (name, address)."""
        files = accounts.files_of(session, ids)
        hard = (InquiryRepository(session).hard_of_persons(ids, since=self.now - INQUIRY_WINDOW, until=self.now)
                if self.card is not None else {})
        chosen = []
        for person_id in ids:
            lines = self._lines(session, person_id, files[person_id])
            if not rules.file_qualifies(self.criteria, lines, as_of_period=self.as_of,
                                        currency=self.policy.profile.currency):
                continue
            if self.criteria.score_min is not None or self.criteria.score_max is not None:
                score = score_file(self.card, tradelines=lines, hard_inquiries=hard.get(person_id, ()),
                                   observed=period_end(self.as_of))
                if not rules.score_qualifies(self.criteria, score.score if score.scorable else None):
                    continue
            mailing = _mailing(self.vault, files[person_id])
            if mailing is None or not rules.in_regions(self.criteria, mailing[1]):
                continue
            chosen.append((person_id, mailing))
        return chosen

    def _commit(self, chosen: list[tuple[int, tuple[str, str]]], *, finished: bool) -> None:
        """Log the chunk's soft inquiries, put its persons on the list and record the progress, in one transaction."""
        p = self.principal
        entries = [LogEntry(
            values=dict(subscriber_id=p.member_id, person_id=person_id, purpose=PRESCREEN_PURPOSE, hard=0,
                        basis="prescreen", consent_id=None, basis_note=self.policy.profile.prescreen_basis,
                        declared_monthly_income=None, actor_code=p.code, created_at=self.now),
            audit=AuditNote(p.member_id, p.code, "prescreen.select", person_id, PRESCREEN_PURPOSE,
                            {"prescreen_id": self.id})) for person_id, _ in chosen]
        with session_scope(self.engine, write=True) as session:
            inquiry_ids = write_entries(session, entries) if entries else []
            repo = PrescreenRepository(session)
            repo.add_selections([dict(prescreen_id=self.id, person_id=person_id, inquiry_id=inquiry_id,
                                      mailing_enc=self.vault.encrypt_json({"name": name, "address": address}))
                                 for (person_id, (name, address)), inquiry_id in zip(chosen, inquiry_ids, strict=True)])
            self.selected += len(chosen)
            repo.progress(self.id, considered=self.considered, selected=self.selected,
                          status=DONE if finished else RUNNING, finished_at=self.now if finished else None)
            if finished:
                audit.record(session, actor_member_id=p.member_id, actor_code=p.code, action="prescreen.done",
                             details={"prescreen_id": self.id, "considered": self.considered,
                                      "selected": self.selected})

    def run(self, *, chunk: int, progress: Callable[[int], None] | None) -> None:
        """Select page after page of candidates until none is left or the list is full."""
        after, keep = 0, candidates(self.now)
        while True:
            with session_scope(self.engine) as session:
                ids = accounts.persons_with_credit(session, after_id=after, limit=chunk,
                                                   credit_products=CREDIT_PRODUCTS, condition=keep)
                chosen = self._judge(session, ids) if ids else []
            room = self.request.max_persons - self.selected
            chosen = chosen[:room]
            self.considered += len(ids)
            full = len(chosen) == room
            self._commit(chosen, finished=full or len(ids) < chunk)
            if progress is not None and ids:
                progress(len(ids))
            if full or len(ids) < chunk:
                return
            after = ids[-1]


def run(engine: Engine, *, vault: PiiVault, policy: Policy, principal: Principal, request: PrescreenCreate,
        chunk: int = CHUNK, progress: Callable[[int], None] | None = None, now: datetime | None = None
        ) -> PrescreenRead:
    """Run a lender's prescreen: check who asks and the criteria, then select a chunk at a time.

    Args:
        principal: The subscriber asking (its list is its own).
        policy: The bureau's policy: the profile decides whether prescreening is allowed at all.
        request: The criteria, the firm offer and the cap on the list.
        chunk: Candidates read and judged per transaction.
        progress: Called with the number of candidates judged after each chunk (the command line's bar).

    Returns:
        The prescreen, done, with how many files were judged and how many persons selected.
    """
    now = now or datetime.now(UTC)
    if not 1 <= chunk <= 50_000:
        raise Unprocessable("chunk must be 1 to 50,000", code="INVALID_CHUNK", field="chunk")
    with session_scope(engine, write=True) as session:
        check_lender(session, principal=principal, policy=policy)
        card = released_model(session)
        rules.check(request.criteria, scale=card.scale if card is not None else None)
        prescreen_id = PrescreenRepository(session).add(dict(
            subscriber_id=principal.member_id, actor_code=principal.code,
            criteria=request.criteria.model_dump_json(exclude_none=True), offer_product=request.offer_product,
            offer_terms=request.offer_terms, max_persons=request.max_persons,
            model_version=card.model_version if card is not None else None, status=RUNNING, persons_considered=0,
            persons_selected=0, created_at=now, finished_at=None))
        audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="prescreen.run",
                     purpose=PRESCREEN_PURPOSE, details={"prescreen_id": prescreen_id,
                                                         "criteria": request.criteria.model_dump(exclude_none=True),
                                                         "offer_product": request.offer_product,
                                                         "max_persons": request.max_persons})
    _Run(engine, vault=vault, policy=policy, principal=principal, request=request, prescreen_id=prescreen_id,
         card=card, now=now).run(chunk=chunk, progress=progress)
    with session_scope(engine) as session:
        return get_prescreen(session, principal=principal, prescreen_id=prescreen_id)


def _read(row) -> PrescreenRead:
    return PrescreenRead(id=row.id, status=row.status, criteria=PrescreenCriteria(**json.loads(row.criteria)),
                         offer_product=row.offer_product, offer_terms=row.offer_terms, max_persons=row.max_persons,
                         model_version=row.model_version, persons_considered=row.persons_considered,
                         persons_selected=row.persons_selected, created_at=row.created_at,
                         finished_at=row.finished_at)


def _own(session: Session, principal: Principal, prescreen_id: int):
    authorize(principal, Action.PRESCREEN)
    row = PrescreenRepository(session).get(prescreen_id, subscriber_id=principal.member_id)
    if row is None:
        raise NotFound(f"you have no prescreen {prescreen_id}", code=errors.PRESCREEN_NOT_FOUND, field="prescreen_id")
    return row


def get_prescreen(session: Session, *, principal: Principal, prescreen_id: int) -> PrescreenRead:
    """One of the lender's prescreens (another lender's, or an unknown id, is not found)."""
    return _read(_own(session, principal, prescreen_id))


def list_prescreens(session: Session, *, principal: Principal, limit: int = 50) -> list[PrescreenRead]:
    """The lender's prescreens, newest first."""
    authorize(principal, Action.PRESCREEN)
    return [_read(r) for r in PrescreenRepository(session).of_subscriber(principal.member_id,
                                                                        limit=min(max(limit, 1), 200))]


def firm_offer_list(session: Session, *, vault: PiiVault, principal: Principal, prescreen_id: int, after: int = 0,
                    limit: int = MAX_PAGE) -> FirmOfferList:
    """A page of one of the lender's lists: reference, name and address of each person, decrypted here only;
    every read is audited."""
    row = _own(session, principal, prescreen_id)
    if not 1 <= limit <= MAX_PAGE:
        raise Unprocessable(f"limit must be 1 to {MAX_PAGE}", code="INVALID_LIMIT", field="limit")
    page = PrescreenRepository(session).selections(row.id, after=after, limit=limit)
    entries = []
    for selection in page:
        mailing = vault.decrypt_json(selection.mailing_enc)
        entries.append(FirmOfferEntry(reference=f"pre-{row.id}-{selection.id}", name=mailing["name"],
                                      address=mailing["address"]))
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="prescreen.list_read",
                 purpose=PRESCREEN_PURPOSE, details={"prescreen_id": row.id, "after": after, "entries": len(entries)})
    return FirmOfferList(prescreen_id=row.id, entries=entries,
                         next_after=page[-1].id if len(page) == limit else None)
