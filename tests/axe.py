"""axe-core in the browser tests: WCAG 2.1 A and AA rules, serious and critical violations.

axe-core is vendored (tests/vendor/axe-core/, its digest checked by
tests/responders/test_field_accessibility.py) and injected by the test into a page opened in a
browser context made with `bypass_csp=True`, the only thing that bypass lets through: the
pages' own policy is tested in tests/acs/test_csp_browser.py.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

AXE = Path(settings.BASE_DIR) / "tests" / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

RUN_AXE = """async ([tags, include]) => {
  const result = await axe.run(include ? {include: [include]} : document,
                               {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary),
  }));
}"""


def violations(page, include: str | None = None) -> list[dict]:
    """The serious and critical WCAG A/AA violations on the page (or in the part of it that
    the CSS selector `include` names)."""
    page.add_script_tag(path=str(AXE))
    return [v for v in page.evaluate(RUN_AXE, [RULES, include]) if v["impact"] in BLOCKING]
