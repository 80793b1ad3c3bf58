"""Factories of the prescreen tests: run a prescreen, read its list, the persons' ids and principals."""

from __future__ import annotations

from datetime import datetime

from openbureau.consent.schemas import Subject
from openbureau.consent.service import subject_indexes
from openbureau.identity.repository import find_person_by_any
from openbureau.kit.db import session_scope
from openbureau.prescreen import service as prescreen
from openbureau.prescreen.schemas import PrescreenCreate, PrescreenCriteria
from openbureau.principals import Principal
from tests.intake.factories import PEOPLE
from tests.reports.conftest import NOW

OFFER = {"offer_product": "credit_card", "offer_terms": "A card with a 5,000 USD limit at 19.9% APR, no annual fee."}


def subject(index: int) -> Subject:
    """Person ``index``'s document."""
    return Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[index][0])


def person_id(runtime, index: int) -> int:
    """The bureau's id of person ``index``."""
    with session_scope(runtime.engine) as session:
        s = subject(index)
        return find_person_by_any(session, id_type=s.id_type, id_indexes=subject_indexes(runtime.vault, s)).id


def signed_in(runtime, index: int) -> Principal:
    """Person ``index``, signed in."""
    return Principal.person(f"PERSON:{index}", person_id=person_id(runtime, index))


def run(runtime, principal: Principal, *, policy=None, now: datetime = NOW, max_persons: int = 100, chunk: int = 2,
        **criteria):
    """A prescreen run with ``criteria`` (small chunks, so that a run spans several)."""
    return prescreen.run(runtime.engine, vault=runtime.vault, policy=policy or runtime.policy, principal=principal,
                         now=now, chunk=chunk, request=PrescreenCreate(
                             criteria=PrescreenCriteria(**criteria), max_persons=max_persons, **OFFER))


def names(runtime, principal: Principal, prescreen_id: int) -> set[str]:
    """The names on a list."""
    with session_scope(runtime.engine, write=True) as session:
        page = prescreen.firm_offer_list(session, vault=runtime.vault, principal=principal, prescreen_id=prescreen_id)
    return {e.name for e in page.entries}
