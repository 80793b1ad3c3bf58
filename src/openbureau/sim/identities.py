"""Synthetic persons: resident ID numbers, names, mobile numbers, addresses, income and latent risk.

Identities follow the real formats so that the bureau's validators and linkage see realistic data:

* Resident ID numbers are GB 11643-1999 citizen identification numbers: a 6-digit county code
  (regions.REGIONS), the birth date YYYYMMDD, a 3-digit sequence whose last digit is odd for men and
  even for women, and an ISO 7064 MOD 11-2 check character (0-9 or X).
* Mobile numbers are 11 digits with real 13x/15x/17x/18x/19x prefixes.
* Addresses name the province, city and county of the ID's region.

All draws for a block come from one numpy Generator, and the strings are assembled with polars
expressions over whole columns, so a block of 25,000 persons takes a few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from openbureau.sim import names, regions
from openbureau.sim.config import PopulationParams
from openbureau.sim.timeline import month_start

# ISO 7064 MOD 11-2 as used by GB 11643-1999: weights of the 17 body digits and the check characters.
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARS = "10X98765432"

# Real mobile prefixes (China Mobile, China Unicom, China Telecom) and their approximate shares.
PHONE_PREFIXES: tuple[int, ...] = (
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139,
    150, 151, 152, 153, 155, 156, 157, 158, 159,
    170, 171, 173, 175, 176, 177, 178,
    180, 181, 182, 183, 184, 185, 186, 187, 188, 189,
    190, 191, 193, 195, 196, 197, 198, 199,
)
_FAMILY_SHARE = {13: 0.35, 15: 0.25, 17: 0.07, 18: 0.25, 19: 0.08}
# How a furnisher writes a number: plain, +86 spaced, +86 compact, dashes, spaces, +86 dashes.
PHONE_STYLES: tuple[str, ...] = ("plain", "intl_spaced", "intl", "dashed", "spaced", "intl_dashed")
NO_CHANGE = 1 << 30  # month index meaning "never"

_REGION_CODES = np.array([int(r.code) for r in regions.REGIONS], dtype=np.int64)
_REGION_WEIGHTS = np.array([r.weight for r in regions.REGIONS])
_GIVEN_POOL = names.MALE_CHARS + names.FEMALE_CHARS


def check_character(body: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID number.

    Example: ``check_character("11010519491231002")`` is ``"X"``.
    """
    total = sum(int(d) * int(w) for d, w in zip(body, ID_WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def is_valid_resident_id(number: str) -> bool:
    """Whether an 18-character resident ID number is well formed and its check character matches."""
    return (
        len(number) == 18
        and number[:17].isdigit()
        and (number[17].isdigit() or number[17] == "X")
        and check_character(number[:17]) == number[17]
    )


def check_indices(bodies: np.ndarray) -> np.ndarray:
    """Index into CHECK_CHARS of the check character of each 17-digit body (int64)."""
    total = np.zeros(len(bodies), dtype=np.int64)
    for pos, weight in enumerate(ID_WEIGHTS):
        total += (bodies // 10 ** (16 - pos)) % 10 * weight
    return total % 11


@dataclass(frozen=True)
class Population:
    """One block of persons: numeric attributes as numpy arrays, identity strings as a polars frame."""

    first_index: int  # global index of the first person (person_key P########)
    sex: np.ndarray  # 1 man, 0 woman
    birth: np.ndarray  # day numbers
    region: np.ndarray  # index into regions.REGIONS
    income: np.ndarray  # yuan a month
    income_z: np.ndarray  # log income standardised within the block
    risk: np.ndarray  # latent risk, about N(0, 1); higher is worse
    thin: np.ndarray  # thin file: only BNPL, utility and telecom accounts
    synthetic: np.ndarray  # a fraudster's synthetic identity
    ring: np.ndarray  # global fraud ring id, -1 when none
    ring_start: np.ndarray  # month index of the ring's first account, NO_CHANGE when none
    phone_change: np.ndarray  # month index from which the person uses the new number, NO_CHANGE when none
    has_passport: np.ndarray
    namesake_of: np.ndarray  # index in the block of the person whose name and birth date this one shares, -1
    strings: pl.DataFrame  # person_key, resident_id, passport, names, phones, addresses

    @property
    def size(self) -> int:
        """Number of persons in the block."""
        return len(self.sex)


Redraw = Callable[[np.random.Generator, int, np.ndarray], np.ndarray]  # (rng, how many, at which positions)


class IssuedNumbers:
    """Numbers already given out (ID bodies, phones, passports), so that no two persons share one.

    Each kind's numbers are kept sorted: a block's draws are looked up by binary search, so a block costs
    the same however many were issued before it (``np.isin`` sorted every number issued so far at each
    look-up: two phone numbers for each of 1 M persons took 127 s of CPU that way, and 1.6 s now)."""

    def __init__(self) -> None:
        self._issued: dict[str, np.ndarray] = {}

    def unique(self, kind: str, values: np.ndarray, redraw: Redraw, rng: np.random.Generator) -> np.ndarray:
        """Return values with every collision (with earlier blocks or within) replaced by a fresh draw."""
        issued = self._issued.get(kind, np.empty(0, dtype=np.int64))
        values = values.copy()
        for _ in range(100):
            _, first = np.unique(values, return_index=True)
            clash = np.ones(len(values), dtype=bool)
            clash[first] = False
            clash |= _among(issued, values)
            if not clash.any():
                break
            values[clash] = redraw(rng, int(clash.sum()), np.flatnonzero(clash))
        # A stable sort of a sorted run and a new block is a merge (timsort), not a full sort.
        self._issued[kind] = np.sort(np.concatenate([issued, values]), kind="stable")
        return values


def _among(ordered: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in the sorted array ``ordered``."""
    if not len(ordered):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return ordered[at] == values


def _draw_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefixes = np.array(PHONE_PREFIXES, dtype=np.int64)
    family = prefixes // 10
    counts = {f: int((family == f).sum()) for f in _FAMILY_SHARE}
    weights = np.array([_FAMILY_SHARE[int(f)] / counts[int(f)] for f in family])
    chosen = rng.choice(prefixes, size=n, p=weights / weights.sum())
    return chosen * 100_000_000 + rng.integers(0, 100_000_000, size=n)


def _ages_days(rng: np.random.Generator, n: int, age_range: tuple[int, int]) -> np.ndarray:
    ages = np.arange(age_range[0], age_range[1])
    weights = np.exp(-0.5 * ((ages - 36) / 13.0) ** 2) + 0.05
    years = rng.choice(ages, size=n, p=weights / weights.sum())
    return (years * 365.25 + rng.integers(0, 365, size=n)).astype(np.int64)


def make_population(
    *,
    first_index: int,
    count: int,
    history_start: int,
    window_start: int,
    window_months: int,
    ring_base: int,
    params: PopulationParams,
    issued: IssuedNumbers,
    rng: np.random.Generator,
) -> Population:
    """Draw one block of persons.

    Args:
        first_index: global index of the block's first person.
        count: number of persons in the block.
        history_start: month index where the simulated history (burn-in included) begins; every person
            is an adult by then.
        window_start: first month written to the output; fraud rings start inside the window.
        window_months: number of months written.
        ring_base: first global ring id for this block.
        params: population parameters.
        issued: numbers already given to earlier blocks.
        rng: the block's random generator.
    """
    n = count
    n_fraud = int(round(n * params.fraud_share)) if n >= 50 else 0
    sex = (rng.random(n) < params.male_share).astype(np.int8)
    birth = month_start(history_start) - 31 - _ages_days(rng, n, params.age_range)
    region = rng.choice(len(_REGION_CODES), size=n, p=_REGION_WEIGHTS)
    synthetic = np.zeros(n, dtype=bool)
    ring = np.full(n, -1, dtype=np.int64)
    ring_start = np.full(n, NO_CHANGE, dtype=np.int64)
    if n_fraud:
        synthetic[n - n_fraud :] = True  # the block's last persons are the synthetic identities
        sizes: list[int] = []
        while sum(sizes) < n_fraud:
            sizes.append(int(rng.integers(params.ring_size[0], params.ring_size[1] + 1)))
        sizes[-1] -= sum(sizes) - n_fraud
        if sizes[-1] < 2 and len(sizes) > 1:
            last = sizes.pop()
            sizes[-1] += last
        members = np.repeat(np.arange(len(sizes)), sizes)
        ring[n - n_fraud :] = ring_base + members
        starts = window_start + rng.integers(0, max(window_months - 3, 1), size=len(sizes))
        ring_start[n - n_fraud :] = starts[members]
        # Fraudsters fabricate young adults registered in the ring's own county.
        region[n - n_fraud :] = rng.choice(len(_REGION_CODES), size=len(sizes), p=_REGION_WEIGHTS)[members]
        birth[n - n_fraud :] = month_start(history_start) - 31 - _ages_days(rng, n_fraud, (21, 38))

    # Namesakes: a person takes another's sex, birth date and (below) name, keeping everything else. Drawn
    # from a stream of its own so that the rest of the block is what it was without them.
    namesake_rng = rng.spawn(1)[0]
    namesake_of = np.full(n, -1, dtype=np.int64)
    honest = np.flatnonzero(~synthetic)
    k = int(round(len(honest) * params.namesake_share)) if len(honest) >= 100 else 0
    if k:
        chosen = namesake_rng.choice(honest, size=2 * k, replace=False)
        dst, src = chosen[:k], chosen[k:]
        namesake_of[dst], sex[dst], birth[dst] = src, sex[src], birth[src]

    province = np.array([regions.REGIONS[i].province for i in region])
    rich = np.isin(province, params.rich_provinces)
    age_years = (month_start(window_start) - birth) / 365.25
    life_cycle = 0.35 * np.exp(-0.5 * ((age_years - 42) / 12) ** 2)  # earnings peak in the early forties
    log_income = (np.log(params.income_median) + np.log(params.rich_multiplier) * rich + life_cycle
                  + rng.normal(0.0, params.income_sigma, n))
    income = np.exp(log_income)
    z_income = (log_income - log_income.mean()) / max(float(log_income.std()), 1e-9)
    young = (age_years < 25).astype(float)
    risk = 0.85 * rng.normal(size=n) - 0.4 * z_income + 0.6 * young - 0.15
    thin_weight = np.exp(-0.6 * z_income + 0.8 * young)
    thin = (rng.random(n) < params.thin_file_share * thin_weight / thin_weight.mean()) & ~synthetic

    # Resident ID: county code, birth date, sequence with the sex in its parity, check character.
    ymd = birth.astype("datetime64[D]").astype(str)
    ymd_int = np.char.replace(ymd, "-", "").astype(np.int64)
    region_code = _REGION_CODES[region]

    def draw_seq(r: np.random.Generator, k: int, where: np.ndarray) -> np.ndarray:
        parity = r.integers(0, 5, size=k) * 2 + sex[where]
        return region_code[where] * 10**11 + ymd_int[where] * 1000 + r.integers(0, 100, size=k) * 10 + parity

    bodies = issued.unique("resident_id", draw_seq(rng, n, np.arange(n)), draw_seq, rng)
    checks = np.array(list(CHECK_CHARS))[check_indices(bodies)]

    phone_a = issued.unique("phone", _draw_phones(rng, n), lambda r, k, _: _draw_phones(r, k), rng)
    phone_b = issued.unique("phone", _draw_phones(rng, n), lambda r, k, _: _draw_phones(r, k), rng)
    changes = rng.random(n) < params.phone_change_share
    phone_change = np.where(changes, window_start + rng.integers(1, max(window_months, 2), size=n), NO_CHANGE)
    has_passport = rng.random(n) < params.passport_share
    passports = issued.unique("passport", rng.integers(10_000_000, 100_000_000, size=n),
                              lambda r, k, _: r.integers(10_000_000, 100_000_000, size=k), rng)

    surname = rng.choice(len(names.SURNAMES), size=n, p=np.array(names.SURNAME_WEIGHTS))
    n_male = len(names.MALE_CHARS)
    pool_size = np.where(sex == 1, n_male, len(names.FEMALE_CHARS))
    offset = np.where(sex == 1, 0, n_male)
    given1 = offset + (rng.random(n) * pool_size).astype(np.int64)
    given2 = offset + (rng.random(n) * pool_size).astype(np.int64)
    two_chars = rng.random(n) < np.clip(0.95 - 0.01 * (age_years - 30), 0.45, 0.95)
    typo_pos = rng.integers(0, np.where(two_chars, 3, 2))  # 0 surname, 1 first, 2 second given character
    named = namesake_of >= 0
    for arr in (surname, given1, given2, two_chars):
        arr[named] = arr[namesake_of[named]]

    street = rng.integers(0, len(regions.STREETS), n)
    number = rng.integers(1, 999, n)
    compound = rng.integers(0, len(regions.COMPOUNDS), n)
    building = rng.integers(1, 30, n)
    unit = rng.integers(1, 6, n)
    room = rng.integers(1, 33, n) * 100 + rng.integers(1, 5, n)
    if n_fraud:
        # Ring members share one or two phones and one address: the ring leader's.
        fraud = np.arange(n - n_fraud, n)
        leader = np.searchsorted(ring[fraud], ring[fraud]) + (n - n_fraud)
        second = np.minimum(leader + 1, n - 1)
        phone_a[fraud] = np.where(rng.random(n_fraud) < 0.6, phone_a[leader], phone_a[second])
        phone_change[fraud] = NO_CHANGE
        for arr in (street, number, compound, building, unit, room):
            arr[fraud] = arr[leader]

    strings = _identity_strings(
        first_index, bodies, checks, surname, given1, given2, two_chars, typo_pos, phone_a, phone_b,
        passports, region, street, number, compound, building, unit, room,
    )
    return Population(
        first_index=first_index, sex=sex, birth=birth, region=region, income=income, income_z=z_income, risk=risk, thin=thin,
        synthetic=synthetic, ring=ring, ring_start=ring_start, phone_change=phone_change,
        has_passport=has_passport, namesake_of=namesake_of, strings=strings,
    )


def _identity_strings(first_index, bodies, checks, surname, given1, given2, two_chars, typo_pos, phone_a,
                      phone_b, passports, region, street, number, compound, building, unit, room) -> pl.DataFrame:
    n = len(bodies)
    surnames = pl.Series(names.SURNAMES)
    surname_alt = pl.Series([names.SIMILAR.get(s, s) if len(s) == 1 else s for s in names.SURNAMES])
    chars = pl.Series(_GIVEN_POOL)
    chars_alt = pl.Series([names.SIMILAR.get(c, c) for c in _GIVEN_POOL])
    provinces = pl.Series([r.province for r in regions.REGIONS])
    cities = pl.Series([r.city for r in regions.REGIONS])
    counties = pl.Series([r.county for r in regions.REGIONS])
    frame = pl.DataFrame({
        "idx": np.arange(first_index, first_index + n, dtype=np.int64),
        "body": bodies,
        "check": checks,
        "sur": surnames.gather(surname),
        "sur_alt": surname_alt.gather(surname),
        "g1": chars.gather(given1),
        "g1_alt": chars_alt.gather(given1),
        "g2": pl.Series(np.where(two_chars, chars.gather(given2).to_numpy(), "")),
        "g2_alt": pl.Series(np.where(two_chars, chars_alt.gather(given2).to_numpy(), "")),
        "typo": typo_pos,
        "pa": phone_a,
        "pb": phone_b,
        "passport": passports,
        "province": provinces.gather(region),
        "city": cities.gather(region),
        "county": counties.gather(region),
        "street": pl.Series(regions.STREETS).gather(street),
        "number": number,
        "compound": pl.Series(regions.COMPOUNDS).gather(compound),
        "building": building,
        "unit": unit,
        "room": room,
    })
    latin, trad = (pl.col(c).replace_strict({**table, "": ""}, default=pl.col(c)) for c, table in
                   (("sur", names.PINYIN), ("sur", names.TRADITIONAL)))
    given_latin = (pl.col("g1").replace_strict(names.PINYIN, default="")
                   + pl.col("g2").replace_strict({**names.PINYIN, "": ""}, default=""))
    given_trad = (pl.col("g1").replace_strict(names.TRADITIONAL, default=pl.col("g1"))
                  + pl.col("g2").replace_strict({**names.TRADITIONAL, "": ""}, default=pl.col("g2")))
    abbreviated = pl.format("{}{}{}{}号{}{}-{}-{}", pl.when(pl.col("city") == "").then(pl.col("province"))
                            .otherwise(pl.col("city")).str.strip_suffix("市"), "county", "street",
                            "number", "compound", "building", "unit", "room")
    given = pl.col("g1") + pl.col("g2")
    typo_given = (pl.when(pl.col("typo") == 1).then(pl.col("g1_alt")).otherwise(pl.col("g1"))
                  + pl.when(pl.col("typo") == 2).then(pl.col("g2_alt")).otherwise(pl.col("g2")))
    typo_sur = pl.when(pl.col("typo") == 0).then(pl.col("sur_alt")).otherwise(pl.col("sur"))
    street_part = pl.format("{}{}号{}{}栋{}单元{}室", "street", "number", "compound", "building", "unit", "room")
    return frame.select(
        person_key=pl.format("P{}", pl.col("idx").cast(pl.String).str.zfill(8)),
        resident_id=pl.col("body").cast(pl.String) + pl.col("check"),
        passport=pl.format("E{}", pl.col("passport")),
        name=pl.col("sur") + given,
        name_typo=typo_sur + typo_given,
        name_swapped=given + pl.col("sur"),
        name_spaced=pl.col("sur") + pl.lit(" ") + given,
        name_latin=latin.str.to_uppercase() + pl.lit(" ") + given_latin.str.to_uppercase(),
        name_latin_given_first=(given_latin.str.slice(0, 1).str.to_uppercase() + given_latin.str.slice(1) + pl.lit(" ")
                                + latin.str.slice(0, 1).str.to_uppercase() + latin.str.slice(1)),
        name_traditional=trad + given_trad,
        name_truncated=pl.col("sur") + pl.col("g1"),
        address_abbreviated=abbreviated,
        surname=pl.col("sur"),
        given_name=given,
        phone_a=pl.col("pa").cast(pl.String),
        phone_b=pl.col("pb").cast(pl.String),
        address=pl.col("province") + pl.col("city") + pl.col("county") + street_part,
        address_short=pl.when(pl.col("city") == "").then(pl.col("province")).otherwise(pl.col("city"))
        + pl.col("county") + street_part,
        region_code=pl.col("body").cast(pl.String).str.slice(0, 6),
    )


def format_phone(digits: pl.Expr, style: pl.Expr) -> pl.Expr:
    """Write an 11-digit mobile number in one of PHONE_STYLES (index given by `style`)."""
    a, b, c = digits.str.slice(0, 3), digits.str.slice(3, 4), digits.str.slice(7, 4)
    return (
        pl.when(style == 1).then(pl.concat_str([pl.lit("+86 "), a, pl.lit(" "), b, pl.lit(" "), c]))
        .when(style == 2).then(pl.lit("+86") + digits)
        .when(style == 3).then(pl.concat_str([a, pl.lit("-"), b, pl.lit("-"), c]))
        .when(style == 4).then(pl.concat_str([a, pl.lit(" "), b, pl.lit(" "), c]))
        .when(style == 5).then(pl.concat_str([pl.lit("+86-"), a, pl.lit("-"), b, pl.lit("-"), c]))
        .otherwise(digits)
    )


def normalise_phone(text: str) -> str:
    """Strip the formats of PHONE_STYLES back to the 11 digits: '+86 138 1234 5678' -> '13812345678'."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
