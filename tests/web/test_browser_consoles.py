"""The consoles in a real browser (Debian's Chromium, headless, Playwright, a live server): the regulator signs
in, reads the market, the league table and one furnisher's scorecard; the operator signs in with a code from
the terminal and keeps a queued pair apart; a furnisher's staff sign in with the key and its second factor,
upload a file (its progress shown by the page's script) and read its findings and their quality trend. No request leaves the bureau's origin, no page logs an error, and
each page is photographed at desktop width and at 375 px (in the test's own temporary directory)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from openbureau.audit.models import AuditEntry
from openbureau.identity.models import IdentityReview, Person
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.web.app import create_app
from tests.intake.factories import person, write_file
from tests.live_server import LiveServer
from tests.members.factories import make_member
from tests.reports.test_browser import CHROMIUM, FLAGS
from tests.web.accessibility import photograph, with_axe
from tests.web.factories import authenticator_code, console_code

WIDTHS = {"desktop": 1280, "phone": 375}


@pytest.fixture
def server(market) -> Iterator[tuple[str, object, dict[str, str], int]]:
    runtime, keys = market
    keys["REG"] = make_member(runtime, "REG", Role.REGULATOR)
    with session_scope(runtime.engine, write=True) as session:
        first, second = sorted(session.scalars(select(Person.id)))[:2]
        item = IdentityReview(person_id=second, candidate_person_id=first, match_weight=1.5, match_probability=0.6,
                              evidence='{"agreeing": ["birth_date"], "disagreeing": ["name"]}')
        session.add(item)
        session.flush()
        review_id = item.id
    with LiveServer(create_app(runtime, operator_console=True)) as live:
        yield live.base, runtime, keys, review_id


def _page(browser, base: str):
    """A desktop-width page whose every load carries axe-core, in English (the language cookie set as a visitor
    sets it, by the header's link)."""
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900})
    with_axe(context)
    page = context.new_page()
    page.goto(f"{base}/?lang=en")
    return page


def _member_signs_in(page, runtime, key: str, *, asked: str, signin: str, at: str) -> None:
    """Ask for ``asked``, be sent to the ``signin`` page, sign in with ``key`` and a code of its second factor
    (as an authenticator app shows it), and land at ``at``."""
    page.goto(asked)
    page.wait_for_url(signin)
    page.get_by_label("API key").fill(key)
    page.get_by_label("Authenticator code").fill(authenticator_code(runtime, key))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(at)


def _watched(page, base: str, requested: list[str], problems: list[str]) -> None:
    page.on("request", lambda r: requested.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))


def _shots(page, folder, name: str) -> None:
    photograph(page, folder, name, WIDTHS)  # every page photographed is checked


def test_the_regulator_reads_the_market_and_drills_into_a_furnisher(server, tmp_path) -> None:
    base, runtime, keys, _ = server
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = _page(browser, base)
        _watched(page, base, requested, problems)
        _member_signs_in(page, runtime, keys["REG"], asked=f"{base}/regulator", signin=f"{base}/regulator/signin",
                         at=f"{base}/regulator")
        assert page.get_by_role("heading", name="The market").is_visible()
        assert page.locator("svg[role=img]").count() == 4
        assert page.evaluate("() => document.cookie") == ""
        assert all(keys["REG"] not in c["value"] for c in page.context.cookies())
        _shots(page, tmp_path, "regulator-market")
        page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
        page.get_by_role("link", name="Furnishers").click()
        page.wait_for_url(f"{base}/regulator/furnishers")
        assert page.get_by_test_id("league").locator("tbody tr").count() == 3
        _shots(page, tmp_path, "regulator-league")
        page.get_by_test_id("league").get_by_role("link", name="BANK_A").click()
        page.wait_for_url(f"{base}/regulator/furnishers/BANK_A")
        assert page.get_by_test_id("metrics").is_visible()
        _shots(page, tmp_path, "regulator-scorecard")
        for other in ("intake", "rings"):
            page.goto(f"{base}/regulator/{other}")
            _shots(page, tmp_path, f"regulator-{other}")
        browser.close()
    assert requested and all(url.startswith(base) for url in requested), [u for u in requested
                                                                        if not u.startswith(base)]
    assert problems == []
    assert len(list(tmp_path.glob("*.png"))) == 2 * 5


def test_the_operator_keeps_a_queued_pair_apart(server, tmp_path) -> None:
    base, runtime, _, review_id = server
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = _page(browser, base)
        _watched(page, base, requested, problems)
        page.goto(f"{base}/operator/signin")
        page.get_by_label("One-time code").fill(console_code(runtime))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/operator")
        _shots(page, tmp_path, "operator-home")
        page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
        page.get_by_role("link", name="Identity reviews").first.click()
        page.wait_for_url(f"{base}/operator/reviews")
        review = page.get_by_test_id(f"review-{review_id}")
        assert review.locator(".side-by-side table").count() == 2
        _shots(page, tmp_path, "operator-review")
        page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
        review.get_by_role("button", name="Keep apart").click()
        page.wait_for_url(f"{base}/operator/reviews?done=rejected")
        assert page.get_by_test_id("empty").is_visible()
        page.get_by_role("link", name="Audit").click()
        assert "Intact" in page.get_by_test_id("audit-status").inner_text()
        _shots(page, tmp_path, "operator-audit")
        page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
        page.get_by_role("link", name="Members").click()
        page.wait_for_url(f"{base}/operator/members")
        _shots(page, tmp_path, "operator-members")
        browser.close()
    assert all(url.startswith(base) for url in requested), requested
    assert problems == []
    with session_scope(runtime.engine) as session:
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.actor_member_id.is_(None))))
    assert "identity.review.reject" in actions


def test_a_furnishers_staff_uploads_a_file_and_reads_its_findings(server, tmp_path) -> None:
    base, runtime, keys, _ = server
    path = write_file(tmp_path / "bank-2026-10.csv", [
        person(1, furnisher_account_id="W-1", reporting_period="2026-10"),
        person(1, furnisher_account_id="W-2", reporting_period="2026-10", balance="-5"),
    ])
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = _page(browser, base)
        _watched(page, base, requested, problems)
        _member_signs_in(page, runtime, keys["BANK_A"], asked=f"{base}/lender/uploads",
                         signin=f"{base}/lender/signin", at=f"{base}/lender/workspace")
        _shots(page, tmp_path, "lender-workspace")
        page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
        page.get_by_role("link", name="Upload", exact=True).click()
        page.get_by_label("File").set_input_files(str(path))
        page.get_by_role("button", name="Upload and load").click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}/lender/submissions/\d+$"))
        assert "1 rejected" in page.get_by_test_id("counts").inner_text()
        findings = page.get_by_test_id("findings")
        assert findings.locator("tbody tr").count() == 1 and "NEGATIVE_AMOUNT" in findings.inner_text()
        _shots(page, tmp_path, "lender-submission")
        page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
        page.get_by_role("link", name="Quality").click()
        page.wait_for_url(f"{base}/lender/quality")
        assert page.locator("svg[role=img]").count() == 2
        _shots(page, tmp_path, "lender-quality")
        for other in ("submissions", "disputes", "uploads", "statement"):
            page.goto(f"{base}/lender/{other}")
            _shots(page, tmp_path, f"lender-{other}")
        page.goto(f"{base}/lender")
        _shots(page, tmp_path, "lender-lookup")
        browser.close()
    assert all(url.startswith(base) for url in requested), requested
    assert problems == []
