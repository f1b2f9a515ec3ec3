/* CSP hotspots: what every map of the service needs beyond Leaflet (served by the app, never a
   CDN). Loaded after Leaflet; present/map.py calls cspMap.setup(map, options) once the map's
   layers exist. Kept dependency-free and small: it runs inside every map's iframe. */
(function () {
  "use strict";
  if (!window.L) { return; }

  // 1. A click on the map must not move the page. Leaflet focuses its container on
  //    mouse-down (for keyboard panning), and the browser then scrolled the page to show the
  //    whole map: 37 px at 1366 x 768, so the first click missed what was under the pointer.
  var keyboard = L.Map.Keyboard && L.Map.Keyboard.prototype;
  if (keyboard) {
    keyboard._onMouseDown = function () {
      if (this._focused) { return; }
      var container = this._map._container;
      try { container.focus({ preventScroll: true }); } catch (e) { /* old browsers */ }
    };
  }

  // 1b. Dragging the map from a hotspot drawn on the canvas must not "click" it (Leaflet
  //     checks for a drag before a click on DOM layers, not on canvas ones): a pan that
  //     started on a hotspot opened its profile.
  var canvas = L.Canvas && L.Canvas.prototype;
  if (canvas && canvas._onClick) {
    var canvasClick = canvas._onClick;
    canvas._onClick = function (e) {
      var drag = this._map && this._map.dragging;
      if (drag && drag.moved && drag.moved()) { return; }
      return canvasClick.call(this, e);
    };
  }

  // 2. Pinch zoom stays allowed (WCAG 1.4.4): folium's page header says user-scalable=no.
  function allowZoom() {
    var metas = document.querySelectorAll('meta[name="viewport"]');
    for (var i = 0; i < metas.length; i++) {
      metas[i].setAttribute("content", "width=device-width, initial-scale=1");
    }
  }
  allowZoom();
  if (window.MutationObserver && document.head) {
    new MutationObserver(allowZoom).observe(document.head, { childList: true });
  }

  function el(tag, className, parent) {
    var node = L.DomUtil.create(tag, className || "", parent);
    return node;
  }
  function text(tag, value, className, parent) {
    var node = el(tag, className, parent);
    node.textContent = value;  // data never becomes markup
    return node;
  }

  // 3. Credits folded behind an (i) button, so they never cover the map.
  L.Control.CspCredits = L.Control.extend({
    options: { position: "bottomright", lines: [] },
    onAdd: function () {
      var box = el("div", "csp-credits leaflet-bar");
      var button = text("button", "i", "csp-credits-button", box);
      button.type = "button";
      button.setAttribute("aria-label", "Map credits and licences");
      button.setAttribute("aria-expanded", "false");
      var panel = el("div", "csp-credits-panel", box);
      panel.hidden = true;
      text("strong", "Map credits and licences", "", panel);
      var list = el("ul", "", panel);
      this._list = list;
      this.options.lines.forEach(function (line) { text("li", line, "", list); });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(button, "click", function () {
        panel.hidden = !panel.hidden;
        button.setAttribute("aria-expanded", panel.hidden ? "false" : "true");
      });
      return box;
    },
    addLine: function (line) { if (this._list) { text("li", line, "", this._list); } }
  });

  // 4. A key for every colour and shape on the map, folded to a button on small maps.
  function symbol(entry) {
    var s = el("span", "csp-key-symbol csp-key-" + entry.symbol);
    if (entry.symbol === "gradient") {
      s.style.background = "linear-gradient(to right, " + entry.colours.join(", ") + ")";
    } else if (entry.symbol === "fill") {
      s.style.background = entry.fill || entry.colour;
      s.style.borderColor = entry.colour;
    } else if (entry.symbol === "dot" || entry.symbol === "numbered") {
      s.style.background = entry.colour;
      if (entry.mark) { s.textContent = entry.mark; }
    } else if (entry.symbol === "text") {
      s.textContent = entry.mark || "Aa";
    } else {
      s.style.borderColor = entry.colour;
    }
    return s;
  }
  L.Control.CspKey = L.Control.extend({
    options: { position: "topright", entries: [], notes: [], folded: false },
    onAdd: function () {
      var box = el("div", "csp-key leaflet-bar");
      var button = text("button", "Key", "csp-key-button", box);
      button.type = "button";
      button.setAttribute("aria-label", "Map key");
      var panel = el("div", "csp-key-panel", box);
      panel.setAttribute("role", "group");
      panel.setAttribute("aria-label", "Map key");
      var list = el("ul", "", panel);
      this.options.entries.forEach(function (entry) {
        var item = el("li", "", list);
        item.appendChild(symbol(entry));
        text("span", entry.label, "csp-key-label", item);
      });
      this.options.notes.forEach(function (note) { text("p", note, "csp-key-note", panel); });
      var folded = this.options.folded;
      function show(open) {
        panel.hidden = !open;
        button.setAttribute("aria-expanded", open ? "true" : "false");
      }
      show(!folded);
      this._panel = panel;
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      L.DomEvent.on(button, "click", function () { show(panel.hidden); });
      return box;
    },
    folded: function () { return this._panel ? this._panel.hidden : true; }
  });

  // 5. Street map when a tile server answers; otherwise say so and keep the bundled base.
  L.Control.CspStreets = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd: function () {
      this._box = el("div", "csp-streets");
      this._box.setAttribute("role", "status");
      return this._box;
    },
    say: function (message, kind) {
      this._box.textContent = message;
      this._box.className = "csp-streets csp-streets-" + kind;
    }
  });

  function addStreets(map, tiles, credits) {
    var status = new L.Control.CspStreets().addTo(map);
    if (!tiles) {
      status.say(tiles === null ? "" : "No street map: boundaries, river and street names " +
                 "of the busiest places from the service's own data", "off");
      return;
    }
    var loaded = 0, failed = 0;
    var layer = L.tileLayer(tiles.url, { maxZoom: 19, attribution: "" });
    status.say("Street map: connecting to " + tiles.name + "…", "wait");
    layer.on("tileload", function () {
      if (loaded++ === 0) {
        status.say("Street map: " + tiles.name, "on");
        if (credits && tiles.attribution) { credits.addLine("Street map: " + tiles.attribution); }
      }
    });
    layer.on("tileerror", function () {
      failed++;
      if (!loaded && failed >= 2 && map.hasLayer(layer)) {
        map.removeLayer(layer);
        status.say("No street map (the tile server cannot be reached): boundaries, river and " +
                   "street names of the busiest places from the service's own data", "off");
      }
    });
    layer.addTo(map);
    layer.bringToBack();
  }

  // 6. Street labels (repeat locations' "On or near ..." names): drop any that would overlap
  //    a better-ranked one at the current zoom, so those shown can be read.
  function declutter(map, labels) {
    var kept = [];
    labels.forEach(function (marker) {
      var icon = marker.getElement && marker.getElement();
      if (!icon) { return; }
      icon.style.visibility = "visible";
      var box = icon.getBoundingClientRect();
      var clash = kept.some(function (other) {
        return !(box.right < other.left || box.left > other.right ||
                 box.bottom < other.top || box.top > other.bottom);
      });
      if (clash) { icon.style.visibility = "hidden"; } else { kept.push(box); }
    });
  }

  // 7. The map as tall as the window allows (a projector at 1366 x 768 shows it whole).
  function fitWindow(map, fit) {
    var frame = window.frameElement;
    var parentWindow = window.parent;
    if (!fit || !frame || !parentWindow) { return; }
    var div = map.getContainer();
    function size() {
      var top = frame.getBoundingClientRect().top;
      var available = parentWindow.innerHeight - Math.max(top, 0) - fit.margin;
      var height = Math.round(Math.max(fit.min, Math.min(fit.max, available)));
      if (parentWindow.innerWidth <= fit.narrow) { height = fit.phone; }
      return height;
    }
    var wanted = size();
    var streamlit = window.Streamlit;
    if (streamlit && streamlit.setFrameHeight && !streamlit.__cspFixed) {
      var original = streamlit.setFrameHeight.bind(streamlit);
      streamlit.setFrameHeight = function () { return original(wanted); };
      streamlit.__cspFixed = true;
    }
    div.style.height = wanted + "px";
    if (streamlit && streamlit.setFrameHeight) { streamlit.setFrameHeight(wanted); }
    map.invalidateSize();
  }

  function labelsOf(map) {
    var labels = [];
    map.eachLayer(function (layer) {
      if (layer.options && layer.options.cspStreetLabel) { labels.push(layer); }
    });
    return labels.sort(function (a, b) { return a.options.cspRank - b.options.cspRank; });
  }

  // The key: the base map's entries, then those of the selection's layers (sent with them,
  // so a filter change that sends only those layers brings its own entries and notes).
  function drawKey(map) {
    var base = map.__cspBase;
    if (!base) { return; }  // cspMap.setup has not run yet: it will draw the key
    var extra = map.__cspExtra || { key: [], notes: [] };
    var entries = base.key.concat(extra.key || []);
    var folded = map.__cspKey ? map.__cspKey.folded() : (base.foldKey || map.getSize().x < 900);
    if (map.__cspKey) { map.removeControl(map.__cspKey); }
    map.__cspKey = null;
    if (!entries.length) { return; }
    map.__cspKey = new L.Control.CspKey({ entries: entries, notes: extra.notes || [],
                                          folded: folded }).addTo(map);
  }

  window.cspMap = {
    setup: function (map, options) {
      options = options || {};
      map.__cspBase = { key: options.key || [], foldKey: options.foldKey };
      var credits = new L.Control.CspCredits({ lines: options.credits || [] }).addTo(map);
      addStreets(map, options.tiles, credits);
      // Only where fingers are the pointer (a phone or tablet): Leaflet calls any browser
      // with pointer events "touch", and on a desktop the plugin held the first drag back.
      var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
      if (options.touch && coarse && map.gestureHandling) {
        map.gestureHandling.enable();
      }
      // The map's own page (an iframe) has the map as its main part, and a heading naming it
      // for screen readers (shown to nobody else).
      var container = map.getContainer();
      container.setAttribute("role", "main");
      container.setAttribute("aria-label", options.label || "Map");
      if (!document.querySelector("h1.csp-map-title")) {
        var title = document.createElement("h1");
        title.className = "csp-map-title";
        title.textContent = options.label || "Map";
        container.insertBefore(title, container.firstChild);
      }
      if (options.fit) {
        fitWindow(map, options.fit);
        if (options.bounds) { map.fitBounds(options.bounds); }
      }
      drawKey(map);
      var tidy = function () { declutter(map, labelsOf(map)); };
      map.on("zoomend moveend overlayadd", tidy);
      setTimeout(tidy, 0);
    },
    selection: function (map, options) {
      map.__cspExtra = options || { key: [], notes: [] };
      drawKey(map);
      setTimeout(function () { declutter(map, labelsOf(map)); }, 0);
    }
  };
})();
