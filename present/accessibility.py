"""The service's accessibility statement (Public Sector Bodies (Websites and Mobile
Applications) (No. 2) Accessibility Regulations 2018), in the shape of the GOV.UK model
statement: shown on its own page and, before signing in, under the sign-in form."""

from __future__ import annotations

import os

CONTACT_ENV = "HOTSPOTS_ACCESSIBILITY_CONTACT"
TESTED_ON = "5 December 2026"


def contact() -> str:
    """Who to tell about a barrier: the partnership's contact, set by the council running the
    service (HOTSPOTS_ACCESSIBILITY_CONTACT), or a plain fallback."""
    return os.environ.get(CONTACT_ENV, "").strip() or \
        "your community safety partnership's lead officer (the admin who gave you your account)"


def statement_markdown() -> str:
    """The statement as Markdown (no data in it, so nothing to escape but the contact)."""
    who = contact().replace("*", "\\*").replace("_", "\\_")
    return f"""
This statement applies to the CSP hotspots service: the hotspot map, the JAG report, the
action-day planner and the PSPO and water-safety registers run by your community safety
partnership. We want as many people as possible to be able to use it. You should be able to:

- zoom in up to 400% without the text spilling off the screen, and pinch-zoom on a phone
  (the maps included);
- reach every control with a keyboard alone, and see where the keyboard is;
- read every colour on the maps and tables in words too: RAG status is written out, each
  equipment state has its own symbol as well as its colour, and every map has a legend;
- use the service with a screen reader: every map has the same information in a table
  beside or below it (hotspots ranked, equipment due, orders listed).

## How accessible this service is
It is built to meet the Web Content Accessibility Guidelines (WCAG) version 2.2 at level AA.
We know of these limits:

- The maps themselves are pictures: a screen reader cannot read the position of a hotspot.
  Every hotspot, order and item of equipment on a map is also in the table with it.
- Drawing an outline on a map (PSPO editor, action-day planner, Data page) needs a mouse or a
  finger. An outline can be uploaded as a file instead.
- The downloaded PDF briefing pack is a printed page, not a tagged PDF; the HTML pack has the
  same content and is accessible.
- Street maps come from a tile server where the network allows; without one the map shows
  boundaries, the river and street names of the busiest places, drawn from the service's own
  data.

## Feedback and contact
If you find a barrier, or need information in another format, tell {who}. Say which page
and what you were trying to do; we will reply within 10 working days.

## Enforcement procedure
The Equality and Human Rights Commission (EHRC) is responsible for enforcing the
accessibility regulations. If you are not happy with how we respond to your complaint,
contact the Equality Advisory and Support Service (EASS).

## How we tested this service
Last tested on {TESTED_ON}: every page, in Chromium at 1366 x 768 (a meeting-room projector)
and 390 x 844 (a phone), with the axe-core 4.14 rules for WCAG 2.0, 2.1 and 2.2 A and AA, by
keyboard, and at 200% and 400% zoom. The automated check runs with every change to the
service: a serious or critical failure stops the change.
"""
