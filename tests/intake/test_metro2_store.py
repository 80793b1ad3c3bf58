"""A furnisher's period written from the store as Metro 2, on both engines: audited, operators only, held
records left out, and a file that the same furnisher submits to another bureau loads the same accounts."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from openbureau.accounts.models import AccountState
from openbureau.audit import service as audit
from openbureau.audit.models import AuditEntry
from openbureau.cli.main import app as cli
from openbureau.identity.models import Person
from openbureau.identity.service import open_identity
from openbureau.intake import service
from openbureau.intake.metro2_out import write_period
from openbureau.kit.crypto import PiiVault, load_keys
from openbureau.kit.db import make_engine, session_scope
from openbureau.kit.errors import BureauError
from openbureau.kit.settings import Settings
from openbureau.members.models import Member, Role
from openbureau.metro2 import base
from openbureau.metro2.service import summarize
from openbureau.migrations import upgrade
from openbureau.principals import Principal
from openbureau.runtime import Runtime
from tests.conftest import PG_DEFAULT, PG_ENV, _keys
from tests.members.factories import make_member
from tests.metro2.factories import consumer_file, consumer_values
from tests.security.factories import cli_env

TODAY = date(2026, 11, 22)
COMPARED = ("product_type", "opened_on", "currency", "credit_limit", "original_amount", "term_months", "balance",
            "amount_due", "amount_paid", "past_due_amount", "days_past_due", "payment_status", "account_status",
            "first_delinquency_date", "closed_on", "correction", "history_profile")


def _varied() -> list:
    """Accounts beyond the current cards: a late car loan, a closed card, a charged-off card."""
    return [
        base(consumer_values(0, "CAR-1", portfolio_type="I", account_type="00", credit_limit=0,
                             highest_credit=20000, terms_duration="060", account_status="71", amount_past_due=400,
                             current_balance=15000, date_of_first_delinquency=date(2026, 8, 1))),
        base(consumer_values(1, "CLOSED-1", account_status="13", payment_rating="0", current_balance=0,
                             date_closed=date(2026, 9, 20))),
        base(consumer_values(2, "LOST-1", account_status="97", current_balance=3000, amount_past_due=3000,
                             original_charge_off_amount=3000, date_of_first_delinquency=date(2025, 11, 1),
                             payment_history_profile="L6543210" + "0" * 16)),
    ]


@pytest.fixture
def other_bureau(runtime, tmp_path, sqlite_template) -> Iterator[Runtime]:
    """A second, empty bureau under the US profile on the same engine, with keys of its own."""
    data_dir = tmp_path / "other"
    data_dir.mkdir()
    dropped = None
    if runtime.settings.resolved_database_url.startswith("sqlite"):
        shutil.copyfile(sqlite_template, data_dir / "bureau.db")
        url = f"sqlite:///{data_dir / 'bureau.db'}"
    else:
        admin = os.environ.get(PG_ENV) or PG_DEFAULT
        dropped = f"openbureau_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dropped}"')
        url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{dropped}"
    settings = Settings(data_dir=data_dir, database_url=url, chunk_size=1_000, jurisdiction="US", **_keys())
    engine = make_engine(url)
    upgrade(engine)
    yield Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
    engine.dispose()
    if dropped:
        with psycopg.connect(os.environ.get(PG_ENV) or PG_DEFAULT, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')


def _accounts(bureau) -> dict[str, tuple]:
    """Every stored account: its compared columns, the record's identity and the person's id number, in clear."""
    with session_scope(bureau.engine) as session:
        persons = {p.id: bureau.vault.decrypt(p.id_enc) for p in session.scalars(select(Person))}
        return {s.furnisher_account_id: (tuple(getattr(s, c) for c in COMPARED),
                                         open_identity(bureau.vault, s.identity_enc), persons[s.person_id])
                for s in session.scalars(select(AccountState))}


def test_a_period_written_from_the_store_loads_the_same_accounts_elsewhere(us_bureau, other_bureau, tmp_path,
                                                                          monkeypatch) -> None:
    source = tmp_path / "september.m2"
    source.write_bytes(consumer_file(4, records=_varied()))
    loaded = service.submit(us_bureau.engine, settings=us_bureau.settings, policy=us_bureau.policy,
                            furnisher_code="BANK_US", path=source, today=TODAY).submission
    assert (loaded.records_received, loaded.records_rejected) == (7, 0)

    out = tmp_path / "written.m2"
    written = write_period(us_bureau.engine, vault=us_bureau.vault, principal=audit.terminal_operator(),
                           furnisher_code="BANK_US", period="2026-09", out=out)
    assert (written.records, written.held, written.unwritable) == (7, 0, 0)
    summary = summarize(out)
    assert not summary.codes and summary.kinds == {"header": 1, "base": 7, "trailer": 1}
    with cli_env(us_bureau, monkeypatch):
        by_cli = CliRunner().invoke(cli, ["metro2", "write", "--furnisher", "BANK_US", "--period", "2026-09",
                                          "--out", str(tmp_path / "cli.m2")])
    assert by_cli.exit_code == 0, by_cli.output
    assert (tmp_path / "cli.m2").read_bytes() == out.read_bytes()
    with session_scope(us_bureau.engine) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "submission.write_file")).all()
    assert len(entries) == 2 and all('"period":"2026-09"' in e.details for e in entries)

    make_member(other_bureau, "BANK_US", Role.FURNISHER)
    again = service.submit(other_bureau.engine, settings=other_bureau.settings, policy=other_bureau.policy,
                           furnisher_code="BANK_US", path=out, today=TODAY).submission
    assert (again.status, again.records_received, again.records_rejected) == ("loaded", 7, 0)
    assert _accounts(other_bureau) == _accounts(us_bureau)


def test_only_the_operator_writes_and_held_records_are_left_out(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_US", Role.FURNISHER)
    source = tmp_path / "september.m2"
    source.write_bytes(consumer_file(3))
    service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_US",
                   path=source, today=TODAY)  # CN profile: no consent to furnish, every record held
    out = tmp_path / "written.m2"
    written = write_period(runtime.engine, vault=runtime.vault, principal=audit.terminal_operator(),
                           furnisher_code="BANK_US", period="2026-09", out=out)
    assert (written.records, written.held) == (0, 3)
    assert summarize(out).kinds == {"header": 1, "trailer": 1}
    with session_scope(runtime.engine) as session:
        member = session.scalars(select(Member).where(Member.code == "BANK_US")).one()
        furnisher = Principal.of_member(member)
    with pytest.raises(BureauError) as refused:
        write_period(runtime.engine, vault=runtime.vault, principal=furnisher, furnisher_code="BANK_US",
                     period="2026-09", out=tmp_path / "mine.m2")
    assert refused.value.status_code == 403 and not (tmp_path / "mine.m2").exists()
    with pytest.raises(BureauError) as bad_period:
        write_period(runtime.engine, vault=runtime.vault, principal=audit.terminal_operator(),
                     furnisher_code="BANK_US", period="2026-9", out=tmp_path / "bad.m2")
    assert bad_period.value.code == "INVALID_PERIOD"
