// aevis similarity map: every image placed by similarity, drawn with WebGL 2, WebGL 1 or a 2D
// canvas (the address may ask for one: #renderer=webgl2|webgl1|canvas), at the level of
// detail the zoom calls for (map-detail.js).
// Data: window.AEVIS_MAP, set by assets/map-data.js (a script, not JSON, so file:// works);
// pictures: the sprite scripts map-sheets.js loads as they are needed.
// This file wires the others together and keeps what they share: the view (map-view.js), what
// the pointer and keys do (map-input.js), Find (map-find.js), the selection (map-tools.js
// shapes, map-selection.js panel), the address (map-address.js), the overlay (map-marks.js).
// Nothing is drawn unless something changed, at most once a frame.
// What it drew last is in window.AevisMap.stats (read-only), for tests and benchmarks.
// No libraries, no network.
(function () {
  "use strict";

  const data = window.AEVIS_MAP;
  const host = document.getElementById("latent-map");
  if (!host) return;
  const note = host.querySelector(".map-hint");
  const helpers = ["AevisMapTools", "AevisMapPoints", "AevisMapGrid", "AevisMapColours", "AevisMapSheets",
                   "AevisMapDetail", "AevisMapShaders", "AevisMapGL", "AevisMapCanvas", "AevisMapCard",
                   "AevisMapSelection", "AevisMapView", "AevisMapMarks", "AevisMapFind", "AevisMapInput",
                   "AevisMapAddress"];
  // The page says which data it was built with (aevis/site/mapdata.py VERSION): a data file
  // left from another build is refused, not misread.
  if (!data || String(data.version) !== host.dataset.version || helpers.some((name) => !window[name])) {
    if (note) note.textContent = "The map's data file (assets/map-data.js) or one of its scripts did not load, so the map cannot be drawn.";
    return;
  }

  const tools = window.AevisMapTools;
  const root = host.dataset.root || "";
  const points = window.AevisMapPoints(data);
  const count = points.count;
  const grid = window.AevisMapGrid(points.x, points.y);
  const stage = host.querySelector(".map-stage");
  let canvas = host.querySelector("canvas.map-canvas");
  const colourSelect = host.querySelector(".map-colour");
  const initial = tools.parseHash(window.location.hash);
  // What the parts share: the colouring, the hovered and pinned images, what Find found, the
  // selection and the one being drawn, and what a drag does ("move", "rectangle", "lasso").
  const state = { mode: "none", hovered: -1, pinned: -1, found: [], foundAt: 0, shape: null, drawing: null, tool: "move" };

  // ---- What it drew: read-only, for tests and benchmarks ---------------------------------
  const stats = {
    renderer: null, asked: initial.renderer || null, context: null, count, level: null, drawn: 0, sharpDrawn: 0,
    flat: count, frames: 0, drawMs: 0, uploadMs: 0, sharpSheetsWanted: [], sharpSheetsLoaded: [], smallAtlasesLoaded: 0,
    coloursLoaded: false, firstFullDraw: null, hoverLatency: null, view: null,
  };
  // settled: nothing is waiting to be drawn nor to be written to the address (what a test waits
  // for after acting, instead of a fixed time).
  window.AevisMap = Object.freeze({
    get stats() {
      return Object.freeze({ ...JSON.parse(JSON.stringify(stats)), settled: !frameRequest && !address.pending() });
    },
  });

  // ---- Pictures and the renderer ---------------------------------------------------------
  let renderer = null;
  const sheets = window.AevisMapSheets(data.sprites, root, {
    arrived(level, number) {
      if (level === "colours") renderer.setColours(sheets.colours());
      else renderer.arrived(level, number);
      if (card.shown() >= 0) card.paint();
      redraw();
    },
    evicted: (number) => renderer.evicted(number),
    missing(address) {
      tell("A thumbnail file (" + address + ") did not load: squares of colour are drawn instead.");
    },
  });
  renderer = chooseRenderer(initial.renderer);
  stats.renderer = renderer.name;
  stats.context = renderer.context;
  // The GPU dropped the context (a driver reset, memory pressure) and gave it back: the
  // renderer's own listener, registered first, has rebuilt what it had; draw again.
  canvas.addEventListener("webglcontextrestored", () => redraw());
  const overlay = document.createElement("canvas"); // rings, lines and outlines over the images
  overlay.className = "map-overlay";
  overlay.setAttribute("aria-hidden", "true");
  canvas.after(overlay);

  /** The renderer the address asks for, else the best this browser has; a WebGL canvas that
   *  failed is swapped for a fresh one, since a canvas keeps the first kind of context asked. */
  function chooseRenderer(asked) {
    const order = ["webgl2", "webgl1", "canvas"];
    const tried = order.includes(asked) ? [asked, ...order.filter((name) => name !== asked)] : order;
    for (const name of tried) {
      let made = null;
      try {
        made = name === "canvas" ? window.AevisMapCanvas(canvas, points, sheets)
          : window.AevisMapGL(canvas, points, sheets, name === "webgl2" ? 2 : 1);
      } catch (error) {
        made = null;
        stats.rendererProblem = String(error && error.message || error);
      }
      if (made) {
        if (asked && made.name !== asked) tell("This browser cannot draw with " + asked + ": the map is drawn with " + made.name + ".");
        return made;
      }
      const fresh = canvas.cloneNode(false);
      canvas.replaceWith(fresh);
      canvas = fresh;
    }
    throw new Error("no renderer"); // the 2D canvas is everywhere
  }

  function tell(words) {
    if (!note) return;
    note.textContent = words;
    note.hidden = false;
    note.dataset.kept = "1";
  }
  function hideHint() { if (note && !note.dataset.kept) note.hidden = true; }

  // ---- Colours (map-colours.js) ------------------------------------------------------
  const palette = window.AevisMapColours(data, points);
  const legend = host.querySelector(".map-legend");
  let frames = null;
  function setMode(next) {
    state.mode = palette.has(next) ? next : "none";
    if (colourSelect) colourSelect.value = state.mode;
    frames = palette.colours(state.mode);
    renderer.setFrames(frames);
    palette.legend(legend, state.mode);
    redraw();
    address.save();
  }

  // ---- View (map-view.js) and the overlay (map-marks.js) ------------------------------
  const view = window.AevisMapView(count);
  const marks = window.AevisMapMarks(overlay, view, points, sheets);
  let pendingView = null; // the view the address asked for, shown once the canvas has a size
  function showView(centre, zoom) {
    if (view.width > 0) {
      view.show(centre, zoom * view.fit);
      hideHint();
    } else {
      pendingView = { centre, zoom };
    }
  }
  function centreOn(index) {
    view.show([points.x[index], points.y[index]], view.closeUp());
    hideHint();
    viewChanged();
  }
  function resize() {
    const box = stage.getBoundingClientRect();
    if (box.width < 1 || box.height < 1) return;
    const ratio = window.devicePixelRatio || 1;
    view.resize(box.width, box.height, ratio);
    renderer.resize(Math.round(box.width * ratio), Math.round(box.height * ratio));
    marks.resize(Math.round(box.width * ratio), Math.round(box.height * ratio));
    if (pendingView) {
      showView(pendingView.centre, pendingView.zoom);
      pendingView = null;
    }
    // Setting a canvas's size clears it: paint now, not on the next frame, so it never shows blank.
    if (frameRequest) cancelAnimationFrame(frameRequest);
    paint();
  }

  // ---- Drawing: at most once a frame, and only when something changed ------------------
  let frameRequest = 0, hoverAt = 0;
  function redraw() {
    if (!frameRequest) frameRequest = requestAnimationFrame(paint);
  }
  function viewChanged() {
    redraw();
    address.save();
  }
  function paint() {
    frameRequest = 0;
    if (view.width < 1) return;
    const started = performance.now();
    const size = view.thumbSize();
    const { width, height, ratio } = view;
    const frameView = {
      scale: view.scale, x: view.x, y: view.y, width, height, ratio, half: view.thumbWorld / 2,
      border: frames ? Math.max(1.5, size * 0.09) / view.scale : 0, ring: 2.5 / view.scale,
    };
    const detail = window.AevisMapDetail.detailFor(points, { ...frameView, margin: frameView.border + frameView.ring });
    sheets.want(detail.sharp);
    const drawn = renderer.draw({ view: frameView, detail, framed: Boolean(frames) });
    marks.paint({ ...state, focus: cardIndex() });
    if (state.hovered < 0) showCard(); // the pinned image's card follows it as the view moves
    const now = performance.now();
    Object.assign(stats, {
      level: detail.level, drawn: drawn.drawn, sharpDrawn: drawn.sharpDrawn, flat: drawn.flat, frames: stats.frames + 1,
      uploadMs: Math.max(stats.uploadMs, drawn.uploadMs || 0),
      drawMs: now - started, sharpSheetsWanted: detail.sharp, sharpSheetsLoaded: sheets.sharpLoaded().sort((a, b) => a - b),
      smallAtlasesLoaded: sheets.smallLoaded(), coloursLoaded: Boolean(sheets.colours()),
      view: { scale: view.scale, x: view.x, y: view.y, fit: view.fit, thumb: view.thumbWorld, width, height },
    });
    const complete = !drawn.more && drawn.flat === 0 && stats.coloursLoaded && detail.sharp.every((g) => sheets.sharp(g));
    if (complete && stats.firstFullDraw === null) stats.firstFullDraw = now;
    if (hoverAt) {
      stats.hoverLatency = now - hoverAt;
      hoverAt = 0;
    }
    if (drawn.more) redraw();
  }

  // ---- The image under the pointer (map-grid.js) -------------------------------------
  function pointAt(sx, sy) {
    const [wx, wy] = view.toWorld([sx, sy]);
    return grid.nearest(wx, wy, Math.max(view.thumbSize() / 2, 6) / view.scale);
  }
  const screenOf = (i) => view.toScreen([points.x[i], points.y[i]]);

  // ---- Hover card and the pinned image (map-card.js) ---------------------------------
  // The card shows the hovered image or, when none is hovered, the pinned one: set by the
  // address (i=…), by Find, or by a tap on an image without a page; Escape lets it go.
  const preview = host.querySelector(".map-preview");
  const card = window.AevisMapCard(preview, points, sheets, palette, root);
  function cardIndex() {
    return state.hovered >= 0 ? state.hovered : state.pinned;
  }
  function hover(index, sx, sy, event) {
    if (index === state.hovered) { if (index >= 0) card.place(sx, sy, view.width, view.height); return; }
    state.hovered = index;
    if (event) hoverAt = event.timeStamp;
    setCursor(index);
    showCard(sx, sy);
    redraw();
    address.save();
  }
  function pin(index) {
    if (index === state.pinned) return;
    state.pinned = index;
    showCard();
    redraw();
    address.save();
  }
  function showCard(sx, sy) {
    const index = cardIndex();
    if (index < 0) {
      preview.hidden = true;
      return;
    }
    if (index !== card.shown()) card.fill(index);
    if (state.hovered < 0) [sx, sy] = screenOf(state.pinned);
    const onScreen = sx >= 0 && sy >= 0 && sx <= view.width && sy <= view.height;
    preview.hidden = !onScreen;
    if (onScreen) card.place(sx, sy, view.width, view.height);
  }
  function setCursor(index) {
    canvas.style.cursor = state.tool !== "move" ? "crosshair" : index >= 0 && points.hasPage(index) ? "pointer" : "grab";
  }

  // ---- Selection: a rectangle or lasso on the map, listed in the panel below it ----------
  const panel = window.AevisMapSelection(host.querySelector(".map-selection"), {
    points, sheets, root, onClear: () => select(null),
  });
  function select(shape) {
    state.shape = shape;
    const selected = tools.select(points.x, points.y, shape);
    const chosen = new Uint8Array(count);
    for (const i of selected) chosen[i] = 1;
    renderer.setMarks(chosen);
    panel.show(selected);
    redraw();
    address.save();
  }

  // ---- The parts that act on it ------------------------------------------------------
  const shared = { host, canvas, view, points, root, state, asked: stats.asked, pointAt, hover, pin, select, setCursor,
                   setMode, centreOn, showView, redraw, viewChanged, hideHint };
  const address = window.AevisMapAddress(shared);
  window.AevisMapInput(shared);
  window.AevisMapFind.attach(host.querySelector(".map-find"), host.querySelector(".map-found"), points.names,
    (found, at) => {
      state.found = found;
      state.foundAt = at;
      pin(found.length ? found[at] : -1);
      if (found.length) centreOn(found[at]); else redraw();
    });
  if (colourSelect) colourSelect.addEventListener("change", () => setMode(colourSelect.value));
  if (window.ResizeObserver) new ResizeObserver(resize).observe(stage);
  else window.addEventListener("resize", resize);
  host.classList.add("map-ready");
  if (initial.centre) pendingView = { centre: initial.centre, zoom: initial.zoom };
  resize(); // shows the pending view once the canvas has a size
  address.apply(initial, true);
  sheets.start();
})();
