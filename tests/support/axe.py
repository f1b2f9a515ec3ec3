"""Accessibility checks with axe-core (npm, installed by `make assets`; served from this
machine, never a CDN): run it in a page and in every frame of it (the maps are iframes), and
keep the violations that matter for WCAG 2.2 AA."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Frame, Page

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
SERIOUS = ("serious", "critical")


def _audit_frame(frame: Frame) -> list[dict]:
    """axe's violations in one frame (not its child frames: each is audited on its own)."""
    if not frame.evaluate("() => typeof window.axe !== 'undefined'"):
        frame.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    return frame.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: 'tag', values: tags}, iframes: false,
                resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                          html: n.html.slice(0, 200),
                                          summary: (n.failureSummary || '').slice(0, 300)}))}));
        }""", WCAG_TAGS)


def audit(page: Page) -> list[dict]:
    """Violations in the page and each of its frames, each tagged with the frame's URL."""
    found = []
    for frame in page.frames:
        if frame.url in ("", "about:blank") or frame.url.startswith("data:"):
            continue
        try:
            violations = _audit_frame(frame)
        except Exception as exc:  # a frame that navigated away while being audited
            if "detached" in str(exc).lower() or "destroyed" in str(exc).lower():
                continue
            raise
        for violation in violations:
            violation["frame"] = "page" if frame == page.main_frame else frame.url
            found.append(violation)
    return found


def serious(violations: list[dict]) -> list[dict]:
    """The serious and critical ones: what the tests allow none of."""
    return [v for v in violations if v["impact"] in SERIOUS]


def describe(violations: list[dict]) -> str:
    """One line per violation and its first nodes, for an assertion message."""
    lines = []
    for v in violations:
        where = "; ".join(n["target"] for n in v["nodes"][:3])
        lines.append(f"[{v['impact']}] {v['id']} ({v['frame'][:60]}): {v['help']} -- "
                     f"{len(v['nodes'])} node(s): {where}")
    return "\n".join(lines)
