"""A held-out furnisher for identity resolution: records of kinds the resolver was not built on, with truth.

This generator shares no code with ``openbureau.sim`` or ``openbureau.identity``: its name pools, their
pinyin and traditional forms, its addresses, phone formats and variation rates are its own, written by
hand below, so that a figure measured on it cannot come from the resolver and the data sharing a rule.

It builds:

* a **bureau population** known by resident ID to one to three banks (exact descriptions; a fifth of the
  persons changed mobile number, and one bank still has the old one), including **namesakes**: persons
  who share a name and a birth date with another person but have their own phone and address;
* a **new furnisher** (``NEWCO``) that knows its customers only by its own customer numbers and writes
  them in its own way: names in characters, traditional characters or pinyin (surname or given name
  first, upper or mixed case), given names truncated or extended by a character, birth dates with day and
  month transposed, phones in other formats, old or new numbers, addresses abbreviated or missing;
* **decoys** among NEWCO's customers: persons the bureau has never seen, half of them namesakes of
  bureau persons (same name and birth date, another phone and address).

``generate(persons, seed)`` returns the records (one row per account and month, with ``furnisher``,
``furnisher_account_id``, ``reporting_period``, ``id_type``, ``id_number``, ``full_name``, ``birth_date``,
``phone``, ``address``), the truth (``person_key``, ``id_variant`` and ``corroborable``: whether the record
shows a phone the bureau has seen or an address, per record) and a persons table
(``person_key``, ``namesake_of``).

    python bench/heldout_identity.py --persons 20000 --out DIR    # writes records.parquet and truth/
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

# surname, pinyin, traditional form, relative frequency (a hand-made, skewed pool)
SURNAMES = [
    ("王", "Wang", "王", 71), ("李", "Li", "李", 70), ("张", "Zhang", "張", 66), ("刘", "Liu", "劉", 54),
    ("陈", "Chen", "陳", 45), ("杨", "Yang", "楊", 31), ("黄", "Huang", "黃", 24), ("赵", "Zhao", "趙", 22),
    ("吴", "Wu", "吳", 20), ("周", "Zhou", "周", 19), ("徐", "Xu", "徐", 16), ("孙", "Sun", "孫", 15),
    ("马", "Ma", "馬", 15), ("朱", "Zhu", "朱", 13), ("胡", "Hu", "胡", 13), ("郭", "Guo", "郭", 12),
    ("何", "He", "何", 12), ("林", "Lin", "林", 11), ("罗", "Luo", "羅", 11), ("郑", "Zheng", "鄭", 10),
    ("梁", "Liang", "梁", 9), ("谢", "Xie", "謝", 8), ("韩", "Han", "韓", 7), ("邓", "Deng", "鄧", 7),
    ("冯", "Feng", "馮", 7), ("萧", "Xiao", "蕭", 6), ("钟", "Zhong", "鍾", 4), ("叶", "Ye", "葉", 5),
    ("苏", "Su", "蘇", 4), ("卢", "Lu", "盧", 4), ("蒋", "Jiang", "蔣", 5), ("龙", "Long", "龍", 2),
    ("欧阳", "Ouyang", "歐陽", 1), ("司徒", "Situ", "司徒", 1),
]
# given-name character, pinyin, traditional form
GIVEN = [
    ("伟", "wei", "偉"), ("强", "qiang", "強"), ("军", "jun", "軍"), ("杰", "jie", "傑"), ("涛", "tao", "濤"),
    ("明", "ming", "明"), ("刚", "gang", "剛"), ("辉", "hui", "輝"), ("鹏", "peng", "鵬"), ("华", "hua", "華"),
    ("飞", "fei", "飛"), ("斌", "bin", "斌"), ("宇", "yu", "宇"), ("浩", "hao", "浩"), ("凯", "kai", "凱"),
    ("健", "jian", "健"), ("俊", "jun", "俊"), ("龙", "long", "龍"), ("阳", "yang", "陽"), ("亮", "liang", "亮"),
    ("国", "guo", "國"), ("东", "dong", "東"), ("海", "hai", "海"), ("新", "xin", "新"), ("志", "zhi", "志"),
    ("芳", "fang", "芳"), ("娜", "na", "娜"), ("敏", "min", "敏"), ("静", "jing", "靜"), ("丽", "li", "麗"),
    ("艳", "yan", "艷"), ("娟", "juan", "娟"), ("霞", "xia", "霞"), ("红", "hong", "紅"), ("燕", "yan", "燕"),
    ("兰", "lan", "蘭"), ("梅", "mei", "梅"), ("颖", "ying", "穎"), ("洁", "jie", "潔"), ("云", "yun", "雲"),
    ("梦", "meng", "夢"), ("晓", "xiao", "曉"), ("瑶", "yao", "瑤"), ("丹", "dan", "丹"), ("凤", "feng", "鳳"),
]
# (province, its short form, city, district) and streets, compounds: the addresses' own pool
PLACES = [
    ("广东省", "广东", "广州市", "天河区"), ("广东省", "广东", "深圳市", "福田区"), ("浙江省", "浙江", "杭州市", "西湖区"),
    ("江苏省", "江苏", "南京市", "鼓楼区"), ("四川省", "四川", "成都市", "武侯区"), ("湖北省", "湖北", "武汉市", "洪山区"),
    ("山东省", "山东", "济南市", "历下区"), ("河南省", "河南", "郑州市", "金水区"), ("北京市", "北京", "北京市", "海淀区"),
    ("上海市", "上海", "上海市", "浦东新区"), ("福建省", "福建", "厦门市", "思明区"), ("陕西省", "陕西", "西安市", "雁塔区"),
]
STREETS = ["中山路", "人民路", "解放路", "建设路", "和平路", "新华路", "东风路", "长江路", "青年路", "学院路",
           "文化路", "光明路", "胜利路", "朝阳路", "环城路"]
STREET_TRAD = {"中山路": "中山路", "人民路": "人民路", "解放路": "解放路", "建设路": "建設路", "和平路": "和平路",
               "新华路": "新華路", "东风路": "東風路", "长江路": "長江路", "青年路": "青年路", "学院路": "學院路",
               "文化路": "文化路", "光明路": "光明路", "胜利路": "勝利路", "朝阳路": "朝陽路", "环城路": "環城路"}
COMPOUNDS = ["幸福家园", "翠苑小区", "金色港湾", "锦绣花园", "碧桂园", "万科城", "绿地小区", "阳光新城"]
BANKS = ["BANK_A", "BANK_B", "DIGIBANK"]
NEWCO = "NEWCO"
PERIODS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]


@dataclass(frozen=True)
class Rates:
    """How often NEWCO writes a customer each way (per customer; documented in docs/identity.md)."""

    customers: float = 0.5  # share of bureau persons who are NEWCO customers
    decoys: float = 0.1  # extra NEWCO customers unknown to the bureau (per bureau person)
    decoy_namesakes: float = 0.5  # of the decoys: same name and birth date as a bureau person
    namesakes: float = 0.03  # bureau persons who share name and birth date with another bureau person
    phone_changed: float = 0.2  # persons who changed mobile number (one bank still has the old one)
    # name: characters, traditional, pinyin surname first, pinyin given first, truncated, extended
    name: tuple[float, ...] = (0.35, 0.12, 0.2, 0.15, 0.1, 0.08)
    dob_transposed: float = 0.06  # day and month swapped (when both are 12 or less; else left as is)
    # phone: current in another format, the old number, a new number nobody knows, missing
    phone: tuple[float, ...] = (0.62, 0.15, 0.13, 0.1)
    # address: full, abbreviated, traditional characters, missing
    address: tuple[float, ...] = (0.35, 0.35, 0.15, 0.15)


def _resident_id(rng: random.Random, born: date) -> str:
    body = f"{rng.randint(110000, 659999)}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}"


@dataclass
class _Person:
    key: str
    sur: int
    given: list[int]
    born: date
    phone: str
    old_phone: str | None
    place: int
    street: int
    number: int
    compound: int
    building: int
    unit: int
    room: int
    resident_id: str
    namesake_of: str | None = None


def _draw_person(rng: random.Random, key: str, issued: set[str]) -> _Person:
    weights = [s[3] for s in SURNAMES]
    sur = rng.choices(range(len(SURNAMES)), weights)[0]
    given = [rng.randrange(len(GIVEN)) for _ in range(1 if rng.random() < 0.3 else 2)]
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 52))
    phone = _phone(rng)
    while phone in issued:
        phone = _phone(rng)
    issued.add(phone)
    old = _phone(rng) if rng.random() < Rates.phone_changed else None
    return _Person(key, sur, given, born, phone, old, rng.randrange(len(PLACES)), rng.randrange(len(STREETS)),
                   rng.randint(1, 300), rng.randrange(len(COMPOUNDS)), rng.randint(1, 40), rng.randint(1, 6),
                   rng.randint(1, 30) * 100 + rng.randint(1, 4), _resident_id(rng, born))


def _namesake(rng: random.Random, of: _Person, key: str, issued: set[str]) -> _Person:
    other = _draw_person(rng, key, issued)
    other.sur, other.given, other.born, other.namesake_of = of.sur, list(of.given), of.born, of.key
    other.resident_id = _resident_id(rng, of.born)
    return other


def _name(p: _Person) -> str:
    return SURNAMES[p.sur][0] + "".join(GIVEN[g][0] for g in p.given)


def _address(p: _Person) -> str:
    prov, _, city, district = PLACES[p.place]
    city = "" if prov == city else city
    return (f"{prov}{city}{district}{STREETS[p.street]}{p.number}号{COMPOUNDS[p.compound]}"
            f"{p.building}栋{p.unit}单元{p.room}室")


def _newco_name(rng: random.Random, p: _Person, rates: Rates) -> str:
    kind = rng.choices(range(6), rates.name)[0]
    sur, sur_py, sur_trad, _ = SURNAMES[p.sur]
    given = list(p.given)
    if kind == 4 and len(given) == 2:  # truncated: the last character dropped
        given = given[:1]
    elif kind == 5 and len(given) == 1:  # extended: a second character the bureau never saw
        given = [*given, rng.randrange(len(GIVEN))]
    elif kind in (4, 5):
        kind = 0
    if kind in (2, 3) or (kind in (4, 5) and rng.random() < 0.5):
        given_py = "".join(GIVEN[g][1] for g in given)
        given_py = given_py.capitalize() if rng.random() < 0.7 else given_py.upper()
        sur_out = sur_py.upper() if rng.random() < 0.5 else sur_py
        return f"{given_py} {sur_out}" if kind == 3 else f"{sur_out} {given_py}"
    if kind == 1:
        return sur_trad + "".join(GIVEN[g][2] for g in given)
    return sur + "".join(GIVEN[g][0] for g in given)


def _newco_phone(rng: random.Random, p: _Person, rates: Rates, issued: set[str]) -> str | None:
    kind = rng.choices(range(4), rates.phone)[0]
    if kind == 3:
        return None
    if kind == 2:
        number = _phone(rng)
        while number in issued:
            number = _phone(rng)
        issued.add(number)
    else:
        number = p.old_phone if kind == 1 and p.old_phone else p.phone
    style = rng.randrange(4)
    return [f"0086 {number}", f"({number[:3]}) {number[3:7]}-{number[7:]}", f"+86{number}",
            f"{number[:3]}.{number[3:7]}.{number[7:]}"][style]


def _newco_address(rng: random.Random, p: _Person, rates: Rates) -> str | None:
    kind = rng.choices(range(4), rates.address)[0]
    if kind == 3:
        return None
    full = _address(p)
    if kind == 2:
        trad = full.replace(STREETS[p.street], STREET_TRAD[STREETS[p.street]])
        return trad.replace("区", "區").replace("号", "號").replace("栋", "棟").replace("单元", "單元")
    if kind == 1:
        prov, short, city, district = PLACES[p.place]
        city_short = city.removesuffix("市")
        return (f"{city_short}{district}{STREETS[p.street]}{p.number}号{COMPOUNDS[p.compound]}"
                f"{p.building}-{p.unit}-{p.room}")
    return full


def generate(persons: int, seed: int = 2026, rates: Rates | None = None
             ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Records, truth and persons of a bureau of ``persons`` persons plus NEWCO's customers and decoys."""
    rates = rates or Rates()
    rng = random.Random(seed)
    issued: set[str] = set()
    people: list[_Person] = []
    for i in range(persons):
        key = f"H{i:08d}"
        if people and rng.random() < rates.namesakes:
            people.append(_namesake(rng, rng.choice(people), key, issued))
        else:
            people.append(_draw_person(rng, key, issued))
    rows: list[tuple] = []
    account = 0

    def emit(furnisher: str, p: _Person, id_type: str, id_number: str, name: str, born: date,
             phone: str | None, address: str | None, variant: str, periods: list[str]) -> None:
        nonlocal account
        account += 1
        # Whether the record itself could corroborate a link: a number the bureau has seen, or an address.
        digits = "".join(c for c in phone or "" if c.isdigit())[-11:]
        corroborable = address is not None or digits in {p.phone, p.old_phone}
        for period in periods:
            rows.append((furnisher, f"{furnisher[:2]}{account:010d}", period, id_type, id_number, name,
                         born.isoformat(), phone, address, p.key, variant, corroborable))

    for p in people:
        banks = rng.sample(BANKS, rng.choices([1, 2, 3], [0.5, 0.35, 0.15])[0])
        for j, bank in enumerate(banks):
            # A person who changed number: the first bank still has the old one for the first months.
            months = PERIODS
            if p.old_phone and j == 0:
                emit(bank, p, "CN_RESIDENT_ID", p.resident_id, _name(p), p.born, p.old_phone, _address(p),
                     "resident_id", months[:3])
                emit(bank, p, "CN_RESIDENT_ID", p.resident_id, _name(p), p.born, p.phone, _address(p),
                     "resident_id", months[3:])
            else:
                emit(bank, p, "CN_RESIDENT_ID", p.resident_id, _name(p), p.born, p.phone, _address(p),
                     "resident_id", months)
    customers = [p for p in people if rng.random() < rates.customers]
    decoys = []
    for i in range(int(persons * rates.decoys)):
        key = f"D{i:08d}"
        decoys.append(_namesake(rng, rng.choice(people), key, issued) if rng.random() < rates.decoy_namesakes
                      else _draw_person(rng, key, issued))
    for n, p in enumerate(customers + decoys):
        customer_no = f"NC{seed % 100:02d}{n:09d}"
        name = _newco_name(rng, p, rates)
        born = p.born
        if rng.random() < rates.dob_transposed and born.day <= 12 and born.day != born.month:
            born = date(born.year, born.day, born.month)
        phone = _newco_phone(rng, p, rates, issued)
        address = _newco_address(rng, p, rates)
        for _ in range(rng.choices([1, 2], [0.7, 0.3])[0]):
            start = rng.randrange(len(PERIODS) - 1)
            emit(NEWCO, p, "OTHER", customer_no, name, born, phone, address, "other", PERIODS[start:])
    columns = ["furnisher", "furnisher_account_id", "reporting_period", "id_type", "id_number", "full_name",
               "birth_date", "phone", "address", "person_key", "id_variant"]
    frame = pl.DataFrame(rows, schema={**dict.fromkeys(columns, pl.String), "corroborable": pl.Boolean}, orient="row")
    truth = frame.select("furnisher", pl.col("reporting_period").alias("period"), "furnisher_account_id",
                         "person_key", "id_variant", "corroborable")
    persons_frame = pl.DataFrame([(p.key, p.namesake_of) for p in people + decoys], orient="row",
                                 schema={"person_key": pl.String, "namesake_of": pl.String})
    return frame.drop("person_key", "id_variant", "corroborable"), truth, persons_frame


def write(out: Path, persons: int, seed: int = 2026) -> Path:
    """Write ``records.parquet`` and ``truth/records.parquet``, ``truth/persons.parquet`` under ``out``."""
    records, truth, people = generate(persons, seed)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    records.write_parquet(out / "records.parquet")
    truth.write_parquet(out / "truth" / "records.parquet")
    people.write_parquet(out / "truth" / "persons.parquet")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(write(args.out, args.persons, args.seed))
