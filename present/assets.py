"""Make folium maps load every script and stylesheet from this app instead of public CDNs.

The service runs without internet access. folium's element classes list their JavaScript and CSS
in ``default_js`` / ``default_css`` as (name, CDN URL) pairs, and streamlit-folium's ``st_folium``
collects those lists from every element of the map and loads the scripts one by one in its
iframe, stopping at the first that fails -- so a single CDN URL leaves the whole map blank.

``use_offline_assets()`` rewrites those class attributes: the assets we ship (installed by
``npm ci`` and copied by ``scripts/vendor_assets.py`` into ``static/vendor/``, which Streamlit
serves at ``/app/static/vendor/``) get local URLs, and every other CDN asset is dropped.

Consequences of dropping: jQuery is replaced by a tiny ``$`` shim in ``folium-offline.js``
(enough for ``folium.Popup``); Bootstrap, Font Awesome and awesome-markers are gone, so
``folium.Icon`` does not render -- use ``CircleMarker`` or the default Leaflet marker. Plugins
whose files we do not ship (e.g. ``MiniMap``, ``Fullscreen``) will fail in the browser. branca
colormaps (legends, e.g. from ``folium.Choropleth``) make ``st_folium`` add d3 from a CDN itself,
which blanks the map offline: draw legends with Streamlit instead.
"""

from __future__ import annotations

import logging
import posixpath
from pathlib import Path

import folium
import folium.plugins
from folium.elements import JSCSSMixin
from folium.template import Template

__all__ = [
    "add_offline_support",
    "assets_ready",
    "external_assets",
    "static_url",
    "use_offline_assets",
    "vendor_dir",
]

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# For people on the pages; the command that fixes it is in the README (`make run` runs it).
SETUP_HINT = ("this installation is missing them: ask whoever runs the service to run its "
              "set-up again")

# Asset name (folium's key in default_js) -> file under static/vendor/. A CDN entry is replaced
# only if its key is listed here AND its file name matches ours, so a plugin that reuses a key
# for a different library (BoatMarker calls its script "markerclusterjs") is dropped, not
# silently pointed at the wrong file.
LOCAL_JS: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "markerclusterjs": "leaflet.markercluster/leaflet.markercluster.js",
    "leaflet-heat.js": "leaflet-heat/leaflet_heat.min.js",
    "leaflet_draw_js": "leaflet-draw/leaflet.draw.js",
}
LOCAL_CSS: dict[str, str] = {
    "leaflet_css": "leaflet/leaflet.css",
    "markerclustercss": "leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/MarkerCluster.Default.css",
    "leaflet_draw_css": "leaflet-draw/leaflet.draw.css",
}
# Our own helper (written by scripts/vendor_assets.py), loaded straight after Leaflet: sets
# L.Icon.Default.imagePath and provides the ``$`` shim that folium.Popup needs.
OFFLINE_JS_NAME = "folium_offline_js"
OFFLINE_JS = "folium-offline.js"
# Files whose presence means the set-up step has run.
REQUIRED_FILES: tuple[str, ...] = (
    *LOCAL_JS.values(),
    *LOCAL_CSS.values(),
    OFFLINE_JS,
    "leaflet/images/marker-icon.png",
    "leaflet/images/layers.png",
    "leaflet-draw/images/spritesheet.svg",
)


def vendor_dir() -> Path:
    """Return the directory ``scripts/vendor_assets.py`` fills (``<project>/static/vendor``)."""
    return PROJECT_ROOT / "static" / "vendor"


def assets_ready() -> bool:
    """Return True if every vendored file exists, so the app can ask the user to run set-up."""
    root = vendor_dir()
    return all((root / name).is_file() for name in REQUIRED_FILES)


def static_url() -> str:
    """Return the URL prefix of ``static/vendor`` as the browser sees it.

    Normally ``/app/static/vendor``; if Streamlit runs under ``server.baseUrlPath`` that prefix
    is prepended. The map iframe is served by the same Streamlit server, so a root-relative URL
    reaches the same origin.
    """
    base = ""
    try:
        from streamlit import config

        base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    except Exception:  # noqa: BLE001 - no Streamlit config: use the default prefix
        base = ""
    return f"/{base}/app/static/vendor" if base else "/app/static/vendor"


def _is_remote(url: str) -> bool:
    """True for URLs that leave this server (http, https or protocol-relative)."""
    return url.startswith(("http://", "https://", "//"))


def _rewrite(
    links: list[tuple[str, str]], local: dict[str, str], prefix: str, owner: str
) -> list[tuple[str, str]]:
    """Map each (name, url) pair to our copy, keep other local URLs, drop remote ones."""
    out: list[tuple[str, str]] = []
    for name, url in links:
        ours = local.get(name)
        if ours and posixpath.basename(url.split("?")[0]) == posixpath.basename(ours):
            out.append((name, f"{prefix}/{ours}"))
        elif name == OFFLINE_JS_NAME:
            out.append((name, f"{prefix}/{OFFLINE_JS}"))
        elif _is_remote(url):
            log.debug("offline assets: dropping %s %s (%s)", owner, name, url)
        else:
            out.append((name, url))
    return out


def _all_subclasses(cls: type) -> list[type]:
    """Return every (transitive) subclass of ``cls`` currently defined."""
    found: list[type] = []
    stack = [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                stack.append(sub)
    return found


def use_offline_assets() -> None:
    """Point every folium element class at the vendored assets and drop all other CDN assets.

    Walks all subclasses of folium's ``JSCSSMixin`` (Map, HeatMap, MarkerCluster, Draw and the
    rest of ``folium.plugins``) and replaces their class-level ``default_js`` / ``default_css``
    with new lists. ``folium-offline.js`` is inserted right after Leaflet in ``Map.default_js``.
    Idempotent and cheap: call it at the top of every page that draws a map (and again after
    defining your own JSCSSMixin subclasses).
    """
    prefix = static_url()
    for cls in [JSCSSMixin, *_all_subclasses(JSCSSMixin)]:
        owner = f"{cls.__module__}.{cls.__qualname__}"
        if "default_js" in cls.__dict__:
            js = _rewrite(list(cls.default_js), LOCAL_JS, prefix, owner)
            if cls is folium.Map and all(name != OFFLINE_JS_NAME for name, _ in js):
                at = next((i + 1 for i, (name, _) in enumerate(js) if name == "leaflet"), 0)
                js.insert(at, (OFFLINE_JS_NAME, f"{prefix}/{OFFLINE_JS}"))
            cls.default_js = js
        if "default_css" in cls.__dict__:
            cls.default_css = _rewrite(list(cls.default_css), LOCAL_CSS, prefix, owner)


def external_assets() -> list[str]:
    """List ``class: url`` for every JSCSSMixin asset still pointing off this server.

    Empty after ``use_offline_assets()``; useful in tests and as a guard in the app.
    """
    out: list[str] = []
    for cls in [JSCSSMixin, *_all_subclasses(JSCSSMixin)]:
        for attr in ("default_js", "default_css"):
            for _, url in cls.__dict__.get(attr, []):
                if _is_remote(url):
                    out.append(f"{cls.__module__}.{cls.__qualname__}: {url}")
    return out


class _Attribution(folium.MacroElement):
    """Adds an attribution line to the map's attribution control (maps without tiles have none)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            if ({{ this._parent.get_name() }}.attributionControl) {
                {{ this._parent.get_name() }}.attributionControl.addAttribution(
                    {{ this.text|tojson }});
            }
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = text


def add_offline_support(m: folium.Map, attribution: str | None = None) -> folium.Map:
    """Prepare one map for offline display and return it.

    Calls ``use_offline_assets()`` (so Leaflet, the plugins and ``folium-offline.js`` -- which
    sets ``L.Icon.Default.imagePath`` to ``.../vendor/leaflet/images/`` as soon as Leaflet has
    loaded, before any marker exists -- come from this server) and, if given, adds
    ``attribution`` (HTML, e.g. data licences) to the map's attribution control; with
    ``tiles=None`` there is no tile layer to carry one.
    """
    use_offline_assets()
    if attribution:
        _Attribution(attribution).add_to(m)
    return m
