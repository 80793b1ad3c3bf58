"""An automated accessibility check of the portal's pages: axe-core (Deque's engine, as published on the npm
registry) run inside the page in the browser, against WCAG 2.1 A and AA.

The engine is a local copy, installed by ``scripts/test`` into ``.cache/npm`` (``AXE_CORE_JS`` names another
file), and is put into each page by the browser's debugging protocol before the page's own scripts
(``add_init_script``): the pages' content security policy, which admits no script but the bureau's own, is not
loosened for it, and the page makes no request for it.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(os.environ.get("AXE_CORE_JS", ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"))
STANDARDS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def with_axe(context) -> None:
    """Every page of the browser ``context`` carries axe-core (the file must exist: scripts/test installs it)."""
    assert AXE.is_file(), f"axe-core is missing at {AXE}: run scripts/test, or set AXE_CORE_JS"
    context.add_init_script(path=str(AXE))


def violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now: one line per rule and element."""
    found = page.evaluate("""async (tags) => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
        return result.violations.map(v => v.nodes.map(n => `${v.id} (${v.impact}): ${n.target.join(" ")}: ${n.failureSummary}`)).flat();
    }""", STANDARDS)
    return list(found)


def assert_accessible(page) -> None:
    """No WCAG 2.1 A/AA violation axe-core can find on the page as it is now."""
    found = violations(page)
    assert found == [], f"{page.url}:\n" + "\n".join(found)


def photograph(page, folder: Path, name: str, widths: dict[str, int]) -> None:
    """Check the page (axe-core), then photograph it whole at each of ``widths`` into ``folder`` (and into
    ``OPENBUREAU_SCREENSHOTS_DIR`` when set: where the README's pictures come from, ``scripts/screenshots``),
    making sure nothing scrolls sideways at any width."""
    assert_accessible(page)
    extra = os.environ.get("OPENBUREAU_SCREENSHOTS_DIR")
    for label, width in widths.items():
        page.set_viewport_size({"width": width, "height": 900})
        for where in (folder, *([Path(extra)] if extra else [])):
            page.screenshot(path=str(where / f"{name}-{label}.png"), full_page=True)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 1, (name, label)
