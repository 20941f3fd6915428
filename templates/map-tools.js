// aevis similarity map: the small pure helpers map.js uses — the view in the address
// (#x=…&y=…&z=…&c=…&i=…&r=… or &l=…&renderer=…), selection shapes, the CSV of a selection and
// its download.
// Nothing here touches the page; map.js wires it up.
(function () {
  "use strict";

  // ---- The view in the address's hash ---------------------------------------------------
  // x, y: the world point at the canvas's centre (the map spans 0 to 1 both ways, y down);
  // z: zoom, 1 being "the whole map fits"; c: the colouring; i: the pinned image's slug;
  // r: a selected rectangle x0,y0,x1,y1; l: a selected lasso x,y,x,y,… (world coordinates);
  // renderer: what draws the map (webgl2, webgl1 or canvas), for tests and for a machine whose
  // WebGL misbehaves.
  const SHAPE_DIGITS = 5;

  function round(value, digits) {
    return Number(value.toFixed(digits));
  }

  function numbers(text, least) {
    if (!text) return null;
    const values = text.split(",").map(Number);
    return values.length >= least && values.every(Number.isFinite) ? values : null;
  }

  /** The state a hash holds; a missing or malformed part is absent. */
  function parseHash(hash) {
    const params = new URLSearchParams((hash || "").replace(/^#/, ""));
    const state = {};
    const x = Number(params.get("x")), y = Number(params.get("y")), z = Number(params.get("z"));
    if (params.has("x") && params.has("y") && Number.isFinite(x) && Number.isFinite(y)) {
      state.centre = [x, y];
      state.zoom = params.has("z") && Number.isFinite(z) && z > 0 ? z : 1;
    }
    if (params.get("c")) state.colouring = params.get("c");
    if (params.get("i")) state.image = params.get("i");
    if (params.get("renderer")) state.renderer = params.get("renderer");
    const rectangle = numbers(params.get("r"), 4);
    const lasso = numbers(params.get("l"), 6);
    if (rectangle && rectangle.length === 4) state.shape = rectangleShape(rectangle);
    else if (lasso && lasso.length % 2 === 0) state.shape = lassoShape(pairs(lasso));
    return state;
  }

  /** The hash of a state (the parts it has), "" for none. Commas stay readable. */
  function formatHash(state) {
    const parts = [];
    const put = (key, value) => parts.push(key + "=" + encodeURIComponent(value).replace(/%2C/gi, ","));
    if (state.centre) {
      put("x", round(state.centre[0], 5));
      put("y", round(state.centre[1], 5));
      put("z", Number(state.zoom.toPrecision(4)));
    }
    if (state.colouring) put("c", state.colouring);
    if (state.image) put("i", state.image);
    if (state.shape && state.shape.kind === "rectangle") put("r", state.shape.box.join(","));
    else if (state.shape) put("l", state.shape.points.flat().join(","));
    if (state.renderer) put("renderer", state.renderer);
    return parts.length ? "#" + parts.join("&") : "";
  }

  function pairs(flat) {
    const out = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
    return out;
  }

  // ---- Selection shapes (world coordinates, rounded so the address holds them exactly) ----
  function rectangleShape([x0, y0, x1, y1]) {
    const box = [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
    return { kind: "rectangle", box: box.map((v) => round(v, SHAPE_DIGITS)) };
  }

  const LASSO_MOST = 80; // corners kept, so the address stays short

  function lassoShape(points) {
    let kept = points;
    if (kept.length > LASSO_MOST) {
      const step = kept.length / LASSO_MOST;
      kept = Array.from({ length: LASSO_MOST }, (_, i) => kept[Math.floor(i * step)]);
    }
    return { kind: "lasso", points: kept.map(([x, y]) => [round(x, SHAPE_DIGITS), round(y, SHAPE_DIGITS)]) };
  }

  /** Whether world point (x, y) is inside the shape: edges of a rectangle count as inside;
   *  a lasso by the even-odd rule (a ray to the right crosses its outline an odd number of times). */
  function inside(shape, x, y) {
    if (shape.kind === "rectangle") {
      const [x0, y0, x1, y1] = shape.box;
      return x >= x0 && x <= x1 && y >= y0 && y <= y1;
    }
    const corners = shape.points;
    let odd = false;
    for (let i = 0, j = corners.length - 1; i < corners.length; j = i++) {
      const [xi, yi] = corners[i], [xj, yj] = corners[j];
      if ((yi > y) !== (yj > y) && x < xj + ((y - yj) * (xi - xj)) / (yi - yj)) odd = !odd;
    }
    return odd;
  }

  /** Indices of the points (world x[i], y[i]) inside the shape, in data order. */
  function select(x, y, shape) {
    const chosen = [];
    if (!shape) return chosen;
    const [x0, y0, x1, y1] = shape.kind === "rectangle" ? shape.box : bounds(shape.points);
    for (let i = 0; i < x.length; i++) {
      if (x[i] >= x0 && x[i] <= x1 && y[i] >= y0 && y[i] <= y1 && inside(shape, x[i], y[i])) chosen.push(i);
    }
    return chosen;
  }

  function bounds(corners) {
    const xs = corners.map((c) => c[0]), ys = corners.map((c) => c[1]);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }

  // ---- CSV (RFC 4180: comma-separated, CRLF lines, quoted where needed) ------------------
  const CSV_COLUMNS = ["name", "source", "x", "y", "error", "label"];
  const BYTE_ORDER_MARK = "\ufeff"; // without it, spreadsheets read UTF-8 as Latin-1: "ü" becomes "Ã¼"
  const FORMULA_START = /^[=+\-@\t\r]/; // what spreadsheets take for the start of a formula

  /** One field: empty for a missing value (null, or a number not measured); text a spreadsheet
   *  would run as a formula (a file named "=1+1.png") made inert by OWASP's rule for CSV
   *  injection: a single quote before it, and the field quoted. */
  function csvField(value) {
    if (value === null || value === undefined || (typeof value === "number" && !Number.isFinite(value))) return "";
    if (typeof value === "number") return String(value);
    const formula = FORMULA_START.test(String(value));
    const text = formula ? "'" + value : String(value);
    return formula || /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  /** The CSV of rows ``indices`` (after a byte-order mark); ``rows`` is an array of objects or
   *  a function of the index. */
  function csvText(rows, indices) {
    const rowOf = typeof rows === "function" ? rows : (i) => rows[i];
    const lines = [BYTE_ORDER_MARK + CSV_COLUMNS.join(",")];
    for (const i of indices) {
      const row = rowOf(i);
      lines.push(CSV_COLUMNS.map((column) => csvField(row[column])).join(","));
    }
    return lines.join("\r\n") + "\r\n";
  }

  /** Save text as a file: a Blob behind an object URL and a link with a download name, which
   *  works from file:// too (no server, no network). */
  function download(text, fileName, type) {
    const url = URL.createObjectURL(new Blob([text], { type: type || "text/csv;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // ---- Names: a user's file name is shown isolated from the text around it ---------------
  /** The name as an element (<bdi>), so a right-to-left override in it ("photo\u202egnp.exe")
   *  cannot make it pose as another name ("photoexe.png") or turn the words after it around. */
  function nameElement(name) {
    const made = document.createElement("bdi");
    made.textContent = name;
    return made;
  }

  /** The name between first-strong-isolate and pop-directional-isolate marks, for text where an
   *  element cannot go (alt, title, aria-label). */
  function isolated(name) {
    return "\u2068" + name + "\u2069";
  }

  // ---- Numbers --------------------------------------------------------------------------
  /** A similarity as aevis.site.set_pages.similarity_percent writes it on the image pages:
   * cut toward zero, never rounded up, decimals only from 99 %. */
  function similarityPercent(similarity) {
    const percent = similarity * 100;
    if (!Number.isFinite(percent)) return "n/a";
    if (percent < 99) return `${Math.trunc(percent) + 0}%`;
    const distance = 100 - percent;
    if (distance < 5e-5) return "100%";
    const decimals = Math.min(4, Math.max(1, Math.floor(-Math.log10(distance)) + 1));
    return `${(Math.floor(percent * 10 ** decimals) / 10 ** decimals).toFixed(decimals)}%`;
  }

  const exported = {
    parseHash, formatHash, rectangleShape, lassoShape, inside, select, csvField, csvText, download, nameElement, isolated,
    similarityPercent,
  };
  if (typeof window !== "undefined") window.AevisMapTools = exported;
  if (typeof module !== "undefined") module.exports = exported;
})();
