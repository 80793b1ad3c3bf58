"""The portal in a real browser: Debian's Chromium, headless, driven by Playwright, against a live server. A
person walks from the landing page through sign-in to their report, their consents and a dispute; no request
leaves the bureau's origin, the pages log no error (a blocked script or style would), and axe-core finds no
WCAG 2.1 A/AA violation on any page (tests/web/accessibility.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import sync_playwright

from openbureau.web.app import create_app
from tests.live_server import LiveServer
from tests.people.factories import last_code
from tests.reports.conftest import ID
from tests.reports.test_browser import CHROMIUM, FLAGS
from tests.web.accessibility import assert_accessible, photograph, with_axe

WIDTHS = {"desktop": 1280, "phone": 375}  # the phone last: the journey goes on at a phone's width


@pytest.fixture
def server(market) -> Iterator[tuple[str, object, dict[str, str]]]:
    runtime, keys = market
    with LiveServer(create_app(runtime)) as live:
        yield live.base, runtime, keys


def test_a_person_signs_in_reads_their_report_and_consents_and_files_a_dispute(server, tmp_path) -> None:
    base, runtime, _ = server
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 375, "height": 800})
        with_axe(context)
        page = context.new_page()
        page.on("request", lambda r: requested.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        page.goto(f"{base}/")  # the bureau's CN profile: Chinese first; the header's link switches to English
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        assert page.get_by_role("heading", name="从这里开始").is_visible()
        photograph(page, tmp_path, "landing-zh", WIDTHS)
        page.get_by_role("link", name="English").click()
        page.wait_for_url(f"{base}/?lang=en")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("heading", name="OpenBureau").is_visible()
        photograph(page, tmp_path, "landing", WIDTHS)
        assert page.evaluate("() => getComputedStyle(document.querySelector('.cards li')).borderStyle") == "solid"
        page.get_by_role("link", name="Your own file").click()
        page.wait_for_url(f"{base}/signin")
        photograph(page, tmp_path, "signin", WIDTHS)
        page.get_by_label("Document number").fill(ID)
        page.get_by_role("button", name="Send me a code").click()
        page.wait_for_url(f"{base}/signin/code")
        code, _ = last_code(runtime)
        photograph(page, tmp_path, "signin-code", WIDTHS)
        page.get_by_label("One-time code").fill(code)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/me")
        assert page.get_by_role("heading", name="Your file").is_visible()
        cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-obp_session")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("() => document.cookie") == ""  # no script reads the session
        photograph(page, tmp_path, "person-home", WIDTHS)

        page.get_by_role("link", name="Your report and score").click()
        page.get_by_role("button", name="Open my report").click()
        page.wait_for_url(f"{base}/me/report/view")
        assert page.get_by_test_id("view").inner_text() == "Your own report"
        assert page.get_by_test_id("grid").count() == 3
        photograph(page, tmp_path, "person-report-view", WIDTHS)
        page.go_back()
        page.goto(f"{base}/me/consents")
        rows = page.get_by_test_id("consents").locator("tbody tr")
        assert rows.count() == 4  # BANK_A, OTHER, TELCO to furnish; LENDER for loan origination
        assert "Lender" in page.get_by_test_id("consents").inner_text()
        photograph(page, tmp_path, "person-consents", WIDTHS)

        page.goto(f"{base}/me/disputes")
        page.get_by_label("Lender code (for an account)").fill("BANK_A")
        page.get_by_label("Account number (for an account)").fill("A-1")
        page.get_by_label("Month (YYYY-MM, optional: the whole account if empty)").fill("2026-10")
        page.get_by_label("What is wrong, in your words").fill("<b>I paid October on time</b>")
        page.get_by_role("button", name="File the dispute").click()
        page.wait_for_url(f"{base}/me/disputes?done=filed")
        assert "Your dispute is filed" in page.get_by_test_id("done").inner_text()
        row = page.get_by_test_id("disputes").locator("tbody tr")
        assert row.count() == 1 and "A-1, 2026-10" in row.inner_text() and "open" in row.inner_text()
        photograph(page, tmp_path, "person-disputes", WIDTHS)
        for area in ("inquiries", "protections", "report"):
            page.goto(f"{base}/me/{area}")
            photograph(page, tmp_path, f"person-{area}", WIDTHS)
        browser.close()
    assert len(list(tmp_path.glob("*.png"))) == 2 * 11
    assert requested and all(url.startswith(base) for url in requested), [u for u in requested
                                                                        if not u.startswith(base)]
    assert problems == []



@pytest.mark.parametrize("path", ["/v1/docs", "/v1/redoc"])
def test_the_api_docs_render_offline_from_the_bureaus_own_assets(server, path) -> None:
    base, _, _ = server
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1024, "height": 800})
        page.on("request", lambda r: requested.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{base}{path}")
        page.get_by_text("/v1/me/signin").first.wait_for(timeout=20_000)  # an operation from the spec is shown
        browser.close()
    assert all(url.startswith(base) or url.startswith(("data:", "blob:")) for url in requested), requested
    assert problems == [], requested


def test_a_lender_looks_a_borrower_up_from_the_landing_page(server) -> None:
    base, _, keys = server
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1024, "height": 900})
        with_axe(context)
        page = context.new_page()
        page.on("request", lambda r: requested.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/?lang=en")  # kept in the language cookie for the pages after
        page.get_by_role("link", name="Look a borrower up").click()
        page.wait_for_url(f"{base}/lender")
        assert_accessible(page)
        page.get_by_label("API key").fill(keys["LENDER"])
        page.get_by_label("Document number").fill(ID)
        page.get_by_label("Purpose").select_option("loan_origination")
        page.get_by_label("Your reference of the person's consent").fill("L-1")
        page.get_by_role("button", name="Get the report").click()
        page.wait_for_url(f"{base}/lender/report")
        assert page.get_by_test_id("view").inner_text() == "Subscriber view"
        assert page.get_by_test_id("grid").count() == 3
        assert_accessible(page)
        assert all(keys["LENDER"] not in c["value"] for c in page.context.cookies())  # the key is kept nowhere
        browser.close()
    assert all(url.startswith(base) for url in requested), requested
    assert problems == []
