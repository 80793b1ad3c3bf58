"""Factories of the fraud tests: persons with valid resident IDs, furnished with chosen phones and addresses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from openbureau.audit.service import terminal_operator
from openbureau.consent.profiles import Purpose
from openbureau.fraud.tasks import build_rings
from openbureau.runtime import Runtime
from tests.consent.factories import grant
from tests.intake.factories import record
from tests.reports.factories import furnish

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
RING_PHONE = "13900000001"
RING_ADDRESS = "上海市浦东新区世纪大道100号1栋101室"
HOTLINE = "4008000000"
_CHECK = "10X98765432"


def birth_of(n: int) -> str:
    """Test person ``n``'s birth date (``YYYYMMDD``): unrelated persons are born on different days."""
    return f"1998{n % 12 + 1:02d}{n % 28 + 1:02d}"


def resident_id(n: int, birth: str | None = None) -> str:
    """A valid resident ID (GB 11643-1999, ISO 7064 MOD 11-2) of region 310115 born on ``birth`` (else
    ``birth_of(n)``)."""
    body = f"310115{birth or birth_of(n)}{n % 1000:03d}"
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(body))
    return body + _CHECK[total % 11]


def applicant(n: int, *, phone: str, address: str, account: str, status: str = "N", name: str = "赵强",
              birth: str | None = None) -> dict:
    """One month of a revolving account of person ``n`` (born on ``birth``, else ``birth_of(n)``) with the given
    contact details."""
    birth = birth or birth_of(n)
    values = {"id_number": resident_id(n, birth), "birth_date": f"{birth[:4]}-{birth[4:6]}-{birth[6:]}",
              "full_name": name, "phone": phone, "address": address, "furnisher_account_id": account,
              "opened_on": "2026-05-02"}
    if status == "2":
        values |= {"days_past_due": "45", "payment_status": "2", "past_due_amount": "1200",
                   "first_delinquency_date": "2026-08-15", "negative_notice_date": "2026-08-16"}
    return record(**values)


def furnish_consented(runtime: Runtime, code: str, records: list[dict], folder: Path) -> None:
    """Grant the furnisher each person's consent, then furnish the records."""
    for rec in records:
        grant(runtime, code, rec["id_number"])
    furnish(runtime, code, records, folder)


def consent_to_inquire(runtime: Runtime, lender: str, id_number: str, ref: str) -> None:
    """The person's consent to ``lender``'s loan-origination inquiry."""
    grant(runtime, lender, id_number, Purpose.LOAN_ORIGINATION, ref=ref)


def build(runtime: Runtime):
    """Run the ring build at the tests' moment."""
    return build_rings(runtime.engine, vault=runtime.vault, settings=runtime.policy.signals,
                       principal=terminal_operator(), now=NOW)
