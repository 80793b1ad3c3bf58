"""Factories of the people domain: sign a person in, reading the code from the outbox as their phone would."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from openbureau.consent.schemas import Subject
from openbureau.kit.db import session_scope
from openbureau.notifications.models import Notification
from openbureau.people import service as people
from openbureau.principals import Principal
from openbureau.runtime import Runtime


def document(id_number: str, id_type: str = "CN_RESIDENT_ID") -> Subject:
    """An identity document."""
    return Subject(id_type=id_type, id_number=id_number)


def last_code(runtime: Runtime) -> tuple[str, str]:
    """(code, phone) of the newest sign-in code in the outbox, unsealed as the person's phone reads it."""
    with session_scope(runtime.engine) as session:
        row = session.scalars(select(Notification).where(Notification.kind == "signin.code")
                              .order_by(Notification.id.desc()).limit(1)).one()
        body = runtime.vault.decrypt_json(row.message_enc)["body"]
        phone = runtime.vault.decrypt_json(row.recipient_enc)["address"]
    return re.search(r"\b(\d{6})\b", body).group(1), phone


def start(runtime: Runtime, id_number: str, *, now: datetime) -> people.Started:
    """Ask for a code."""
    with session_scope(runtime.engine, write=True) as session:
        return people.start_signin(session, vault=runtime.vault, key=runtime.signin_key,
                                   document=document(id_number), now=now)


def verify(runtime: Runtime, challenge: str, code: str, *, now: datetime) -> people.Verified:
    """Enter a code (the attempt is committed whatever its outcome)."""
    with session_scope(runtime.engine, write=True) as session:
        return people.verify_signin(session, vault=runtime.vault, key=runtime.signin_key, challenge=challenge,
                                    code=code, now=now)


def sign_in(runtime: Runtime, id_number: str, *, now: datetime) -> str:
    """A session token for the person with ``id_number``."""
    started = start(runtime, id_number, now=now)
    code, _ = last_code(runtime)
    return verify(runtime, started.challenge, code, now=now).result().token


def principal(runtime: Runtime, token: str, *, now: datetime) -> Principal:
    """The person a token authenticates."""
    with session_scope(runtime.engine, read_only=True) as session:
        return people.authenticate(session, vault=runtime.vault, token=token, now=now)


def http_sign_in(client, runtime: Runtime, number: str) -> str:
    """A session token got over HTTP (/v1/me/signin, then the code from the outbox to /v1/me/signin/verify)."""
    started = client.post("/v1/me/signin", json={"document": {"id_type": "CN_RESIDENT_ID", "id_number": number}})
    assert started.status_code == 202, started.text
    code, _ = last_code(runtime)
    issued = client.post("/v1/me/signin/verify", json={"challenge": started.json()["challenge"], "code": code})
    assert issued.status_code == 200, issued.text
    return issued.json()["token"]


def bearer(token: str) -> dict[str, str]:
    """The header a person's session token travels in."""
    return {"Authorization": f"Bearer {token}"}


def notices_of(runtime: Runtime, person_id: int) -> list[tuple[str, str, str]]:
    """(kind, subject, body) of the outbox messages addressed to a person, oldest first, unsealed."""
    with session_scope(runtime.engine) as session:
        rows = session.scalars(select(Notification).where(Notification.person_id == person_id)
                               .order_by(Notification.id)).all()
        return [(r.kind, *runtime.vault.decrypt_json(r.message_enc).values()) for r in rows]
