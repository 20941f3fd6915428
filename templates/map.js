// aevis similarity map: every image drawn on one canvas from thumbnail sprite sheets.
// Data: window.AEVIS_MAP, set by assets/map-data.js (a script, not JSON, so file:// works).
// Pan: drag. Zoom: wheel, pinch, the + / − buttons, or + / − / 0 keys. Hover: preview and
// neighbours. Click: open the image's page. No libraries, no network.
(function () {
  "use strict";

  const data = window.AEVIS_MAP;
  const host = document.getElementById("latent-map");
  if (!host) return;
  const note = host.querySelector(".map-hint");
  if (!data || !Array.isArray(data.points)) {
    if (note) note.textContent = "The map's data file (assets/map-data.js) did not load, so the map cannot be drawn.";
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

  // ---- Sprites and full-size pictures -------------------------------------------------
  const cell = data.cell;
  const sheets = data.sheets.map((src) => {
    const image = new Image();
    image.onload = () => redraw(true);
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

  // ---- Colours ------------------------------------------------------------------------
  const labelIndex = new Map(data.labels.map((label, i) => [label, i]));
  function mix(a, b, t) {
    const pa = parseInt(a.slice(1), 16), pb = parseInt(b.slice(1), 16);
    const channel = (shift) => Math.round(((pa >> shift) & 255) * (1 - t) + ((pb >> shift) & 255) * t);
    return "rgb(" + channel(16) + "," + channel(8) + "," + channel(0) + ")";
  }
  function errorColour(value) {
    const [low, high] = data.errorRange;
    const t = Math.min(1, Math.max(0, (value - low) / (high - low))) * (data.errorRamp.length - 1);
    const i = Math.min(Math.floor(t), data.errorRamp.length - 2);
    return mix(data.errorRamp[i], data.errorRamp[i + 1], t - i);
  }
  let mode = colourSelect ? colourSelect.value : "none";
  let colours = null;
  function setMode(next) {
    mode = next;
    if (mode === "label") colours = points.map((p) => p.label === null ? "#888888" : data.labelColours[labelIndex.get(p.label)]);
    else if (mode === "cluster") colours = points.map((p) => data.clusterColours[p.cluster % data.clusterColours.length]);
    else if (mode === "error") colours = points.map((p) => errorColour(p.error));
    else colours = null;
    showLegend();
    redraw(true);
  }
  function swatch(colour, text) {
    const item = document.createElement("li");
    const dot = document.createElement("span");
    dot.className = "map-swatch";
    dot.style.background = colour;
    item.append(dot, document.createTextNode(text));
    return item;
  }
  function showLegend() {
    legend.replaceChildren();
    if (mode === "label" || mode === "cluster") {
      const list = document.createElement("ul");
      const names = mode === "label" ? data.labels : data.clusterColours.map((_, i) => "cluster " + (i + 1));
      const palette = mode === "label" ? data.labelColours : data.clusterColours;
      const sizes = new Array(names.length).fill(0);
      points.forEach((p) => { sizes[mode === "label" ? labelIndex.get(p.label) : p.cluster] += 1; });
      const shown = Math.min(names.length, 24);
      for (let i = 0; i < shown; i++) list.append(swatch(palette[i % palette.length], names[i] + " (" + sizes[i] + ")"));
      if (names.length > shown) list.append(swatch("transparent", "and " + (names.length - shown) + " more"));
      legend.append(list);
    } else if (mode === "error") {
      const bar = document.createElement("div");
      bar.className = "map-ramp";
      bar.style.background = "linear-gradient(to right, " + data.errorRamp.join(", ") + ")";
      const low = document.createElement("span");
      low.textContent = "rebuilt well (" + data.errorRange[0].toPrecision(2) + ")";
      const high = document.createElement("span");
      high.textContent = "rebuilt badly (" + data.errorRange[1].toPrecision(2) + " or more)";
      legend.append(low, bar, high);
    }
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
    if (centre) {
      view.scale = scale;
      view.x = width / 2 - centre[0] * scale;
      view.y = height / 2 - centre[1] * scale;
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
    const screen = (i) => [points[i].x * view.scale + view.x, points[i].y * view.scale + view.y];
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
    if (hovered >= 0) {
      const [hx, hy] = screen(hovered);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#2f6db5";
      for (const other of points[hovered].neighbours) {
        const [nx, ny] = screen(other);
        ctx.beginPath();
        ctx.moveTo(hx, hy);
        ctx.lineTo(nx, ny);
        ctx.stroke();
      }
      for (const other of points[hovered].neighbours) {
        const [nx, ny] = screen(other);
        ring(nx, ny, size, "#2f6db5", 2);
      }
      const big = Math.max(size * 1.8, Math.min(size, 48));
      ctx.fillStyle = "#fff";
      ctx.fillRect(hx - big / 2 - 2, hy - big / 2 - 2, big + 4, big + 4);
      ctx.imageSmoothingEnabled = big < cell;
      drawThumb(ctx, hovered, hx - big / 2, hy - big / 2, big, big > cell * 1.3);
      ring(hx, hy, big, "#2f6db5", 2);
    }
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

  // ---- Hover preview ------------------------------------------------------------------
  let hovered = -1;
  function hover(index, sx, sy) {
    if (index === hovered) { if (index >= 0) placePreview(sx, sy); return; }
    hovered = index;
    canvas.style.cursor = index >= 0 && points[index].href ? "pointer" : "grab";
    if (index < 0) {
      preview.hidden = true;
      redraw(false);
      return;
    }
    const p = points[index];
    previewName.textContent = p.name;
    const facts = [];
    if (p.label !== null) facts.push("label: " + p.label);
    facts.push("cluster " + (p.cluster + 1));
    facts.push("rebuild error " + p.error.toPrecision(2));
    previewFacts.textContent = facts.join(" · ");
    previewNeighbours.replaceChildren(...p.neighbours.map((other) => {
      const item = document.createElement("li");
      item.textContent = points[other].name;
      return item;
    }));
    preview.querySelector(".map-preview-action").textContent = p.href ? "Click to open its page." : "This image has no page of its own.";
    paintPreview(index);
    preview.hidden = false;
    placePreview(sx, sy);
    redraw(false);
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
      picture.addEventListener("load", () => { if (hovered === index) paintPreview(index); }, { once: true });
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

  // ---- Pointer: drag pans, two fingers pinch, a still click opens the page -------------
  const pointers = new Map();
  let pressed = null, moved = 0, pinch = null;
  const local = (event) => {
    const box = canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  };
  function pinchState() {
    const [a, b] = [...pointers.values()];
    return { distance: Math.hypot(a[0] - b[0], a[1] - b[1]) || 1, mid: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] };
  }
  canvas.addEventListener("pointerdown", (event) => {
    try { canvas.setPointerCapture(event.pointerId); } catch (error) { /* pointer already gone */ }
    pointers.set(event.pointerId, local(event));
    if (pointers.size === 1) { pressed = local(event); moved = 0; }
    if (pointers.size === 2) pinch = pinchState();
    canvas.style.cursor = "grabbing";
  });
  canvas.addEventListener("pointermove", (event) => {
    const here = local(event);
    if (!pointers.has(event.pointerId)) {
      if (event.pointerType === "mouse") hover(pointAt(...here), ...here);
      return;
    }
    const before = pointers.get(event.pointerId);
    pointers.set(event.pointerId, here);
    if (pointers.size === 1) {
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
  function release(event) {
    if (!pointers.has(event.pointerId)) return;
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
    if (pointers.size === 0 && pressed && moved <= 4 && event.type === "pointerup") {
      const index = pointAt(...local(event));
      if (index >= 0 && points[index].href) {
        window.location.href = root + points[index].href;
      } else if (index >= 0) {
        hover(index, ...local(event)); // touch: a tap shows the preview
      }
    }
    if (pointers.size === 0) { pressed = null; canvas.style.cursor = "grab"; }
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
    else if (event.key === "0") { fitView(); viewChanged(); }
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
    const scale = Math.max(view.scale, Math.min(view.fit * 300, 64 / thumbWorld / 1.2));
    view.scale = scale;
    view.x = width / 2 - points[index].x * scale;
    view.y = height / 2 - points[index].y * scale;
    view.touched = true;
    hideHint();
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
    if (found.length) centreOn(found[0]); else redraw(false);
  }
  findInput.addEventListener("input", search);
  findInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && found.length) {
      event.preventDefault();
      foundAt = (foundAt + 1) % found.length;
      findStatus.textContent = (foundAt + 1) + " of " + found.length + ": " + points[found[foundAt]].name;
      centreOn(found[foundAt]);
    } else if (event.key === "Escape") {
      findInput.value = "";
      search();
    }
  });

  if (colourSelect) colourSelect.addEventListener("change", () => setMode(colourSelect.value));
  if (window.ResizeObserver) new ResizeObserver(resize).observe(stage);
  else window.addEventListener("resize", resize);
  host.classList.add("map-ready");
  resize();
  setMode(mode);
})();
