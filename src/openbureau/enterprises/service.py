"""The enterprises domain's rules: numbering the businesses a load names, the rows it writes for them, and
the questions other domains ask (a person's business accounts, an enterprise's accounts, market counts).

Example:
    >>> linker = EnterpriseLinker(read_conn, vault=vault, submission_id=7, now=now)
    >>> frames = linker.business_rows(records, furnisher_id=3)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy import ColumnElement, Connection

from openbureau.enterprises import repository
from openbureau.enterprises.models import USCC, AccountEnterprise, Enterprise, EnterpriseState
from openbureau.enterprises.repository import EnterpriseLoadRepository, EnterpriseRepository
from openbureau.kit.crypto import PiiVault

ENTERPRISE_COLUMNS = [c.name for c in Enterprise.__table__.columns]
STATE_COLUMNS = [c.name for c in EnterpriseState.__table__.columns]
LINK_COLUMNS = [c.name for c in AccountEnterprise.__table__.columns]
KEY = ["furnisher_id", "furnisher_account_id", "reporting_period", "version"]
# The frames a load writes, in the order it writes them (enterprises before the rows that name them).
TABLES = ("enterprises", "enterprise_states", "account_enterprises")


@dataclass(slots=True)
class BusinessRows:
    """What a chunk adds for businesses: new enterprises, enterprise borrowers' states, sole traders' links."""

    enterprises: pl.DataFrame
    enterprise_states: pl.DataFrame
    account_enterprises: pl.DataFrame

    @classmethod
    def empty(cls) -> BusinessRows:
        return cls(pl.DataFrame(), pl.DataFrame(), pl.DataFrame())

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """The frames in ``TABLES`` order."""
        return self.enterprises, self.enterprise_states, self.account_enterprises


def is_enterprise(records: pl.DataFrame) -> pl.Series:
    """Which records an enterprise borrows (no person: they never reach the person linker or consent gate)."""
    return records.select(pl.col("borrower_type").fill_null("person") == "enterprise").to_series()


class EnterpriseLinker:
    """Numbers the businesses of one load and makes the rows it writes for them.

    Reads the enterprises committed before on the preparer's connection and remembers those it numbered
    itself (a load commits as it goes); new enterprises are numbered from the highest id plus one, which is
    safe because only loads write enterprises and a load holds the intake lock from start to end.
    """

    def __init__(self, conn: Connection, *, vault: PiiVault, submission_id: int, now: datetime) -> None:
        self._conn, self._vault, self._submission_id, self._now = conn, vault, submission_id, now
        self._created: dict[bytes, int] = {}
        self._next_id: int | None = None

    def business_rows(self, records: pl.DataFrame, *, furnisher_id: int) -> BusinessRows:
        """The rows for the businesses of ``records`` (kept records with ``version``): enterprise borrowers'
        states, sole traders' links, and the enterprises seen for the first time."""
        business = records.filter(pl.col("borrower_type").is_in(["sole_trader", "enterprise"]))
        if business.height == 0:
            return BusinessRows.empty()
        codes = business["enterprise_uscc"].to_list()
        indexes = self._vault.blind_indexes(codes, domain=USCC)
        ids, new = self._ids(codes, indexes)
        business = business.with_columns(
            pl.Series("enterprise_id", ids, dtype=pl.Int64),
            pl.Series("name_enc", self._vault.encrypt_many(business["enterprise_name"].to_list()), dtype=pl.Binary),
            pl.lit(self._submission_id, dtype=pl.Int64).alias("submission_id"),
            pl.lit(furnisher_id, dtype=pl.Int64).alias("furnisher_id"),
        )
        states = business.filter(pl.col("borrower_type") == "enterprise").with_columns(
            pl.col("_line").alias("line"), (pl.col("_outcome") == "warning").cast(pl.Int8).alias("has_warnings"),
            pl.lit(self._now).alias("stored_at")).select(STATE_COLUMNS).sort(KEY)
        links = business.filter(pl.col("borrower_type") == "sole_trader").select(LINK_COLUMNS).sort(KEY)
        return BusinessRows(new, states, links)

    def _ids(self, codes: list[str], indexes: list[bytes]) -> tuple[list[int], pl.DataFrame]:
        unknown = {i for i in indexes if i not in self._created}
        retiring = self._vault.retiring_indexes(codes, domain=USCC)
        by_index = EnterpriseRepository(self._conn).enterprise_ids([*unknown, *(retiring or [])])
        if retiring is not None:  # during an index key rotation a row may still carry the retiring key's index
            for index, old in zip(indexes, retiring, strict=True):
                if index not in by_index and old in by_index:
                    by_index[index] = by_index[old]
        new_rows = []
        for code, index in zip(codes, indexes, strict=True):
            if index in self._created or index in by_index:
                continue
            if self._next_id is None:
                self._next_id = EnterpriseRepository(self._conn).next_enterprise_id()
            self._created[index] = self._next_id
            new_rows.append({"id": self._next_id, "code_type": USCC, "uscc_index": index,
                             "uscc_enc": self._vault.encrypt(code), "submission_id": self._submission_id,
                             "created_at": self._now})
            self._next_id += 1
        ids = [self._created.get(index) or by_index[index] for index in indexes]
        return ids, pl.DataFrame(new_rows, schema={
            "id": pl.Int64, "code_type": pl.String, "uscc_index": pl.Binary, "uscc_enc": pl.Binary,
            "submission_id": pl.Int64, "created_at": pl.Datetime("us", "UTC")}).select(ENTERPRISE_COLUMNS)


def stored_versions(conn: Connection, *, furnisher_id: int, periods: Sequence[str]) -> pl.DataFrame:
    """The stored versions of a furnisher's enterprise accounts for each of ``periods`` (intake's stored-version
    rules)."""
    return EnterpriseLoadRepository(conn).latest_versions(furnisher_id=furnisher_id, periods=periods)


def write(conn: Connection, table: str, frame: pl.DataFrame) -> None:
    """Insert a load's rows for ``table`` (one of ``TABLES``) in the open transaction."""
    EnterpriseLoadRepository(conn).insert(table, frame)


def forget_orphan_links(conn: Connection) -> int:
    """Delete the business links (a sole trader's business name, sealed) of account states that were deleted:
    an erasure or the retention job leaves nothing of the person's record behind."""
    return EnterpriseLoadRepository(conn).forget_orphan_links()


def discard(conn: Connection, *, submission_id: int) -> None:
    """Delete what a discarded load wrote for businesses."""
    EnterpriseLoadRepository(conn).discard(submission_id=submission_id)


@dataclass(frozen=True, slots=True)
class Business:
    """The business a sole trader's account state was furnished for."""

    enterprise_id: int
    uscc: str
    name: str


def links_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether any state of the person of ``person_id`` (a column or parameter of another domain's statement)
    names a business: when not, :func:`businesses_of` finds none for the keys of their file."""
    return repository.links_exist(person_id)


def businesses_of(conn: Connection, *, vault: PiiVault, keys: Sequence[tuple[int, str, str, int]]
                  ) -> dict[tuple[int, str, str, int], Business]:
    """The business of each sole trader's account state among ``keys`` (furnisher, account, period,
    version), decrypted; states of persons' own loans are absent. Reads personal data: the caller audits."""
    return {(r.furnisher_id, r.furnisher_account_id, r.reporting_period, r.version):
            Business(r.enterprise_id, vault.decrypt(r.uscc_enc), vault.decrypt(r.name_enc))
            for r in EnterpriseRepository(conn).links(list(keys))}


def market_frames(conn: Connection, *, period: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """For the market statistics of ``period``: the newest state of every enterprise account (figures, with
    ``enterprise_id``), and the keys of the sole traders' account states (to tell them among persons')."""
    repo = EnterpriseRepository(conn)
    return repo.latest_frame(period=period), repo.sole_trader_keys(period=period)
