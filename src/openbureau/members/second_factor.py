"""The second factor of a member's web sign-in: a TOTP authenticator (RFC 6238) bound to one API key.

A member's staff sign in to the bureau's pages (the lender's workspace, the regulator's pages) with the
member's API key and a six-digit code from an authenticator app: the key is what they were given, the code
proves they also hold the device enrolled for that key. The API itself keeps taking the key alone (machines
call it).

- The operator enrols a key at the terminal (``openbureau members second-factor PREFIX``): a new random
  secret, shown once as an ``otpauth://`` address to put into the app, stored encrypted by the bureau's vault
  (a key-rotation column like every other ciphertext). Enrolling again replaces the secret (a lost phone).
- A code is good for its 30-second step and the steps either side (clocks drift), and once: the last
  step accepted is kept, and a code of that step or an earlier one is refused, so a code seen over a
  shoulder or replayed from a log opens nothing.
- Six digits must not be guessed: five wrong codes in a row lock the key's factor for 15 minutes (whatever
  address they come from; a right code or a new enrolment clears the count), and each wrong code also counts
  as a failed sign-in of its address at the web edge (the failure rate the API's wrong keys share). At most
  five guesses per 15 minutes per key: about 3 in 200,000 chances a day of hitting one of the three codes
  taken at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import NotFound
from openbureau.members.repository import MemberRepository
from openbureau.principals import Action, Principal, authorize

ISSUER = "OpenBureau"
DRIFT_STEPS = 1  # a code of the step before or after the current one is taken too
MAX_FAILURES = 5  # wrong codes in a row before the factor is locked
LOCKED_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class Enrolment:
    """A key's new second factor, shown once: the secret and the address an authenticator app reads."""

    member_code: str
    prefix: str
    secret: str
    uri: str


def enrol(session: Session, *, vault: PiiVault, principal: Principal, prefix: str) -> Enrolment:
    """A new TOTP secret for the key with ``prefix`` (the operator), replacing any earlier one."""
    authorize(principal, Action.MANAGE_MEMBERS, message="only the bureau's operator enrols second factors")
    key = MemberRepository(session).key_by_prefix(prefix)
    if key is None:
        raise NotFound(f"no API key with prefix {prefix}", code="KEY_NOT_FOUND", field="prefix")
    if key.revoked_at is not None:
        raise NotFound(f"the API key with prefix {prefix} is revoked", code="KEY_REVOKED", field="prefix")
    secret = pyotp.random_base32()
    key.second_factor_enc = vault.encrypt(secret)
    key.second_factor_step, key.second_factor_failures, key.second_factor_locked_until = None, 0, None
    session.flush()
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                 action="key.second_factor_enrol", details={"member_id": key.member_id, "prefix": prefix})
    uri = pyotp.TOTP(secret).provisioning_uri(name=f"{key.member.code} ({prefix})", issuer_name=ISSUER)
    return Enrolment(member_code=key.member.code, prefix=prefix, secret=secret, uri=uri)


def check(session: Session, *, vault: PiiVault, prefix: str, code: str, now: float | None = None) -> str | None:
    """Take ``code`` for the key with ``prefix`` once: None when taken, else why not (no factor enrolled, the
    factor locked after too many wrong codes, a wrong code, or a code already used). A wrong or used code is
    counted on the key, and the count is the caller's to commit with the refusal. The key itself has been
    authenticated by the caller."""
    key = MemberRepository(session).key_to_change(prefix)  # two sign-ins with one code: the second waits, then fails
    if key is None or key.second_factor_enc is None:
        return (f"this key has no second factor: ask the bureau's operator to enrol one "
                f"(openbureau members second-factor {prefix})")
    moment = time.time() if now is None else now
    at = datetime.fromtimestamp(moment, UTC)
    if key.second_factor_locked_until is not None and key.second_factor_locked_until > at:
        return (f"too many wrong codes: the second factor of this key takes no code before "
                f"{key.second_factor_locked_until:%H:%M} UTC (or ask the bureau's operator to enrol it again)")
    code = code.strip().replace(" ", "")
    totp = pyotp.TOTP(vault.decrypt(key.second_factor_enc))
    current = totp.timecode(moment)
    step = next((s for s in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1)
                 if len(code) == totp.digits and code.isdigit() and pyotp.utils.strings_equal(
                     totp.generate_otp(s), code)), None)
    if step is None or (key.second_factor_step is not None and step <= key.second_factor_step):
        key.second_factor_failures = (key.second_factor_failures or 0) + 1
        if key.second_factor_failures >= MAX_FAILURES:
            key.second_factor_locked_until = at + LOCKED_FOR
            key.second_factor_failures = 0
            audit.record(session, actor_member_id=key.member_id, actor_code=key.member.code,
                         action="key.second_factor_locked", details={"prefix": prefix})
        session.flush()
        return "the authenticator code is wrong or was already used"
    key.second_factor_step, key.second_factor_failures, key.second_factor_locked_until = step, 0, None
    session.flush()
    return None
