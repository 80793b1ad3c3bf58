"""Factories of the enterprise tests: sole traders' and enterprises' records (standard v1.1)."""

from __future__ import annotations

from openbureau.intake import standard
from openbureau.uscc import uscc_check_character
from tests.intake.factories import person, record

# The example code printed with GB 32100-2015 and an individual business's code (category 92) built with its
# check character.
FIRM_USCC = "91350100M000100Y43"
FIRM_NAME = "福州示例贸易有限公司"
SHOP_USCC = "92440300MA5EQ7X81" + uscc_check_character("92440300MA5EQ7X81")
SHOP_NAME = "深圳市南山区王小明便利店"
V1_COLUMNS = [c for c in standard.COLUMNS if c not in ("borrower_type", "enterprise_uscc", "enterprise_name")]
PERSON_COLUMNS = ("id_type", "id_number", "full_name", "birth_date", "phone", "address")


def enterprise(account: str, *, uscc: str = FIRM_USCC, name: str = FIRM_NAME, **overrides: str | None
               ) -> dict[str, str | None]:
    """A valid record of an enterprise borrower (no person columns)."""
    return record(**{"furnisher_account_id": account, "borrower_type": "enterprise", "enterprise_uscc": uscc,
                     "enterprise_name": name, **dict.fromkeys(PERSON_COLUMNS), **overrides})


def sole_trader(index: int, account: str, *, uscc: str = SHOP_USCC, name: str = SHOP_NAME,
                **overrides: str | None) -> dict[str, str | None]:
    """A valid record of a sole trader: person ``index`` owns the business."""
    return person(index, **{"furnisher_account_id": account, "borrower_type": "sole_trader",
                            "enterprise_uscc": uscc, "enterprise_name": name, **overrides})
