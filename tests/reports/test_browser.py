"""The report page in a real browser: Debian's Chromium, headless, driven by Playwright, against a live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import sync_playwright

from openbureau.api.app import create_app
from tests.live_server import LiveServer
from tests.reports.conftest import ID

CHROMIUM = "/usr/bin/chromium"  # Debian's package (.ci/run installs it); no browser is downloaded
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def server(market) -> Iterator[tuple[str, dict[str, str]]]:
    runtime, keys = market
    with LiveServer(create_app(runtime)) as live:
        yield live.base, keys


def test_the_report_page_renders_its_grid_and_signals_in_chromium(server, tmp_path) -> None:
    base, keys = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1024, "height": 900})
        answer = page.request.post(f"{base}/v1/inquiries?format=html", headers={"X-API-Key": keys["LENDER"]},
                                   data={"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID},
                                         "purpose": "loan_origination", "consent_ref": "L-1"})
        assert answer.status == 201 and answer.headers["x-inquiry-id"]
        page.set_content(answer.text())
        assert page.get_by_test_id("view").inner_text() == "Subscriber view"
        grids = page.get_by_test_id("grid")
        assert grids.count() == 3  # two credit accounts and the telecom account
        assert grids.nth(0).locator("span:not(.label)").count() == 24
        late = grids.nth(0).locator("span.s-2")
        assert late.inner_text() == "2"
        colour = late.evaluate("el => getComputedStyle(el).backgroundColor")
        assert colour == "rgb(255, 183, 77)"  # the 31-60 days colour, not the default
        signals = page.get_by_test_id("signals").locator(".signal")
        # The four credit signals, then the five fraud signals (docs/fraud.md), each shown triggered or not.
        assert signals.count() == 9 and "Recent late payment" in signals.nth(2).inner_text()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1024  # the grid wraps inside the page: nothing runs off the side
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert (tmp_path / "report.png").stat().st_size > 20_000
