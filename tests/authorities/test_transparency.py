"""The transparency report: exact aggregates per quarter, basis and authority; every count of 1 to 4
suppressed, and no suppressed count given back by any total (property-tested); no identifier, citation or
reference anywhere in it; the same report from the command line. Both engines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from openbureau.authorities import service
from openbureau.authorities.models import LegalBasis
from openbureau.authorities.transparency import SUPPRESSED, build, quarter_of, suppress
from openbureau.cli.main import app
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Unprocessable
from tests.authorities.factories import CITATION, REFERENCE, request
from tests.disputes.factories import OTHER_SUBJECT, SUBJECT
from tests.intake.factories import PEOPLE
from tests.reports.conftest import NOW
from tests.security.factories import cli_env

BASES = [b.value for b in LegalBasis]


def test_suppression_hides_small_cells_and_whatever_would_give_them_away() -> None:
    assert suppress({"all": 12, "a": 10, "b": 2}, [("all", ["a", "b"])], threshold=5) == {"a", "b"}
    assert suppress({"all": 12, "a": 12, "b": 0}, [("all", ["a", "b"])], threshold=5) == set()
    assert suppress({"all": 3, "a": 3}, [("all", ["a"])], threshold=5) == {"all", "a"}
    assert suppress({"all": 9, "a": 9}, [("all", ["a"])], threshold=5) == set()
    # Two small parts hide each other; a zero is hidden only when no other count can protect the small one.
    assert suppress({"all": 6, "a": 2, "b": 4, "c": 0}, [("all", ["a", "b", "c"])], threshold=5) == {"a", "b"}
    assert suppress({"all": 7, "a": 2, "b": 0, "c": 5}, [("all", ["a", "b", "c"])], threshold=5) == {"a", "c"}
    assert suppress({"all": 2, "a": 2, "b": 0}, [("all", ["a", "b"])], threshold=5) == {"all", "a"}


def _rows(draw_rows) -> list[SimpleNamespace]:
    return [SimpleNamespace(authority_id=a, person_id=p, basis=BASES[b], created_at=datetime(2026, m, 1, tzinfo=UTC),
                            nondisclosure_until=None if nd is None else datetime(2026, 6, 1, tzinfo=UTC)
                            + timedelta(days=nd))
            for a, p, b, m, nd in draw_rows]


ROWS = st.lists(st.tuples(st.integers(1, 4), st.integers(1, 12), st.integers(0, 3), st.integers(1, 12),
                          st.one_of(st.none(), st.integers(0, 300))), max_size=60)


@settings(max_examples=300, deadline=None)
@given(ROWS)
def test_every_small_count_is_suppressed_and_no_total_gives_one_back(drawn) -> None:
    rows = _rows(drawn)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    names = {i: (f"A{i}", f"Authority {i}") for i in range(1, 5)}
    report = build(rows, year=2026, authorities=names, now=now)
    # The true counts, computed here apart from the report.
    quarter = Counter(quarter_of(r.created_at) for r in rows)
    basis = Counter(r.basis for r in rows)
    cell = Counter((quarter_of(r.created_at), r.basis) for r in rows)
    authority = Counter(names[r.authority_id][0] for r in rows)
    nd = Counter(quarter_of(r.created_at) for r in rows if r.nondisclosure_until is not None)
    under = Counter(quarter_of(r.created_at) for r in rows if r.nondisclosure_until and r.nondisclosure_until > now)
    q = {f.quarter: f for f in report.quarters}
    shown = {"all": (report.requests, len(rows)), "persons": (report.persons_affected, len({r.person_id for r in rows})),
             "nd": (report.with_nondisclosure, sum(nd.values())), "under": (report.still_under_nondisclosure,
                                                                           sum(under.values()))}
    for n in (1, 2, 3, 4):
        f = q[f"2026-Q{n}"]
        shown |= {f"q{n}": (f.requests, quarter[n]), f"q{n}nd": (f.with_nondisclosure, nd[n]),
                  f"q{n}under": (f.still_under_nondisclosure, under[n]),
                  f"q{n}persons": (f.persons_affected,
                                   len({r.person_id for r in rows if quarter_of(r.created_at) == n}))}
        shown |= {f"q{n}{b}": (f.by_basis[b], cell[(n, b)]) for b in BASES}
    shown |= {b: (report.by_basis[b], basis[b]) for b in BASES}
    shown |= {a.authority: (a.requests, authority[a.authority]) for a in report.by_authority}
    assert {a.authority for a in report.by_authority} == set(authority)
    for name, (published, true) in shown.items():
        assert published == true or published == SUPPRESSED, name
        assert published == SUPPRESSED or not 0 < true < 5, name
    groups = [("all", [f"q{n}" for n in (1, 2, 3, 4)]), ("all", BASES), ("all", list(authority)),
              ("nd", [f"q{n}nd" for n in (1, 2, 3, 4)]), ("under", [f"q{n}under" for n in (1, 2, 3, 4)]),
              *((f"q{n}", [f"q{n}{b}" for b in BASES]) for n in (1, 2, 3, 4)),
              *((b, [f"q{n}{b}" for n in (1, 2, 3, 4)]) for b in BASES)]
    for total, parts in groups:
        if parts:
            assert sum(shown[k][0] == SUPPRESSED for k in (total, *parts)) != 1, (total, parts)


def _make_year(runtime) -> None:
    """14 requests in 2026: Q1 6 court orders (COURT, persons 0 and 1) and 2 tax assessments (TAX); Q2 5
    criminal investigations under non-disclosure until the year's end (POLICE); Q4 1 court order."""
    for day in range(6):
        request(runtime, "COURT", now=datetime(2026, 2, 1 + day, tzinfo=UTC),
                subject=SUBJECT if day % 2 else OTHER_SUBJECT)
    for day in range(2):
        request(runtime, "TAX", basis="tax_assessment", now=datetime(2026, 3, 1 + day, tzinfo=UTC))
    for day in range(5):
        request(runtime, "POLICE", basis="criminal_investigation", now=datetime(2026, 5, 1 + day, tzinfo=UTC),
                nondisclosure_ref=f"ND-{day}", nondisclosure_until=datetime(2026, 12, 31, tzinfo=UTC))
    request(runtime, "COURT", now=datetime(2026, 11, 1, tzinfo=UTC))
    request(runtime, "COURT", now=datetime(2025, 12, 31, 23, 59, tzinfo=UTC))  # the year before


def _report(runtime, year: int = 2026, now: datetime = NOW):
    with session_scope(runtime.engine) as session:
        return service.transparency_report(session, year=year, now=now)


def test_the_report_counts_a_year_and_suppresses_small_cells(bureau) -> None:
    runtime, _ = bureau
    _make_year(runtime)
    report = _report(runtime)
    S = SUPPRESSED
    assert (report.requests, report.persons_affected, report.with_nondisclosure, report.still_under_nondisclosure) \
        == (14, S, 5, 5)
    # Tax (2) is small; criminal investigations (5) go with it, or 14 - 7 - 0 would give the 2 back.
    assert report.by_basis == {"court_order": 7, "criminal_investigation": S, "tax_assessment": S, "other": 0}
    assert [(a.authority, a.authority_name, a.requests) for a in report.by_authority] == [
        ("COURT", "Haidian People's Court", 7), ("POLICE", "Beijing Public Security Bureau", S),
        ("TAX", "Beijing Tax Service", S)]
    q1, q2, q3, q4 = report.quarters
    assert (q1.quarter, q1.requests, q1.persons_affected, q1.by_basis) == (
        "2026-Q1", 8, S, {"court_order": S, "criminal_investigation": 0, "tax_assessment": S, "other": 0})
    assert (q2.requests, q2.with_nondisclosure, q2.still_under_nondisclosure, q2.by_basis["criminal_investigation"]) \
        == (S, 5, 5, S)
    assert (q3.requests, q3.persons_affected, set(q3.by_basis.values())) == (0, 0, {0})
    assert (q4.requests, q4.by_basis["court_order"]) == (S, S)
    # Once the orders end nobody is under one any more; the year before holds its one request.
    assert _report(runtime, now=datetime(2027, 1, 1, tzinfo=UTC)).still_under_nondisclosure == 0
    before = _report(runtime, 2025)
    assert (before.requests, before.quarters[3].requests, before.by_authority[0].requests) == (S, S, S)
    assert _report(runtime, 2024).requests == 0


def test_the_report_names_nobody_and_holds_no_text_of_a_request(bureau) -> None:
    runtime, _ = bureau
    _make_year(runtime)
    published = _report(runtime).model_dump_json()
    for secret in (*[p[0] for p in PEOPLE], *[p[2] for p in PEOPLE], REFERENCE, CITATION, "ND-1", "13800138000"):
        assert secret not in published
    assert '"person_id"' not in published


def test_the_command_line_prints_the_report_and_the_operators_list(bureau, monkeypatch) -> None:
    runtime, _ = bureau
    _make_year(runtime)
    runner = CliRunner()
    with cli_env(runtime, monkeypatch):
        shown = runner.invoke(app, ["authorities", "transparency", "--year", "2026"], env={"COLUMNS": "200"})
        as_json = runner.invoke(app, ["authorities", "transparency", "--year", "2026", "--json"])
        listed = runner.invoke(app, ["authorities", "requests", "--limit", "3"], env={"COLUMNS": "200"})
        bad = runner.invoke(app, ["authorities", "transparency", "--year", "1999"])
        added = runner.invoke(app, ["members", "add", "--code", "CUSTOMS", "--name", "Customs", "--role", "authority"])
    assert shown.exit_code == 0, shown.output
    assert "2026-Q1" in shown.output and "Haidian People's Court" in shown.output and "suppressed" in shown.output
    assert '"requests": 14' in as_json.output
    assert listed.exit_code == 0 and "2026-11-01" in listed.output and "COURT" in listed.output
    assert REFERENCE not in listed.output and CITATION not in listed.output and PEOPLE[0][0] not in listed.output
    assert bad.exit_code == 2
    assert added.exit_code == 0 and "with roles: authority" in added.output


@pytest.mark.parametrize("year", [1999, 9999])
def test_a_year_out_of_range_is_refused(bureau, year) -> None:
    runtime, _ = bureau
    with pytest.raises(Unprocessable) as refused:
        _report(runtime, year)
    assert refused.value.code == "INVALID_YEAR"
