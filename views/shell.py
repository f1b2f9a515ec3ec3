"""What every page shares in the browser: the styles that make it readable on a projector and
usable on a phone (WCAG 2.2 AA contrast, visible focus, 44 px touch targets, tables that wrap)
and a small script that closes the phone menu after a choice and gives scrolling tables a
keyboard stop. Injected once per run by app.py, before the page runs."""

from __future__ import annotations

import streamlit as st

# Colours checked with axe-core (tests/test_accessibility_browser.py): every text colour here
# is at least 4.5:1 on white and on the widget grey (#f0f2f6).
TEXT = "#1f1f1f"
MUTED = "#4a4a4a"  # small print: 8.9:1 on white (Streamlit's own grey was 3.8:1)
FOCUS = "#1d4ed8"
NARROW = 640  # px: phones held upright, and narrow windows

STYLE = f"""<style>
/* Room for the page, not for chrome: the navigation bar holds the menus, so the page starts
   just below it. */
[data-testid="stMainBlockContainer"] {{ padding-top: 3.6rem; padding-bottom: 2rem;
  max-width: 100%; }}
h1 {{ font-size: 2rem !important; padding: 0.25rem 0 0.25rem 0 !important; }}
h2 {{ font-size: 1.45rem !important; padding: 0.6rem 0 0.2rem 0 !important; }}
h3 {{ font-size: 1.15rem !important; }}
/* small print readable on a projector (contrast 8.9:1) */
[data-testid="stCaptionContainer"] {{ opacity: 1 !important; }}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
[data-testid="stWidgetLabel"] p, [data-testid="stMetricLabel"] p,
[data-testid="stTooltipHoverTarget"], .stSlider [data-testid="stSliderTickBarMin"],
.stSlider [data-testid="stSliderTickBarMax"] {{ color: {MUTED} !important; }}
/* keyboard users see where they are */
:focus-visible, button:focus-visible, a:focus-visible, [tabindex]:focus-visible {{
  outline: 3px solid {FOCUS} !important; outline-offset: 2px !important; }}
/* tables wrap their text instead of scrolling sideways */
[data-testid="stTable"] table {{ width: 100%; table-layout: auto; }}
[data-testid="stTable"] th, [data-testid="stTable"] td {{ white-space: normal !important;
  overflow-wrap: anywhere; vertical-align: top; }}
/* the map's iframe never hides focus or overflows its column */
iframe[title="streamlit_folium.st_folium"] {{ max-width: 100%; display: block; }}
/* the parts of a date box (day, month, year) are each a target of at least 24 x 24 px */
[role="spinbutton"][contenteditable] {{ display: inline-block; min-width: 24px;
  min-height: 24px; line-height: 24px; text-align: center; }}
/* metrics: compact on the projector */
[data-testid="stMetricValue"] {{ font-size: 1.9rem; }}
/* touch targets of at least 44 x 44 px on phones (WCAG 2.5.8 asks 24; thumbs need more) */
@media (max-width: {NARROW}px) {{
  [data-testid="stMainBlockContainer"] {{ padding-left: 0.8rem; padding-right: 0.8rem;
    padding-top: 3.4rem; }}
  h1 {{ font-size: 1.6rem !important; }}
  button, [role="button"], [data-baseweb="select"] > div, input, textarea {{
    min-height: 44px !important; }}
  [data-testid="stRadio"] label, [data-testid="stCheckbox"] label {{
    min-height: 44px; display: flex; align-items: center; }}
  [data-testid="stRadio"] label > div:first-child {{ transform: scale(1.5);
    margin-right: 0.6rem; }}
  [data-testid="stSidebarNav"] a {{ min-height: 44px; }}
}}
</style>"""

# Runs in the page (st.html with unsafe_allow_javascript); guarded so it wires itself once per
# browser tab however many times Streamlit reruns the page. Streamlit cleans the HTML with
# DOMPurify, which drops a script whose text holds "<" before a letter or "/": none here.
SCRIPT = f"""<script>
(function () {{
  const doc = window.parent && window.parent.document ? window.parent.document : document;
  const win = doc.defaultView || window;
  if (win.__cspShell) return;
  win.__cspShell = true;
  const narrow = () => win.innerWidth <= {NARROW};
  // Phone: after a page is chosen from the menu, close the menu so the page shows.
  doc.addEventListener("click", (event) => {{
    const link = event.target.closest && event.target.closest(
      '[data-testid="stSidebarNav"] a, [data-testid="stSidebarNavLink"]');
    if (!link || !narrow()) return;
    setTimeout(() => {{
      const close = doc.querySelector(
        '[data-testid="stSidebarCollapseButton"] button');
      const sidebar = doc.querySelector('[data-testid="stSidebar"]');
      if (close && sidebar && sidebar.getAttribute("aria-expanded") !== "false") close.click();
    }}, 50);
  }}, true);
  // Keyboard users can reach a table that scrolls (WCAG 2.1.1): give it a tab stop and a name.
  let tables = 0;  // each scrolling table its own name: landmarks must differ
  const label = (el) => el.getAttribute("aria-label")
    || ("Table " + (++tables) + " (scrolls sideways)");
  // The phone menu's markup puts each section (a header and its links) in a DIV straight
  // inside the UL: say with roles what it is (a list per section), for screen readers.
  const mendMenu = () => {{
    doc.querySelectorAll('[data-testid="stSidebarNavItems"]').forEach((list) => {{
      if (list.getAttribute("role") !== "none") list.setAttribute("role", "none");
      Array.from(list.children).forEach((section) => {{
        if (section.tagName === "LI" || section.getAttribute("role") === "list") return;
        const header = section.querySelector('[data-testid="stNavSectionHeader"]');
        section.setAttribute("role", "list");
        if (header) {{
          header.setAttribute("role", "none");
          const name = header.querySelector("p");
          section.setAttribute("aria-label", name ? name.textContent.trim() : "Pages");
        }}
      }});
    }});
  }};
  const mend = () => {{
    mendMenu();
    doc.querySelectorAll('[data-testid="stTable"] > div, [data-testid="stTable"]')
      .forEach((el) => {{
        const scrolls = el.scrollWidth > el.clientWidth + 1
          || el.scrollHeight > el.clientHeight + 1;
        if (scrolls && !el.hasAttribute("tabindex")) {{
          el.setAttribute("tabindex", "0");
          el.setAttribute("role", "region");
          el.setAttribute("aria-label", label(el));
        }}
      }});
  }};
  new win.MutationObserver(() => win.requestAnimationFrame(mend))
    .observe(doc.body, {{childList: true, subtree: true}});
  win.addEventListener("resize", mend);
  mend();
}})();
</script>"""


def style_page() -> None:
    """Add the shared styles and script to this run's page (cheap: two small elements)."""
    st.html(STYLE)
    st.html(SCRIPT, unsafe_allow_javascript=True)
