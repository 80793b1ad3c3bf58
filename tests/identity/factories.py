"""Small factories for identity tests: persons and stored records written straight to the tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count

import polars as pl

from openbureau.accounts.models import AccountState
from openbureau.identity.models import Person
from openbureau.identity.service import seal_identities
from openbureau.kit.db import session_scope
from openbureau.runtime import Runtime

_accounts = count(1)


def add_person(runtime: Runtime, person_id: int, id_type: str, id_number: str) -> int:
    """Insert a person anchored on (id_type, id_number)."""
    vault = runtime.vault
    with session_scope(runtime.engine, write=True) as session:
        session.add(Person(id=person_id, id_type=id_type, id_index=vault.blind_index(id_number, domain=id_type),
                           id_enc=vault.encrypt(id_number)))
    return person_id


def add_records(runtime: Runtime, person_id: int, *, furnisher_id: int = 1, account: str | None = None,
                periods: tuple[str, ...] = ("2025-01",), full_name: str | None = "张伟",
                birth_date: str | None = "1990-03-07", phone: str | None = "13812345678",
                address: str | None = "广东省深圳市南山区科技路12号阳光花园3栋2单元1203室") -> str:
    """Store one account's records (one per period) for a person, with this identity description."""
    account = account or f"ACC{next(_accounts):06d}"
    identity = pl.DataFrame([{"full_name": full_name, "birth_date": birth_date, "phone": phone,
                              "address": address}] * len(periods),
                            schema={f: pl.String for f in ("full_name", "birth_date", "phone", "address")})
    sealed = seal_identities(runtime.vault, identity).to_list()
    rows = [dict(furnisher_id=furnisher_id, furnisher_account_id=account, reporting_period=p, version=1,
                 submission_id=1, line=i + 2, person_id=person_id, identity_enc=sealed[i], product_type="installment",
                 opened_on=date(2024, 1, 1), currency="CNY", balance=100, amount_due=10, amount_paid=10,
                 past_due_amount=0, days_past_due=0, payment_status="N", account_status="open", correction=0,
                 stored_at=datetime(2025, 2, 1, tzinfo=UTC)) for i, p in enumerate(periods)]
    with session_scope(runtime.engine, write=True) as session:
        session.execute(AccountState.__table__.insert(), rows)
    return account


RESIDENT_ID = "440305199003071236"  # birth date 1990-03-07 in digits 7-14; a valid check digit


def queued_passport_pair(runtime, tmp_path) -> tuple[dict[str, int], int]:
    """BANK_A (registered by the caller) furnishes person 0 under a resident ID and under a passport; the review
    queue holds the pair. Returns the persons' ids by id type and the review's id."""
    from sqlalchemy import select

    from openbureau.identity.models import IdentityReview, Person
    from openbureau.intake import service as intake
    from openbureau.kit.db import session_scope
    from tests.consent.factories import grant
    from tests.intake.factories import PEOPLE, person, write_file

    grant(runtime, "BANK_A", PEOPLE[0][0])
    grant(runtime, "BANK_A", "E12345678", id_type="PASSPORT")
    rows = [person(0), person(0, furnisher_account_id="P-1", id_type="PASSPORT", id_number="E12345678")]
    intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A",
                  path=write_file(tmp_path / "a.csv", rows))
    with session_scope(runtime.engine, write=True) as session:
        ids = dict(session.execute(select(Person.id_type, Person.id)).all())
        item = IdentityReview(person_id=ids["PASSPORT"], candidate_person_id=ids["CN_RESIDENT_ID"], match_weight=9.5,
                              match_probability=0.97, evidence='{"agreeing": ["name", "birth_date"]}')
        session.add(item)
        session.flush()
        return ids, item.id
