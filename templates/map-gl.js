// aevis similarity map: the WebGL renderer, on WebGL 2 or WebGL 1. Every image is a square of
// two triangles whose six corners each carry its place, its cells on the sprite sheets, its mean
// colour, its frame colour and whether it is selected, in sheet order (aevis/site/map_sprites.py),
// so the images of one sheet are one run of the buffers and one draw call. (Six corners an image,
// not one instanced square: software WebGL, SwiftShader, pays about 20 µs an instance.) The
// shader draws the thumbnail, the coloured frame around it and, if selected, a ring. Far out,
// each image is one point of its colour, from every sixth corner.
// The images are drawn into a texture, as many a frame as the frame rate allows (all of them on
// a GPU; a few thousand on software WebGL, where 100,000 squares take 400 ms), and each frame
// shows the last finished drawing moved to the view: one square, however many images.
(function () {
  "use strict";

  const UPLOAD_BUDGET_MS = 8; // texture uploads per frame stop after this long
  const CORNERS = [0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1]; // two triangles
  const FIRST_BUDGET = 4000; // images drawn in a frame, to begin with
  const GREY = 136; // an image's colour until the colours arrive (map-colours.js GREY)
  const FRAME_MS = 20; // a frame interval below this: draw more images a frame; far above: fewer

  /**
   * What the buffers hold: six corners an image, in sheet order. Corners: 2 bytes (+2 to keep
   * 4-byte steps); places: x, y (16-bit steps), cell on the small atlas, cell on the sharp
   * sheet; paints: mean colour (grey until the colours arrive) and selected, frame colour.
   * @param points map-points.js (count, order, quantised, sprites)
   * @returns {corners: Uint8Array, places: Uint16Array, paints: Uint8Array}, 4, 4 and 8 a corner
   */
  function vertexData(points) {
    const count = points.count;
    const sprites = points.sprites;
    const corners = new Uint8Array(24 * count);
    const places = new Uint16Array(24 * count);
    const paints = new Uint8Array(48 * count);
    for (let slot = 0; slot < count; slot++) {
      const i = points.order[slot];
      const place = [points.quantised[2 * i], points.quantised[2 * i + 1], slot % sprites.small.perAtlas, slot % sprites.group];
      for (let v = 0; v < 6; v++) {
        const vertex = 6 * slot + v;
        corners[4 * vertex] = CORNERS[2 * v];
        corners[4 * vertex + 1] = CORNERS[2 * v + 1];
        places.set(place, 4 * vertex);
        paints.fill(GREY, 8 * vertex, 8 * vertex + 3);
      }
    }
    return { corners, places, paints };
  }

  /**
   * @param canvas the map's canvas (not yet given a context)
   * @param points map-points.js
   * @param sheets map-sheets.js
   * @param version 2 or 1
   * @returns the renderer, or null where this browser has no such WebGL
   */
  function mapGL(canvas, points, sheets, version) {
    const options = { alpha: true, premultipliedAlpha: true, antialias: false, depth: false, stencil: false };
    let gl = null;
    try {
      gl = canvas.getContext(version === 2 ? "webgl2" : "webgl", options);
    } catch (error) {
      gl = null;
    }
    if (!gl) return null;

    const count = points.count;
    const sprites = points.sprites;
    const group = sprites.group;
    const { corners, places, paints } = vertexData(points);
    // The selection's ring, as the overlay and the 2D canvas draw it (the map's data: marks).
    const ring = window.AevisMapColours.rgbOf(points.marks.selected).map((value) => value / 255);
    const textures = new Map(); // "small:n" / "sharp:n" -> {texture, columns, rows, cell}
    const uploads = []; // [level, number] of pictures decoded and not yet uploaded
    let squares, dots, show, cornerBuffer, placeBuffer, paintBuffer, showBuffer;
    let drawings = []; // two {framebuffer, texture}: the one shown and the one being drawn
    let shown = null; // the last finished drawing: {target, view, key, stats}
    let job = null; // the drawing under way: {target, frame, key, runs, run, at, stats}
    let looks = 0; // counts changes to how the images look (colours, frames, marks, a texture)
    let budget = FIRST_BUDGET, lastDraw = 0;
    let lost = false;

    function build() {
      ({ squares, points: dots, show } = window.AevisMapShaders.programs(gl));
      for (const made of [squares, dots]) {
        gl.useProgram(made.program);
        gl.uniform3fv(made.uniform.u_ringColour, ring);
      }
      gl.uniform1i(squares.uniform.u_texture, 0);
      cornerBuffer = buffer(corners, gl.STATIC_DRAW);
      placeBuffer = buffer(places, gl.STATIC_DRAW);
      paintBuffer = buffer(paints, gl.DYNAMIC_DRAW);
      showBuffer = buffer(new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
      gl.disable(gl.DEPTH_TEST);
      gl.disable(gl.BLEND);
      gl.clearColor(0, 0, 0, 0);
      textures.clear();
      uploads.length = 0;
      for (let n = 0; n < sprites.small.scripts.length; n++) if (sheets.small(n)) uploads.push(["small", n]);
      for (const n of sheets.sharpLoaded()) uploads.push(["sharp", n]);
      using = null;
      makeDrawings();
    }

    function buffer(values, usage) {
      const made = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, made);
      gl.bufferData(gl.ARRAY_BUFFER, values, usage);
      return made;
    }

    /** Two textures the size of the canvas, each behind a framebuffer, to draw the images into. */
    function makeDrawings() {
      for (const old of drawings) {
        gl.deleteFramebuffer(old.framebuffer);
        gl.deleteTexture(old.texture);
      }
      drawings = [0, 1].map(() => {
        const texture = gl.createTexture();
        gl.bindTexture(gl.TEXTURE_2D, texture);
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, canvas.width, canvas.height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
        for (const [name, value] of [[gl.TEXTURE_MIN_FILTER, gl.LINEAR], [gl.TEXTURE_MAG_FILTER, gl.LINEAR],
                                     [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) {
          gl.texParameteri(gl.TEXTURE_2D, name, value);
        }
        const framebuffer = gl.createFramebuffer();
        gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
        gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
        gl.clear(gl.COLOR_BUFFER_BIT);
        return { framebuffer, texture };
      });
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      shown = null;
      job = null;
    }

    /** Switch to a program and point its attributes at the buffers: every corner (squares),
     *  every sixth (points), or the one square of the shown drawing. */
    let using = null;
    function use(made) {
      if (using === made) return;
      gl.useProgram(made.program);
      const step = made === dots ? 6 : 1;
      const attribute = (name, source, size, type, normalised, stride, offset) => {
        if (made.at[name] === undefined || made.at[name] < 0) return;
        gl.bindBuffer(gl.ARRAY_BUFFER, source);
        gl.enableVertexAttribArray(made.at[name]);
        gl.vertexAttribPointer(made.at[name], size, type, normalised, stride * step, offset);
      };
      for (let at = 0; at < 5; at++) gl.disableVertexAttribArray(at);
      if (made === show) {
        attribute("a_corner", showBuffer, 2, gl.FLOAT, false, 8, 0);
      } else {
        attribute("a_corner", cornerBuffer, 2, gl.UNSIGNED_BYTE, false, 4, 0);
        attribute("a_position", placeBuffer, 2, gl.UNSIGNED_SHORT, true, 8, 0);
        attribute("a_cells", placeBuffer, 2, gl.UNSIGNED_SHORT, false, 8, 4);
        attribute("a_mean", paintBuffer, 4, gl.UNSIGNED_BYTE, true, 8, 0);
        attribute("a_frame", paintBuffer, 4, gl.UNSIGNED_BYTE, true, 8, 4);
      }
      using = made;
    }

    build();
    canvas.addEventListener("webglcontextlost", (event) => { event.preventDefault(); lost = true; });
    canvas.addEventListener("webglcontextrestored", () => { lost = false; build(); });

    function refreshPaints() {
      gl.bindBuffer(gl.ARRAY_BUFFER, paintBuffer);
      gl.bufferSubData(gl.ARRAY_BUFFER, 0, paints);
      looks += 1;
    }

    /** Set byte `offset` (0-7) of every corner of every image from `value(i)`. */
    function paintEach(offset, value) {
      for (let slot = 0; slot < count; slot++) {
        const byte = value(points.order[slot]);
        for (let v = 48 * slot + offset; v < 48 * slot + 48; v += 8) paints[v] = byte;
      }
    }

    function upload(level, number) {
      const image = level === "small" ? sheets.small(number) : sheets.sharp(number);
      if (!image) return;
      const texture = gl.createTexture();
      gl.bindTexture(gl.TEXTURE_2D, texture);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, image);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST); // enlarged: pixels kept sharp, as on the 2D canvas
      const columns = level === "small" ? sprites.small.columns : sprites.sharp.columns;
      const rows = level === "small" ? sprites.small.rows[number] : sprites.sharp.columns;
      if (level === "small") {
        // Small cells are drawn down to a few pixels: mipmaps average them instead of
        // skipping pixels. Past 2 pixels a cell, a level mixes neighbours (WebGL 2 stops there).
        if (version === 2) gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAX_LEVEL, 3);
        gl.generateMipmap(gl.TEXTURE_2D);
        gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR_MIPMAP_NEAREST);
      } else {
        gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
      }
      const previous = textures.get(level + ":" + number);
      if (previous) gl.deleteTexture(previous.texture);
      textures.set(level + ":" + number, { texture, columns, rows, cell: image.width / columns });
      looks += 1;
    }

    /** Upload pictures for up to UPLOAD_BUDGET_MS; returns the milliseconds spent. */
    function uploadSome() {
      const started = performance.now();
      while (uploads.length && performance.now() - started < UPLOAD_BUDGET_MS) upload(...uploads.shift());
      return performance.now() - started;
    }

    function paintWith(paint, sheet, sharp) {
      gl.uniform1f(squares.uniform.u_paint, paint);
      if (!sheet) return;
      gl.bindTexture(gl.TEXTURE_2D, sheet.texture);
      gl.uniform1f(squares.uniform.u_columns, sheet.columns);
      gl.uniform2f(squares.uniform.u_cellSize, 1 / sheet.columns, 1 / sheet.rows);
      gl.uniform1f(squares.uniform.u_sharp, sharp ? 1 : 0);
      gl.uniform1f(squares.uniform.u_inset, 0.5 / sheet.cell);
    }

    /** The runs of images to draw for a frame: [{first, end, paint, sheet, sharp}], in slots. */
    function runsFor(frame) {
      const { detail } = frame;
      if (detail.level === "points") return [{ first: 0, end: count, points: true }];
      const sharp = new Set(detail.sharp);
      const runs = [];
      for (const g of detail.groups) {
        const first = g * group, end = Math.min(count, first + group);
        let sheet = sharp.has(g) ? textures.get("sharp:" + g) : null;
        const isSharp = Boolean(sheet);
        if (!sheet) sheet = textures.get("small:" + Math.floor(first / sprites.small.perAtlas)) || null;
        const paint = sheet ? 2 : 0; // no sheet yet: the mean colour, inside its frame
        const last = runs[runs.length - 1];
        if (last && last.end === first && last.sheet === sheet && last.sharp === isSharp) last.end = end;
        else runs.push({ first, end, sheet, sharp: isSharp, paint });
      }
      return runs;
    }

    function keyOf(frame) {
      const v = frame.view;
      return [v.scale, v.x, v.y, v.width, v.height, v.border, frame.detail.level, frame.framed,
              frame.detail.sharp.join(" "), looks].join(",");
    }

    function startJob(frame) {
      const target = drawings.find((drawing) => !shown || drawing !== shown.target);
      job = { target, frame, key: keyOf(frame), runs: runsFor(frame), run: 0, at: -1,
              stats: { drawn: 0, sharpDrawn: 0, flat: 0 } };
      gl.bindFramebuffer(gl.FRAMEBUFFER, target.framebuffer);
      gl.viewport(0, 0, canvas.width, canvas.height);
      gl.clear(gl.COLOR_BUFFER_BIT);
    }

    /** Draw up to `budget` more images of the drawing under way; true once it is whole. */
    function continueJob() {
      const { view, detail } = job.frame;
      gl.bindFramebuffer(gl.FRAMEBUFFER, job.target.framebuffer);
      gl.viewport(0, 0, canvas.width, canvas.height);
      const made = detail.level === "points" ? dots : squares;
      use(made);
      gl.uniform4f(made.uniform.u_view, 2 * view.scale / view.width, -2 * view.scale / view.height,
                   2 * view.x / view.width - 1, 1 - 2 * view.y / view.height);
      if (made === dots) {
        gl.uniform1f(dots.uniform.u_side, Math.max(1, Math.round(2 * view.half * view.scale * view.ratio)));
        gl.uniform1f(dots.uniform.u_framed, job.frame.framed ? 1 : 0);
      } else {
        gl.uniform1f(squares.uniform.u_half, view.half);
        gl.uniform1f(squares.uniform.u_border, view.border);
        gl.uniform1f(squares.uniform.u_ring, view.ring);
      }
      let left = budget;
      while (left > 0 && job.run < job.runs.length) {
        const run = job.runs[job.run];
        if (job.at < 0) job.at = run.first;
        const end = Math.min(run.end, job.at + left);
        if (run.points) {
          gl.drawArrays(gl.POINTS, job.at, end - job.at);
        } else {
          paintWith(run.paint, run.sheet, run.sharp);
          gl.drawArrays(gl.TRIANGLES, 6 * job.at, 6 * (end - job.at));
          if (run.sharp) job.stats.sharpDrawn += end - job.at;
          if (run.paint !== 2) job.stats.flat += end - job.at;
        }
        job.stats.drawn += end - job.at;
        left -= end - job.at;
        job.at = end;
        if (end === run.end) {
          job.run += 1;
          job.at = -1;
        }
      }
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      return job.run >= job.runs.length;
    }

    /** The last finished drawing on the canvas, moved from the view it was drawn for to this one. */
    function showDrawing(view) {
      gl.viewport(0, 0, canvas.width, canvas.height);
      gl.clear(gl.COLOR_BUFFER_BIT);
      if (!shown) return;
      const from = shown.frame.view;
      const factor = view.scale / from.scale;
      const left = view.x - from.x * factor, top = view.y - from.y * factor;
      const right = left + (canvas.width / view.ratio) * factor, bottom = top + (canvas.height / view.ratio) * factor;
      use(show);
      gl.bindTexture(gl.TEXTURE_2D, shown.target.texture);
      gl.uniform1i(show.uniform.u_drawing, 0);
      gl.uniform4f(show.uniform.u_rect, 2 * left / view.width - 1, 1 - 2 * top / view.height,
                   2 * right / view.width - 1, 1 - 2 * bottom / view.height);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    }

    /** Draw more images a frame while frames come quickly, fewer when they do not. */
    function tuneBudget() {
      const now = performance.now();
      const interval = now - lastDraw;
      lastDraw = now;
      if (!job || interval > 1000) return;
      if (interval < FRAME_MS) budget = Math.min(count + 1, Math.ceil(budget * 1.25));
      else if (interval > 1.25 * FRAME_MS) budget = Math.max(250, Math.floor(budget * 0.7));
    }

    /**
     * Draw one frame.
     * @param frame {view: {scale, x, y, width, height, ratio, half, border, ring}, detail (map-detail.js), framed}
     * @returns {drawn: images in the drawing shown, sharpDrawn, flat: of them drawn as squares of
     *   colour for want of their sheet, more: a drawing or an upload is still under way, uploadMs}
     */
    function draw(frame) {
      if (lost) return { drawn: 0, sharpDrawn: 0, flat: count, more: false, uploadMs: 0 };
      tuneBudget();
      const uploadMs = uploadSome();
      const key = keyOf(frame);
      if (!job && (!shown || shown.key !== key)) startJob(frame);
      if (job && continueJob()) {
        shown = job;
        job = null;
      }
      showDrawing(frame.view);
      const current = Boolean(shown) && shown.key === keyOf(frame);
      const stats = shown ? shown.stats : { drawn: 0, sharpDrawn: 0, flat: count };
      return { drawn: current ? stats.drawn : 0, sharpDrawn: current ? stats.sharpDrawn : 0,
               flat: current ? stats.flat : count, more: !current || uploads.length > 0, uploadMs };
    }

    return {
      name: version === 2 ? "webgl2" : "webgl1",
      context: gl.getParameter(gl.VERSION),
      resize(width, height) {
        canvas.width = width;
        canvas.height = height;
        if (!lost) makeDrawings();
      },
      /** Mean colours arrived: RGB bytes in data order. */
      setColours(rgb) {
        for (let c = 0; c < 3; c++) paintEach(c, (i) => rgb[3 * i + c]);
        refreshPaints();
      },
      /** Frame colours (RGBA bytes, data order), or null for none. */
      setFrames(rgba) {
        for (let c = 0; c < 4; c++) paintEach(4 + c, (i) => (rgba ? rgba[4 * i + c] : 0));
        refreshPaints();
      },
      /** Which images are selected: 1 or 0 a byte, data order. */
      setMarks(marks) {
        paintEach(3, (i) => (marks[i] ? 255 : 0));
        refreshPaints();
      },
      arrived(level, number) {
        if (level === "small" || level === "sharp") uploads.push([level, number]);
      },
      evicted(number) {
        const sheet = textures.get("sharp:" + number);
        if (sheet) gl.deleteTexture(sheet.texture);
        textures.delete("sharp:" + number);
        looks += 1;
      },
      draw,
    };
  }

  mapGL.vertexData = vertexData;
  if (typeof window !== "undefined") window.AevisMapGL = mapGL;
  if (typeof module !== "undefined") module.exports = mapGL;
})();
