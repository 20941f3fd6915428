// aevis similarity map: every image drawn on one canvas from thumbnail sprite sheets.
// Data: window.AEVIS_MAP, set by assets/map-data.js (a script, not JSON, so file:// works).
// Pan: drag. Zoom: wheel, pinch, the + / − buttons, or + / − / 0 keys. Hover: preview and
// neighbours. Click: open the image's page. Shift-drag, or drag with a select tool on:
// select a rectangle or a lasso. The view lives in the address (#x=…&y=…&z=…&c=…&i=…), so a
// copied link opens the same view. Helpers, loaded first: map-tools.js (the address, shapes,
// CSV), map-colours.js (colourings and legends), map-selection.js (the selection panel).
// No libraries, no network.
(function () {
  "use strict";

  const data = window.AEVIS_MAP;
  const tools = window.AevisMapTools;
  const host = document.getElementById("latent-map");
  if (!host) return;
  const note = host.querySelector(".map-hint");
  if (!data || !Array.isArray(data.points) || !tools || !window.AevisMapSelection || !window.AevisMapColours) {
    if (note) note.textContent = "The map's data file (assets/map-data.js) or one of its scripts did not load, so the map cannot be drawn.";
    return;
  }

  const root = host.dataset.root || "";
  const points = data.points;
  const count = points.length;
  const stage = host.querySelector(".map-stage");
  const canvas = host.querySelector("canvas.map-canvas");
  const ctx = canvas.getContext("2d");
  const base = document.createElement("canvas"); // the thumbnails, redrawn only when the view changes
  const baseCtx = base.getContext("2d");
  const preview = host.querySelector(".map-preview");
  const previewCanvas = preview.querySelector("canvas");
  const previewCtx = previewCanvas.getContext("2d");
  const previewName = preview.querySelector(".map-preview-name");
  const previewFacts = preview.querySelector(".map-preview-facts");
  const previewNeighbours = preview.querySelector(".map-preview-neighbours");
  const colourSelect = host.querySelector(".map-colour");
  const findInput = host.querySelector(".map-find");
  const findStatus = host.querySelector(".map-found");
  const legend = host.querySelector(".map-legend");
  const toolButtons = [...host.querySelectorAll(".map-tool")];
  const initial = tools.parseHash(window.location.hash);

  // ---- Sprites and full-size pictures -------------------------------------------------
  const cell = data.cell;
  const sheets = data.sheets.map((src) => {
    const image = new Image();
    image.onload = () => { redraw(true); if (carded >= 0) paintPreview(carded); };
    image.onerror = () => { if (note) note.textContent = "A thumbnail sheet (" + src + ") is missing; outlines are drawn instead."; };
    image.src = root + src;
    return image;
  });
  const full = new Map(); // index -> Image of media/<slug>/input.png, loaded when zoomed in close
  const FULL_LIMIT = 400;
  function fullPicture(index) {
    let image = full.get(index);
    if (!image) {
      if (full.size >= FULL_LIMIT) full.delete(full.keys().next().value);
      image = new Image();
      image.onload = () => redraw(true);
      image.onerror = () => {}; // the sprite stays; nothing to report
      image.src = root + data.preview.replace("{slug}", encodeURIComponent(points[index].slug));
      full.set(index, image);
    }
    return image.complete && image.naturalWidth > 0 ? image : null;
  }
  function drawThumb(target, index, x, y, size, allowFull) {
    const picture = allowFull ? fullPicture(index) : null;
    if (picture) {
      target.drawImage(picture, x, y, size, size);
      return;
    }
    const sheet = sheets[Math.floor(index / data.perSheet)];
    if (sheet && sheet.complete && sheet.naturalWidth > 0) {
      const within = index % data.perSheet;
      const sx = (within % data.sheetColumns) * cell;
      const sy = Math.floor(within / data.sheetColumns) * cell;
      target.drawImage(sheet, sx, sy, cell, cell, x, y, size, size);
    } else {
      target.strokeStyle = "#8888";
      target.strokeRect(x, y, size, size);
    }
  }

  // ---- Colours (map-colours.js) ------------------------------------------------------
  const palette = window.AevisMapColours(data);
  let mode = "none";
  let colours = null;
  function setMode(next) {
    mode = palette.has(next) ? next : "none";
    if (colourSelect) colourSelect.value = mode;
    colours = palette.colours(mode);
    palette.legend(legend, mode);
    redraw(true);
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
  const toScreen = (i) => [points[i].x * view.scale + view.x, points[i].y * view.scale + view.y];
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
    for (const target of [canvas, base]) {
      target.width = Math.round(width * ratio);
      target.height = Math.round(height * ratio);
    }
    const scale = view.scale;
    fitView();
    if (pendingView) { // the view the address asked for, now that the canvas has a size
      showView(pendingView.centre, pendingView.zoom * view.fit);
      pendingView = null;
    } else if (centre) {
      showView(centre, scale);
    }
    // Setting a canvas's size clears it: paint now, not on the next frame, so it never shows blank.
    if (frame) cancelAnimationFrame(frame);
    baseDirty = true;
    paint();
  }

  // ---- Drawing ------------------------------------------------------------------------
  // The base holds the thumbnails as drawn for one view. While the view moves, the base is
  // only shifted and scaled (one drawImage), and redrawn in full once the view rests: at
  // 10,000 thumbnails a full redraw takes far longer than a frame on a canvas without a GPU.
  let baseDirty = true, frame = 0, settle = 0;
  const baseView = { scale: 1, x: 0, y: 0 };
  function redraw(baseToo) {
    if (baseToo) baseDirty = true;
    if (!frame) frame = requestAnimationFrame(paint);
  }
  function viewChanged() {
    clearTimeout(settle);
    settle = setTimeout(() => redraw(true), count > 2000 ? 140 : 0);
    redraw(false);
    saveState();
  }
  function paintBase() {
    const g = baseCtx;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const size = thumbSize();
    const half = size / 2;
    const border = colours ? Math.max(1.5, size * 0.09) : 0;
    const visible = [];
    for (let i = 0; i < count; i++) {
      const sx = points[i].x * view.scale + view.x;
      const sy = points[i].y * view.scale + view.y;
      if (sx + half < 0 || sy + half < 0 || sx - half > width || sy - half > height) continue;
      visible.push(i);
    }
    const allowFull = size > cell * 1.3 && visible.length <= 250;
    g.imageSmoothingEnabled = size < cell;
    for (const i of visible) {
      const sx = points[i].x * view.scale + view.x - half;
      const sy = points[i].y * view.scale + view.y - half;
      if (colours) {
        g.fillStyle = colours[i];
        g.fillRect(sx - border, sy - border, size + 2 * border, size + 2 * border);
      }
      drawThumb(g, i, sx, sy, size, allowFull);
    }
    baseDirty = false;
    baseView.scale = view.scale;
    baseView.x = view.x;
    baseView.y = view.y;
  }
  function ring(x, y, size, colour, line) {
    ctx.lineWidth = line;
    ctx.strokeStyle = colour;
    ctx.strokeRect(x - size / 2 - line, y - size / 2 - line, size + 2 * line, size + 2 * line);
  }
  function paint() {
    frame = 0;
    if (baseDirty) paintBase();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const k = view.scale / baseView.scale;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(base, (view.x - baseView.x * k) * ratio, (view.y - baseView.y * k) * ratio,
                  base.width * k, base.height * k);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const size = thumbSize();
    const screen = toScreen;
    paintSelection(size);
    for (const i of found.slice(0, 500)) {
      const [x, y] = screen(i);
      ring(x, y, size, "#ff9500", 2);
    }
    if (found.length) { // the current match on top of its neighbours, a little larger
      const [x, y] = screen(found[foundAt]);
      const big = size * 1.4;
      ctx.imageSmoothingEnabled = big < cell;
      drawThumb(ctx, found[foundAt], x - big / 2, y - big / 2, big, big > cell * 1.3);
      ring(x, y, big, "#ff3b30", 3);
    }
    const focus = cardIndex();
    if (focus >= 0) {
      const [hx, hy] = screen(focus);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#2f6db5";
      for (const other of points[focus].neighbours) {
        const [nx, ny] = screen(other);
        ctx.beginPath();
        ctx.moveTo(hx, hy);
        ctx.lineTo(nx, ny);
        ctx.stroke();
      }
      for (const other of points[focus].neighbours) {
        const [nx, ny] = screen(other);
        ring(nx, ny, size, "#2f6db5", 2);
      }
      const big = Math.max(size * 1.8, Math.min(size, 48));
      ctx.fillStyle = "#fff";
      ctx.fillRect(hx - big / 2 - 2, hy - big / 2 - 2, big + 4, big + 4);
      ctx.imageSmoothingEnabled = big < cell;
      drawThumb(ctx, focus, hx - big / 2, hy - big / 2, big, big > cell * 1.3);
      ring(hx, hy, big, "#2f6db5", 2);
    }
    if (hovered < 0) showCard(); // the pinned image's card follows it as the view moves
  }
  function tracePath(corners, close) {
    ctx.beginPath();
    corners.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    if (close) ctx.closePath();
  }
  function paintSelection(size) {
    const SELECTED = "#d6336c";
    let outline = null; // screen corners of the chosen shape or of the one being drawn
    if (drawing) {
      outline = drawing.kind === "rectangle" ? boxCorners(drawing.path[0], drawing.path[drawing.path.length - 1]) : drawing.path;
    } else if (shape) {
      const screenOf = ([x, y]) => [x * view.scale + view.x, y * view.scale + view.y];
      outline = shape.kind === "rectangle"
        ? boxCorners(screenOf(shape.box.slice(0, 2)), screenOf(shape.box.slice(2))) : shape.points.map(screenOf);
    }
    if (outline) {
      tracePath(outline, !drawing || drawing.kind === "rectangle");
      ctx.fillStyle = "#d6336c1a";
      ctx.fill();
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = SELECTED;
      ctx.stroke();
      ctx.setLineDash([]);
    }
    for (const i of selected.slice(0, 5000)) {
      const [x, y] = toScreen(i);
      if (x > -size && y > -size && x < width + size && y < height + size) ring(x, y, size, SELECTED, 2);
    }
  }
  function boxCorners([x0, y0], [x1, y1]) {
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
  }

  // ---- Finding the point under the pointer (a uniform grid over the map) ------------
  const buckets = Math.max(1, Math.ceil(Math.sqrt(count)));
  const grid = Array.from({ length: buckets * buckets }, () => []);
  const bucketOf = (v) => Math.min(buckets - 1, Math.max(0, Math.floor(v * buckets)));
  points.forEach((p, i) => grid[bucketOf(p.y) * buckets + bucketOf(p.x)].push(i));
  function pointAt(sx, sy) {
    const wx = (sx - view.x) / view.scale, wy = (sy - view.y) / view.scale;
    const reach = Math.max(thumbSize() / 2, 6) / view.scale;
    let best = -1, bestDistance = Infinity;
    for (let by = bucketOf(wy - reach); by <= bucketOf(wy + reach); by++) {
      for (let bx = bucketOf(wx - reach); bx <= bucketOf(wx + reach); bx++) {
        for (const i of grid[by * buckets + bx]) {
          const dx = Math.abs(points[i].x - wx), dy = Math.abs(points[i].y - wy);
          if (dx > reach || dy > reach) continue;
          const distance = dx * dx + dy * dy;
          if (distance < bestDistance) { best = i; bestDistance = distance; }
        }
      }
    }
    return best;
  }

  // ---- Hover preview and the pinned image -------------------------------------------
  // The card shows the hovered image or, when none is hovered, the pinned one: set by the
  // address (i=…), by Find, or by a tap on an image without a page; Escape lets it go.
  let hovered = -1, pinned = -1, carded = -1;
  function cardIndex() {
    return hovered >= 0 ? hovered : pinned;
  }
  function hover(index, sx, sy) {
    if (index === hovered) { if (index >= 0) placePreview(sx, sy); return; }
    hovered = index;
    setCursor(index);
    showCard(sx, sy);
    redraw(false);
    saveState();
  }
  function pin(index) {
    if (index === pinned) return;
    pinned = index;
    showCard();
    redraw(false);
    saveState();
  }
  function showCard(sx, sy) {
    const index = cardIndex();
    if (index < 0) {
      preview.hidden = true;
      carded = -1;
      return;
    }
    if (index !== carded) fillCard(index);
    if (hovered < 0) [sx, sy] = toScreen(pinned);
    const onScreen = sx >= 0 && sy >= 0 && sx <= width && sy <= height;
    preview.hidden = !onScreen;
    if (onScreen) placePreview(sx, sy);
  }
  function fillCard(index) {
    carded = index;
    const p = points[index];
    previewName.textContent = p.name;
    const facts = [];
    if (p.label !== null) facts.push("label: " + p.label);
    facts.push("cluster " + (p.cluster + 1));
    facts.push("rebuild error " + p.error.toPrecision(2));
    if (p.trust !== null && p.trust !== undefined) facts.push("map trust " + Math.round(p.trust * 100) + "%");
    const crowd = palette.has("density") ? palette.densityRank()[index] : NaN;
    if (!Number.isNaN(crowd)) facts.push("more crowded than " + Math.round(crowd * 100) + "% of images");
    previewFacts.textContent = facts.join(" · ");
    previewNeighbours.replaceChildren(...p.neighbours.map((other) => {
      const item = document.createElement("li");
      item.textContent = points[other].name;
      return item;
    }));
    preview.querySelector(".map-preview-action").textContent = p.href ? "Click to open its page." : "This image has no page of its own.";
    paintPreview(index);
  }
  function paintPreview(index) {
    const side = 120;
    const r = window.devicePixelRatio || 1;
    previewCanvas.width = side * r;
    previewCanvas.height = side * r;
    previewCtx.setTransform(r, 0, 0, r, 0, 0);
    previewCtx.imageSmoothingEnabled = false;
    previewCtx.clearRect(0, 0, side, side);
    drawThumb(previewCtx, index, 0, 0, side, true);
    const picture = full.get(index);
    if (picture && !(picture.complete && picture.naturalWidth > 0)) {
      picture.addEventListener("load", () => { if (carded === index) paintPreview(index); }, { once: true });
    }
  }
  function placePreview(sx, sy) {
    const box = preview.getBoundingClientRect();
    let left = sx + 18, top = sy + 18;
    if (left + box.width > width) left = Math.max(4, sx - box.width - 18);
    if (top + box.height > height) top = Math.max(4, sy - box.height - 18);
    preview.style.left = left + "px";
    preview.style.top = top + "px";
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
    canvas.style.cursor = tool !== "move" ? "crosshair" : index >= 0 && points[index].href ? "pointer" : "grab";
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
      redraw(false);
    }
    if (!drawing) canvas.style.cursor = "grabbing";
  });
  canvas.addEventListener("pointermove", (event) => {
    const here = local(event);
    if (!pointers.has(event.pointerId)) {
      if (event.pointerType === "mouse") hover(pointAt(...here), ...here);
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
      redraw(false);
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
    else redraw(false);
  }
  function release(event) {
    if (!pointers.has(event.pointerId)) return;
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
    if (pointers.size === 0 && drawing && moved > 4 && event.type === "pointerup") {
      finishDrawing();
    } else if (pointers.size === 0 && pressed && moved <= 4 && event.type === "pointerup") {
      const index = pointAt(...local(event));
      if (index >= 0 && points[index].href) {
        window.location.href = root + points[index].href;
      } else if (index >= 0) {
        pin(index); // touch: a tap shows the preview, and it stays
      }
    }
    if (pointers.size === 0) {
      if (drawing) { drawing = null; redraw(false); }
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
      if (drawing) { drawing = null; redraw(false); } else if (pinned >= 0) pin(-1); else setSelection(null);
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
  let found = [], foundAt = 0;
  const lowerNames = points.map((p) => p.name.toLowerCase());
  function centreOn(index) {
    showView([points[index].x, points[index].y], Math.max(view.scale, Math.min(view.fit * 300, 64 / thumbWorld / 1.2)));
    viewChanged();
  }
  function search() {
    const query = findInput.value.trim().toLowerCase();
    found = [];
    foundAt = 0;
    if (query) lowerNames.forEach((name, i) => { if (name.includes(query)) found.push(i); });
    found.sort((a, b) => (lowerNames[a] === query ? -1 : 0) - (lowerNames[b] === query ? -1 : 0) || a - b);
    findStatus.textContent = !query ? "" : found.length === 0 ? "no image by that name"
      : found.length === 1 ? "1 image" : found.length + " images — Enter for the next";
    pin(found.length ? found[0] : -1);
    if (found.length) centreOn(found[0]); else redraw(false);
  }
  findInput.addEventListener("input", search);
  findInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && found.length) {
      event.preventDefault();
      foundAt = (foundAt + 1) % found.length;
      findStatus.textContent = (foundAt + 1) + " of " + found.length + ": " + points[found[foundAt]].name;
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
    points, root, preview: data.preview, onClear: () => setSelection(null),
  });
  function setSelection(next) {
    shape = next;
    selected = tools.select(points, shape);
    panel.show(selected);
    redraw(false);
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
  const slugIndex = new Map(points.map((p, i) => [p.slug, i]));
  let pendingView = null, stateTimer = 0;
  function currentState() {
    const focus = cardIndex();
    return {
      centre: view.touched && view.scale > 0 ? toWorld([width / 2, height / 2]) : null,
      zoom: view.scale / view.fit,
      colouring: mode === "none" ? null : mode,
      image: focus >= 0 ? points[focus].slug : null,
      shape,
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
})();
