"""Turn a block's simulated accounts into one month of furnishing records in the v1 standard.

The frame returned by `month_records` has every column of `standard.V1_COLUMNS` (typed: Int64 amounts and
integers, Date dates, String text) plus underscore-prefixed helper columns used for defect injection and
the truth tables; the writer keeps only the standard columns.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from openbureau.intake.standard import ACCOUNT_STATUSES, PAYMENT_STATUSES, PRODUCT_TYPES
from openbureau.sim.behaviour import CLOSED, OPEN, BlockSimulation, Market, report_view
from openbureau.sim.config import Kind
from openbureau.sim.defects import Relations
from openbureau.sim.identities import NO_CHANGE, format_phone
from openbureau.sim.timeline import NO_DAY, month_end, period_label

_NEGATIVE_CLOSED = [PAYMENT_STATUSES.index("D"), PAYMENT_STATUSES.index("Z")]
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9))  # odd multipliers
_ACCOUNT_BITS = 37  # block (14 bits) and the block's account counter (23 bits)
_PERSON_BITS = 34  # person index times number of furnishers


def scramble(values: np.ndarray, bits: int, salt: int = 0) -> np.ndarray:
    """Bijective mixing of integers below 2**bits (distinct in, distinct out), for account numbers and refs.

    Adding, multiplying by an odd number and xor-ing with a right shift are each invertible modulo a
    power of two, so the composition never maps two inputs to the same number.
    """
    mask = np.uint64((1 << bits) - 1)
    x = (values.astype(np.uint64) + np.uint64(salt)) & mask
    with np.errstate(over="ignore"):
        for multiplier in _MIX:
            x = (x * multiplier) & mask
            x ^= x >> np.uint64(bits // 2)
    return x.astype(np.int64)


def digits(values: np.ndarray, width: int) -> pl.Series:
    return pl.Series(values).cast(pl.String).str.zfill(width)


def account_ids(market: Market, slot: np.ndarray, serial: np.ndarray) -> pl.Series:
    """The furnisher's account number of each account: its product's prefix and 12 scrambled digits."""
    return pl.Series(market.prefixes).gather(slot) + digits(scramble(serial, _ACCOUNT_BITS, salt=12345), 12)


def identity_frame(sim: BlockSimulation, rel: Relations, p: np.ndarray, f: np.ndarray) -> pl.DataFrame:
    """How each furnisher `f` identifies person `p`: id_type, id_number, full_name and its consent_ref."""
    pop, n_f = sim.pop, len(sim.market.furnishers)
    strings = pop.strings
    pf = p * n_f + f
    person_global = p + pop.first_index
    names = pl.concat([strings[c] for c in ("name", "name_typo", "name_swapped", "name_spaced", "name_latin",
                                            "name_latin_given_first", "name_traditional", "name_truncated")])
    raw = pl.DataFrame({
        "_id_var": rel.id_variant[pf],
        "_code": pl.Series([fur.code for fur in sim.market.furnishers]).gather(f),
        "_resident_id": strings["resident_id"].gather(p),
        "_passport": strings["passport"].gather(p),
        "_customer_no": digits(scramble(person_global * n_f + f, _PERSON_BITS, salt=777), 11),
        "_consent_no": digits(scramble(person_global * n_f + f, _PERSON_BITS, salt=1 << 33), 11),
        "full_name": names.gather(rel.name_variant[pf] * pop.size + p),
    })
    id_var = pl.col("_id_var")
    return raw.select(
        id_type=pl.when(id_var == 0).then(pl.lit("CN_RESIDENT_ID"))
        .when(id_var == 1).then(pl.lit("OTHER")).otherwise(pl.lit("PASSPORT")),
        id_number=pl.when(id_var == 0).then(pl.col("_resident_id"))
        .when(id_var == 1).then(pl.col("_code").str.slice(0, 2) + pl.col("_customer_no"))
        .otherwise(pl.col("_passport")),
        full_name=pl.col("full_name"),
        _consent_ref=pl.col("_code") + pl.lit("-C") + pl.col("_consent_no"),
        _code=pl.col("_code"),
        _id_var=id_var,
    )


def phone_known_from(sim: BlockSimulation, rel: Relations, pf: np.ndarray) -> np.ndarray:
    """The day from which furnisher and person ``pf`` (person * n_furnishers + furnisher) go by the person's
    new number: the day the furnisher learns it when it held accounts of the person before the change, else the
    day of the change (an applicant gives the number they have; a new relationship starts with it)."""
    changed_on = rel.phone_changed_on[pf // len(sim.market.furnishers)]
    before = sim.first_open[pf] < np.minimum(changed_on, rel.phone_from[pf])
    return np.where(before, rel.phone_from[pf], np.minimum(changed_on, rel.phone_from[pf]))


def person_description(sim: BlockSimulation, rel: Relations, p: np.ndarray, f: np.ndarray,
                       day: np.ndarray | int) -> pl.DataFrame:
    """How furnisher `f` describes person `p` on `day` (a record's period end, an event's day): the identity
    columns of a record or an event.

    Monthly records and lending events share it, so the same furnisher writes the same person the same way
    (name and ID variant, birth date, phone as the furnisher holds it that day, address) and gives its consent
    ref once the consent was granted by `day`. Helper columns: ``_resident`` (identified by a resident ID),
    ``_name_var``, ``_id_var`` and ``_code``.
    """
    pop, n_f = sim.pop, len(sim.market.furnishers)
    strings = pop.strings
    pf = p * n_f + f
    uses_new = day >= phone_known_from(sim, rel, pf)
    granted = sim.first_open[pf] + rel.consent_delay[pf]
    raw = pl.DataFrame({
        "_addr_var": rel.address_variant[pf],
        "_addr_abbr": rel.address_abbreviated[pf],
        "_dob_t": rel.dob_transposed[pf],
        "_phone_style": rel.phone_style[pf],
        "_phone_missing": rel.phone_missing[pf],
        "_consented": rel.consent[pf] & (granted <= day),
        "_phone": pl.select(pl.when(pl.Series(uses_new)).then(strings["phone_b"].gather(p))
                            .otherwise(strings["phone_a"].gather(p))).to_series(),
        "_address": strings["address"].gather(p),
        "_address_short": strings["address_short"].gather(p),
        "_address_abbreviated": strings["address_abbreviated"].gather(p),
        "birth": pop.birth[p],
        "_name_var": rel.name_variant[pf],
    })
    raw = pl.concat([raw, identity_frame(sim, rel, p, f)], how="horizontal")
    birth = pl.col("birth").cast(pl.Int32).cast(pl.Date)
    return raw.select(
        id_type=pl.col("id_type"),
        id_number=pl.col("id_number"),
        full_name=pl.col("full_name"),
        birth_date=pl.when(pl.col("_dob_t") & (birth.dt.day() <= 12) & (birth.dt.day() != birth.dt.month()))
        .then(pl.date(birth.dt.year(), birth.dt.day(), birth.dt.month()))
        .otherwise(birth),
        phone=pl.when(~pl.col("_phone_missing")).then(format_phone(pl.col("_phone"), pl.col("_phone_style"))),
        address=pl.when((pl.col("_addr_var") < 2) & pl.col("_addr_abbr")).then(pl.col("_address_abbreviated"))
        .when(pl.col("_addr_var") == 0).then(pl.col("_address"))
        .when(pl.col("_addr_var") == 1).then(pl.col("_address_short")),
        consent_ref=pl.when(pl.col("_consented")).then(pl.col("_consent_ref")),
        _resident=pl.col("_id_var") == 0,
        _name_var=pl.col("_name_var"),
        _id_var=pl.col("_id_var"),
        _code=pl.col("_code"),
    )


def month_records(sim: BlockSimulation, rel: Relations, month: int) -> pl.DataFrame:
    """All records the block's furnishers report for `month` (before defects)."""
    acc, pop, market = sim.acc, sim.pop, sim.market
    view = report_view(acc, month)
    p, f, slot = acc["person"], acc["furnisher"], acc["slot"]
    period_end = int(month_end(month))
    kind = acc["kind"]
    dpd, k_status = view["dpd"], acc["status"]
    raw = pl.DataFrame({
        "_f": f,
        "_p": p,
        "_open": k_status == OPEN,
        "person_key": pop.strings["person_key"].gather(p),
        "_account_id": account_ids(market, slot, acc["serial"]),
        "ptype": market.ptype[slot],
        "opened": acc["opened"],
        "limit": np.where(kind == Kind.REVOLVING, acc["limit"], -1),
        "principal": np.where(kind == Kind.INSTALLMENT, acc["principal"], -1),
        "term": np.where(kind == Kind.INSTALLMENT, acc["term"], -1),
        "balance": acc["balance"],
        "due": acc["due"],
        "paid": acc["paid"],
        "past_due": acc["past_due"],
        "dpd": dpd,
        "pstatus": view["pstatus"],
        "astatus": k_status,
        "fdd": view["fdd"],
        "closed": np.where(k_status == CLOSED, acc["closed_on"], NO_DAY),
        "notice": np.where((dpd > 0) | np.isin(view["pstatus"], _NEGATIVE_CLOSED), acc["notice"], NO_DAY),
    })
    raw = pl.concat([raw, person_description(sim, rel, p, f, period_end)], how="horizontal")

    def date(name: str) -> pl.Expr:
        return pl.when(pl.col(name) > NO_DAY).then(pl.col(name).cast(pl.Int32).cast(pl.Date))

    def amount(name: str) -> pl.Expr:
        return pl.when(pl.col(name) >= 0).then(pl.col(name))

    return raw.select(
        furnisher_account_id=pl.col("_account_id"),
        reporting_period=pl.lit(period_label(month)),
        id_type=pl.col("id_type"),
        id_number=pl.col("id_number"),
        full_name=pl.col("full_name"),
        birth_date=pl.col("birth_date"),
        phone=pl.col("phone"),
        address=pl.col("address"),
        product_type=pl.col("ptype").replace_strict(list(range(len(PRODUCT_TYPES))), list(PRODUCT_TYPES),
                                                    return_dtype=pl.String),
        opened_on=date("opened"),
        currency=pl.lit("CNY"),
        credit_limit=amount("limit"),
        original_amount=amount("principal"),
        term_months=amount("term"),
        balance=pl.col("balance"),
        amount_due=pl.col("due"),
        amount_paid=pl.col("paid"),
        past_due_amount=pl.col("past_due"),
        days_past_due=pl.col("dpd"),
        payment_status=pl.col("pstatus").replace_strict(list(range(len(PAYMENT_STATUSES))), list(PAYMENT_STATUSES),
                                                        return_dtype=pl.String),
        account_status=pl.col("astatus").replace_strict([0, 1, 2], list(ACCOUNT_STATUSES[:3]),
                                                        return_dtype=pl.String),
        first_delinquency_date=date("fdd"),
        closed_on=date("closed"),
        consent_ref=pl.col("consent_ref"),
        negative_notice_date=date("notice"),
        correction=pl.lit("0"),
        _f=pl.col("_f"),
        _p=pl.col("_p"),
        _open=pl.col("_open"),
        _resident=pl.col("_resident"),
        _name_var=pl.col("_name_var"),
        _id_var=pl.col("_id_var"),
        _code=pl.col("_code"),
        _period_end=pl.lit(period_end).cast(pl.Int32).cast(pl.Date),
        person_key=pl.col("person_key"),
    )


_HEX = np.array([f"{i:02x}" for i in range(256)], dtype="S2")


def consent_frame(sim: BlockSimulation, rel: Relations, last_day: int, rng: np.random.Generator) -> pl.DataFrame:
    """The consents to furnish that the block's furnishers hold at the end of the window.

    One row per (person, furnisher) with a consent granted by `last_day`; `_code` names the furnisher.
    The consent is given at the first account (or, for `consent_later`, during the relationship); 2% are
    revoked later. Records keep carrying the ref after a revocation: checking it is the bureau's job.
    """
    n_f = len(sim.market.furnishers)
    granted = sim.first_open + rel.consent_delay
    held = np.flatnonzero(rel.consent & (sim.first_open < NO_CHANGE) & (granted <= last_day))
    p, f = held // n_f, held % n_f
    k = len(held)
    seconds = rng.integers(8 * 3600, 22 * 3600, k)  # business hours, local time written as UTC
    # Most consents to furnish last as long as the relationship; a fifth run for a fixed five years and, not
    # renewed, lapse while the account stays open (the bureau then holds its records).
    expires = np.where(rng.random(k) < 0.8, -1, granted[held] + 5 * 365 + 1)
    revoked = granted[held] + rel.revoked_after[held]
    revoked = np.where((rel.revoked_after[held] < NO_CHANGE) & (revoked <= last_day), revoked, -1)
    channels = np.array([[fur.consent_channels[i % len(fur.consent_channels)] for i in range(12)]
                         for fur in sim.market.furnishers])
    channel = channels[f, rng.integers(0, 12, k)]
    digest = _HEX[rng.integers(0, 256, (k, 32), dtype=np.uint8)].view("S64").ravel().astype(str)
    ident = identity_frame(sim, rel, p, f)

    def stamp(day: pl.Expr, secs: pl.Expr) -> pl.Expr:
        moment = day.cast(pl.Int32).cast(pl.Date).cast(pl.Datetime("ms")) + pl.duration(seconds=secs)
        return moment.dt.strftime("%Y-%m-%dT%H:%M:%SZ")

    raw = pl.DataFrame({"granted": granted[held], "secs": seconds, "expires": expires, "revoked": revoked,
                        "channel": channel, "evidence_hash": digest})
    return pl.concat([ident, raw], how="horizontal").select(
        consent_ref=pl.col("_consent_ref"),
        id_type=pl.col("id_type"),
        id_number=pl.col("id_number"),
        full_name=pl.col("full_name"),
        purpose=pl.lit("furnish"),
        granted_at=stamp(pl.col("granted"), pl.col("secs")),
        expires_at=pl.when(pl.col("expires") >= 0).then(stamp(pl.col("expires"), pl.col("secs"))),
        channel=pl.col("channel"),
        evidence_hash=pl.col("evidence_hash"),
        status=pl.when(pl.col("revoked") >= 0).then(pl.lit("revoked")).otherwise(pl.lit("active")),
        revoked_at=pl.when(pl.col("revoked") >= 0).then(stamp(pl.col("revoked"), pl.col("secs") % 3600 + 9 * 3600)),
        _code=pl.col("_code"),
    )
