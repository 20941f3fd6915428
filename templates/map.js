// aevis similarity map: every image placed by similarity, drawn with WebGL 2, WebGL 1 or a 2D
// canvas (the address may ask for one: #renderer=webgl2|webgl1|canvas), at the level of
// detail the zoom calls for (map-detail.js).
// Data: window.AEVIS_MAP, set by assets/map-data.js (a script, not JSON, so file:// works);
// pictures: the sprite scripts map-sheets.js loads as they are needed.
// Pan: drag. Zoom: wheel, pinch, the + / − buttons, or + / − / 0 keys. Hover: the card and the
// neighbours. Click: open the image's page. Shift-drag, or drag with a select tool on: select
// a rectangle or a lasso. The view lives in the address (#x=…&y=…&z=…&c=…&i=…), so a copied
// link opens the same view. Nothing is drawn unless something changed, at most once a frame.
// What it drew last is in window.AevisMap.stats (read-only), for tests and benchmarks.
// No libraries, no network.
(function () {
  "use strict";

  const data = window.AEVIS_MAP;
  const host = document.getElementById("latent-map");
  if (!host) return;
  const note = host.querySelector(".map-hint");
  const helpers = ["AevisMapTools", "AevisMapPoints", "AevisMapGrid", "AevisMapColours", "AevisMapSheets",
                   "AevisMapDetail", "AevisMapGL", "AevisMapCanvas", "AevisMapCard", "AevisMapSelection"];
  if (!data || data.version !== 2 || helpers.some((name) => !window[name])) {
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
  const findInput = host.querySelector(".map-find");
  const findStatus = host.querySelector(".map-found");
  const legend = host.querySelector(".map-legend");
  const toolButtons = [...host.querySelectorAll(".map-tool")];
  const initial = tools.parseHash(window.location.hash);
  const SELECTED = "#d6336c", NEIGHBOUR = "#2f6db5", FOUND = "#ff9500", CURRENT = "#ff3b30";

  // ---- What it drew: read-only, for tests and benchmarks ---------------------------------
  const stats = {
    renderer: null, asked: initial.renderer || null, context: null, count, level: null, drawn: 0, sharpDrawn: 0,
    flat: count, frames: 0, drawMs: 0, uploadMs: 0, sharpSheetsWanted: [], sharpSheetsLoaded: [], smallAtlasesLoaded: 0,
    coloursLoaded: false, firstFullDraw: null, hoverLatency: null, view: null,
  };
  window.AevisMap = Object.freeze({ get stats() { return Object.freeze(JSON.parse(JSON.stringify(stats))); } });

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
  const marks = overlay.getContext("2d");

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

  // ---- Colours (map-colours.js) ------------------------------------------------------
  const palette = window.AevisMapColours(data, points);
  let mode = "none";
  let frames = null;
  function setMode(next) {
    mode = palette.has(next) ? next : "none";
    if (colourSelect) colourSelect.value = mode;
    frames = palette.colours(mode);
    renderer.setFrames(frames);
    palette.legend(legend, mode);
    redraw();
    saveState();
  }

  // ---- View: screen = world × scale + offset (CSS pixels) -----------------------------
  const view = { scale: 1, x: 0, y: 0, fit: 1, touched: false };
  let width = 0, height = 0, ratio = 1;
  const thumbWorld = Math.min(0.08, Math.max(0.006, 0.9 / Math.sqrt(Math.max(count, 1))));
  function fitView() {
    const side = Math.min(width, height) * 0.92;
    view.fit = side / (1 + thumbWorld);
    view.scale = view.fit;
    view.x = (width - view.fit) / 2;
    view.y = (height - view.fit) / 2;
  }
  function zoomAt(factor, sx, sy) {
    const next = Math.min(view.fit * 300, Math.max(view.fit * 0.5, view.scale * factor));
    const applied = next / view.scale;
    view.x = sx - (sx - view.x) * applied;
    view.y = sy - (sy - view.y) * applied;
    view.scale = next;
    view.touched = true;
    hideHint();
    viewChanged();
  }
  function showView(centre, scale) {
    view.scale = Math.min(view.fit * 300, Math.max(view.fit * 0.5, scale));
    view.x = width / 2 - centre[0] * view.scale;
    view.y = height / 2 - centre[1] * view.scale;
    view.touched = true;
    hideHint();
  }
  const toWorld = ([sx, sy]) => [(sx - view.x) / view.scale, (sy - view.y) / view.scale];
  const toScreen = (i) => [points.x[i] * view.scale + view.x, points.y[i] * view.scale + view.y];
  function thumbSize() {
    return Math.max(3, thumbWorld * view.scale);
  }
  function resize() {
    const box = stage.getBoundingClientRect();
    if (box.width < 1 || box.height < 1) return;
    const centre = view.touched ? [(width / 2 - view.x) / view.scale, (height / 2 - view.y) / view.scale] : null;
    width = box.width;
    height = box.height;
    ratio = window.devicePixelRatio || 1;
    renderer.resize(Math.round(width * ratio), Math.round(height * ratio));
    overlay.width = Math.round(width * ratio);
    overlay.height = Math.round(height * ratio);
    marked = true;
    const scale = view.scale;
    fitView();
    if (pendingView) { // the view the address asked for, now that the canvas has a size
      showView(pendingView.centre, pendingView.zoom * view.fit);
      pendingView = null;
    } else if (centre) {
      showView(centre, scale);
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
    saveState();
  }
  function paint() {
    frameRequest = 0;
    if (width < 1) return;
    const started = performance.now();
    const size = thumbSize();
    const frameView = {
      scale: view.scale, x: view.x, y: view.y, width, height, ratio, half: thumbWorld / 2,
      border: frames ? Math.max(1.5, size * 0.09) / view.scale : 0, ring: 2.5 / view.scale,
    };
    const detail = window.AevisMapDetail.detailFor(points, { ...frameView, margin: frameView.border + frameView.ring });
    sheets.want(detail.sharp);
    const drawn = renderer.draw({ view: frameView, detail, framed: Boolean(frames) });
    paintMarks(size);
    const now = performance.now();
    Object.assign(stats, {
      level: detail.level, drawn: drawn.drawn, sharpDrawn: drawn.sharpDrawn, flat: drawn.flat, frames: stats.frames + 1,
      uploadMs: Math.max(stats.uploadMs, drawn.uploadMs || 0),
      drawMs: now - started, sharpSheetsWanted: detail.sharp, sharpSheetsLoaded: sheets.sharpLoaded().sort((a, b) => a - b),
      smallAtlasesLoaded: sheets.smallLoaded(), coloursLoaded: Boolean(sheets.colours()),
      view: { scale: view.scale, x: view.x, y: view.y, fit: view.fit, thumb: thumbWorld, width, height },
    });
    const complete = !drawn.more && drawn.flat === 0 && stats.coloursLoaded && detail.sharp.every((g) => sheets.sharp(g));
    if (complete && stats.firstFullDraw === null) stats.firstFullDraw = now;
    if (hoverAt) {
      stats.hoverLatency = now - hoverAt;
      hoverAt = 0;
    }
    if (drawn.more) redraw();
  }

  function ring(x, y, size, colour, line) {
    marks.lineWidth = line;
    marks.strokeStyle = colour;
    marks.strokeRect(x - size / 2 - line, y - size / 2 - line, size + 2 * line, size + 2 * line);
  }
  /** An image drawn large over the map (the found one, the hovered one), from its sharpest tile. */
  function raised(index, size, colour) {
    const [x, y] = toScreen(index);
    const tile = sheets.tile(points, index);
    marks.fillStyle = "#fff";
    marks.fillRect(x - size / 2 - 2, y - size / 2 - 2, size + 4, size + 4);
    if (tile) {
      marks.imageSmoothingEnabled = size * ratio < tile.side;
      marks.drawImage(tile.image, tile.sx, tile.sy, tile.side, tile.side, x - size / 2, y - size / 2, size, size);
    }
    ring(x, y, size, colour, colour === CURRENT ? 3 : 2);
  }
  let marked = true; // whether the overlay may hold marks: an empty one is not cleared again
  function paintMarks(size) {
    const focus = cardIndex();
    const wanted = Boolean(drawing || shape || found.length || focus >= 0);
    if (wanted || marked) {
      marks.setTransform(1, 0, 0, 1, 0, 0);
      marks.clearRect(0, 0, overlay.width, overlay.height);
      marked = wanted;
    }
    if (!wanted) return;
    marks.setTransform(ratio, 0, 0, ratio, 0, 0);
    paintOutline();
    for (const i of found.slice(0, 500)) ring(...toScreen(i), size, FOUND, 2);
    if (found.length) raised(found[foundAt], size * 1.4, CURRENT);
    if (focus >= 0) {
      const [hx, hy] = toScreen(focus);
      marks.lineWidth = 1.5;
      marks.strokeStyle = NEIGHBOUR;
      const others = points.neighbours(focus);
      for (const other of others) {
        const [nx, ny] = toScreen(other);
        marks.beginPath();
        marks.moveTo(hx, hy);
        marks.lineTo(nx, ny);
        marks.stroke();
      }
      for (const other of others) ring(...toScreen(other), size, NEIGHBOUR, 2);
      raised(focus, Math.max(size * 1.8, Math.min(size, 48)), NEIGHBOUR);
    }
    if (hovered < 0) showCard(); // the pinned image's card follows it as the view moves
  }
  function tracePath(corners, close) {
    marks.beginPath();
    corners.forEach(([x, y], i) => (i ? marks.lineTo(x, y) : marks.moveTo(x, y)));
    if (close) marks.closePath();
  }
  function paintOutline() {
    let outline = null; // screen corners of the chosen shape or of the one being drawn
    if (drawing) {
      outline = drawing.kind === "rectangle" ? boxCorners(drawing.path[0], drawing.path[drawing.path.length - 1]) : drawing.path;
    } else if (shape) {
      const screenOf = ([x, y]) => [x * view.scale + view.x, y * view.scale + view.y];
      outline = shape.kind === "rectangle"
        ? boxCorners(screenOf(shape.box.slice(0, 2)), screenOf(shape.box.slice(2))) : shape.points.map(screenOf);
    }
    if (!outline) return;
    tracePath(outline, !drawing || drawing.kind === "rectangle");
    marks.fillStyle = "#d6336c1a";
    marks.fill();
    marks.setLineDash([6, 4]);
    marks.lineWidth = 1.5;
    marks.strokeStyle = SELECTED;
    marks.stroke();
    marks.setLineDash([]);
  }
  function boxCorners([x0, y0], [x1, y1]) {
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
  }

  // ---- The image under the pointer (map-grid.js) -------------------------------------
  function pointAt(sx, sy) {
    const [wx, wy] = toWorld([sx, sy]);
    return grid.nearest(wx, wy, Math.max(thumbSize() / 2, 6) / view.scale);
  }

  // ---- Hover card and the pinned image (map-card.js) ---------------------------------
  // The card shows the hovered image or, when none is hovered, the pinned one: set by the
  // address (i=…), by Find, or by a tap on an image without a page; Escape lets it go.
  const preview = host.querySelector(".map-preview");
  const card = window.AevisMapCard(preview, points, sheets, palette, root);
  let hovered = -1, pinned = -1;
  function cardIndex() {
    return hovered >= 0 ? hovered : pinned;
  }
  function hover(index, sx, sy, event) {
    if (index === hovered) { if (index >= 0) card.place(sx, sy, width, height); return; }
    hovered = index;
    if (event) hoverAt = event.timeStamp;
    setCursor(index);
    showCard(sx, sy);
    redraw();
    saveState();
  }
  function pin(index) {
    if (index === pinned) return;
    pinned = index;
    showCard();
    redraw();
    saveState();
  }
  function showCard(sx, sy) {
    const index = cardIndex();
    if (index < 0) {
      preview.hidden = true;
      return;
    }
    if (index !== card.shown()) card.fill(index);
    if (hovered < 0) [sx, sy] = toScreen(pinned);
    const onScreen = sx >= 0 && sy >= 0 && sx <= width && sy <= height;
    preview.hidden = !onScreen;
    if (onScreen) card.place(sx, sy, width, height);
  }

  // ---- Pointer: drag pans (or selects), two fingers pinch, a still click opens the page --
  const pointers = new Map();
  let pressed = null, moved = 0, pinch = null;
  let tool = "move"; // or "rectangle" / "lasso": what a one-finger or mouse drag does
  let drawing = null; // the selection being drawn: {kind, path: screen points}
  const local = (event) => {
    const box = canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  };
  function setCursor(index) {
    canvas.style.cursor = tool !== "move" ? "crosshair" : index >= 0 && points.hasPage(index) ? "pointer" : "grab";
  }
  function pinchState() {
    const [a, b] = [...pointers.values()];
    return { distance: Math.hypot(a[0] - b[0], a[1] - b[1]) || 1, mid: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] };
  }
  canvas.addEventListener("pointerdown", (event) => {
    try { canvas.setPointerCapture(event.pointerId); } catch (error) { /* pointer already gone */ }
    pointers.set(event.pointerId, local(event));
    if (pointers.size === 1) {
      pressed = local(event);
      moved = 0;
      const selecting = event.button === 0 && (event.shiftKey || tool !== "move");
      drawing = selecting ? { kind: event.shiftKey ? "rectangle" : tool, path: [pressed] } : null;
    }
    if (pointers.size === 2) {
      pinch = pinchState();
      drawing = null; // a second finger pinches instead
      redraw();
    }
    if (!drawing) canvas.style.cursor = "grabbing";
  });
  canvas.addEventListener("pointermove", (event) => {
    const here = local(event);
    if (!pointers.has(event.pointerId)) {
      if (event.pointerType === "mouse") hover(pointAt(...here), ...here, event);
      return;
    }
    const before = pointers.get(event.pointerId);
    pointers.set(event.pointerId, here);
    if (pointers.size === 1 && drawing) {
      moved += Math.abs(here[0] - before[0]) + Math.abs(here[1] - before[1]);
      const last = drawing.path[drawing.path.length - 1];
      if (drawing.kind === "rectangle") drawing.path[1] = here;
      else if (Math.hypot(here[0] - last[0], here[1] - last[1]) >= 3) drawing.path.push(here);
      if (moved > 4) hover(-1);
      redraw();
    } else if (pointers.size === 1) {
      moved += Math.abs(here[0] - before[0]) + Math.abs(here[1] - before[1]);
      if (moved > 4) {
        view.x += here[0] - before[0];
        view.y += here[1] - before[1];
        view.touched = true;
        hideHint();
        hover(-1);
        viewChanged();
      }
    } else if (pointers.size === 2 && pinch) {
      const next = pinchState();
      view.x += next.mid[0] - pinch.mid[0];
      view.y += next.mid[1] - pinch.mid[1];
      zoomAt(next.distance / pinch.distance, next.mid[0], next.mid[1]);
      pinch = next;
      moved = Infinity;
    }
  });
  function finishDrawing() {
    const path = drawing.path.map(toWorld);
    const kind = drawing.kind;
    drawing = null;
    if (kind === "rectangle") setSelection(tools.rectangleShape([...path[0], ...path[path.length - 1]]));
    else if (path.length >= 3) setSelection(tools.lassoShape(path));
    else redraw();
  }
  function release(event) {
    if (!pointers.has(event.pointerId)) return;
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
    if (pointers.size === 0 && drawing && moved > 4 && event.type === "pointerup") {
      finishDrawing();
    } else if (pointers.size === 0 && pressed && moved <= 4 && event.type === "pointerup") {
      const index = pointAt(...local(event));
      if (index >= 0 && points.hasPage(index)) {
        window.location.href = root + points.href(index);
      } else if (index >= 0) {
        pin(index); // touch: a tap shows the card, and it stays
      }
    }
    if (pointers.size === 0) {
      if (drawing) { drawing = null; redraw(); }
      pressed = null;
      setCursor(hovered);
    }
  }
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener("pointerleave", (event) => { if (!pointers.size && event.pointerType === "mouse") hover(-1); });
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const unit = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? height : 1;
    zoomAt(Math.exp(-event.deltaY * unit * 0.0015), ...local(event));
  }, { passive: false });
  canvas.addEventListener("keydown", (event) => {
    const steps = { ArrowLeft: [40, 0], ArrowRight: [-40, 0], ArrowUp: [0, 40], ArrowDown: [0, -40] };
    if (event.key === "+" || event.key === "=") zoomAt(1.4, width / 2, height / 2);
    else if (event.key === "-" || event.key === "_") zoomAt(1 / 1.4, width / 2, height / 2);
    else if (event.key === "0") { fitView(); view.touched = false; viewChanged(); }
    else if (event.key === "Escape" && (drawing || pinned >= 0 || shape)) {
      if (drawing) { drawing = null; redraw(); } else if (pinned >= 0) pin(-1); else setSelection(null);
    }
    else if (steps[event.key]) {
      event.stopPropagation();
      view.x += steps[event.key][0];
      view.y += steps[event.key][1];
      viewChanged();
    } else return;
    event.preventDefault();
  });
  host.querySelector(".map-zoom-in").addEventListener("click", () => zoomAt(1.5, width / 2, height / 2));
  host.querySelector(".map-zoom-out").addEventListener("click", () => zoomAt(1 / 1.5, width / 2, height / 2));
  host.querySelector(".map-fit").addEventListener("click", () => { fitView(); view.touched = false; viewChanged(); });
  function hideHint() { if (note && !note.dataset.kept) note.hidden = true; }

  // ---- Find by name -------------------------------------------------------------------
  let found = [], foundAt = 0, lowerNames = null;
  function centreOn(index) {
    showView([points.x[index], points.y[index]], Math.max(view.scale, Math.min(view.fit * 300, 64 / thumbWorld / 1.2)));
    viewChanged();
  }
  function search() {
    const query = findInput.value.trim().toLowerCase();
    if (!lowerNames) lowerNames = points.names.map((name) => name.toLowerCase());
    found = [];
    foundAt = 0;
    if (query) lowerNames.forEach((name, i) => { if (name.includes(query)) found.push(i); });
    found.sort((a, b) => (lowerNames[a] === query ? -1 : 0) - (lowerNames[b] === query ? -1 : 0) || a - b);
    findStatus.textContent = !query ? "" : found.length === 0 ? "no image by that name"
      : found.length === 1 ? "1 image" : found.length + " images — Enter for the next";
    pin(found.length ? found[0] : -1);
    if (found.length) centreOn(found[0]); else redraw();
  }
  findInput.addEventListener("input", search);
  findInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && found.length) {
      event.preventDefault();
      foundAt = (foundAt + 1) % found.length;
      findStatus.replaceChildren((foundAt + 1) + " of " + found.length + ": ",
                                 tools.nameElement(points.names[found[foundAt]]));
      pin(found[foundAt]);
      centreOn(found[foundAt]);
    } else if (event.key === "Escape") {
      findInput.value = "";
      search();
    }
  });

  // ---- Selection: a rectangle or lasso on the map, listed in the panel below it ----------
  let shape = null, selected = [];
  const panel = window.AevisMapSelection(host.querySelector(".map-selection"), {
    points, sheets, root, onClear: () => setSelection(null),
  });
  function setSelection(next) {
    shape = next;
    selected = tools.select(points.x, points.y, shape);
    const chosen = new Uint8Array(count);
    for (const i of selected) chosen[i] = 1;
    renderer.setMarks(chosen);
    panel.show(selected);
    redraw();
    saveState();
  }
  function chooseTool(next) {
    tool = next === tool ? "move" : next;
    for (const button of toolButtons) button.setAttribute("aria-pressed", String(button.dataset.tool === tool));
    setCursor(hovered);
  }
  for (const button of toolButtons) button.addEventListener("click", () => chooseTool(button.dataset.tool));

  // ---- The view in the address: written as it changes (at most a few times a second), -
  // read on load and when the address's hash is edited.
  const slugIndex = new Map(points.slugs.map((slug, i) => [slug, i]));
  let pendingView = null, stateTimer = 0;
  function currentState() {
    const focus = cardIndex();
    return {
      centre: view.touched && view.scale > 0 ? toWorld([width / 2, height / 2]) : null,
      zoom: view.scale / view.fit,
      colouring: mode === "none" ? null : mode,
      image: focus >= 0 ? points.slugs[focus] : null,
      shape,
      renderer: stats.asked,
    };
  }
  function saveState() {
    if (!stateTimer) stateTimer = setTimeout(writeState, 250);
  }
  function writeState() {
    stateTimer = 0;
    const hash = tools.formatHash(currentState());
    if (hash === window.location.hash) return;
    try {
      history.replaceState(history.state, "", hash || window.location.pathname + window.location.search);
    } catch (error) { /* a browser that refuses: the view still works, only the address stays */ }
  }
  function applyState(state, viewDone) {
    if (state.centre && !viewDone) {
      if (width > 0) showView(state.centre, state.zoom * view.fit); else pendingView = state;
    }
    setMode(state.colouring || "none");
    const image = state.image !== undefined && slugIndex.has(state.image) ? slugIndex.get(state.image) : -1;
    pin(image);
    if (image >= 0 && !state.centre && width > 0) centreOn(image);
    setSelection(state.shape || null);
    viewChanged();
  }

  if (colourSelect) colourSelect.addEventListener("change", () => setMode(colourSelect.value));
  window.addEventListener("hashchange", () => applyState(tools.parseHash(window.location.hash)));
  if (window.ResizeObserver) new ResizeObserver(resize).observe(stage);
  else window.addEventListener("resize", resize);
  host.classList.add("map-ready");
  if (initial.centre) pendingView = initial;
  resize(); // shows the pending view once the canvas has a size
  applyState(initial, true);
  sheets.start();
})();
