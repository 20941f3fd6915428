// aevis similarity map: the 2D-canvas renderer, for a browser without WebGL. It draws the same
// levels of detail as map-gl.js, but a 2D canvas without a GPU needs far longer than a frame
// for thousands of thumbnails: so it draws onto a hidden canvas a slice at a time (a few
// milliseconds a frame) while the last finished drawing is shown, shifted and scaled to the
// view, and swaps the new one in when it is done.
(function () {
  "use strict";

  const SLICE_MS = 8; // drawing time a frame
  const RINGS_MOST = 5000; // selected images ringed; more would cost a frame of their own

  function css(bytes, at) {
    return "rgb(" + bytes[at] + "," + bytes[at + 1] + "," + bytes[at + 2] + ")";
  }

  /** @param canvas the map's canvas; @param points map-points.js; @param sheets map-sheets.js */
  function mapCanvas(canvas, points, sheets) {
    const ctx = canvas.getContext("2d");
    if (!ctx) return null;
    const count = points.count;
    const sprites = points.sprites;
    let means = new Array(count).fill("#888888"), meanBytes = new Uint8Array(3 * count).fill(136);
    let frames = null, frameBytes = null, marks = new Uint8Array(count);
    let version = 0; // what is drawn changed (colours, frames, marks, a sheet, the size)
    let shown = null; // the finished drawing: {canvas, view, version, key}
    let job = null; // the drawing under way

    function keyOf(frame) {
      const v = frame.view;
      return [v.scale, v.x, v.y, v.width, v.height, frame.detail.level, frame.framed, version,
              frame.detail.sharp.length].join(",");
    }

    /** The images on screen, to draw in slices. */
    function visibleOf(frame) {
      const { view } = frame;
      const reach = view.half + view.border + view.ring;
      const chosen = [];
      const groups = frame.detail.level === "points" ? Array.from({ length: points.groups }, (_, g) => g) : frame.detail.groups;
      for (const g of groups) {
        const end = Math.min(count, (g + 1) * sprites.group);
        for (let slot = g * sprites.group; slot < end; slot++) {
          const i = points.order[slot];
          const sx = points.x[i] * view.scale + view.x, sy = points.y[i] * view.scale + view.y;
          const r = reach * view.scale;
          if (sx + r >= 0 && sy + r >= 0 && sx - r <= view.width && sy - r <= view.height) chosen.push(i);
        }
      }
      return chosen;
    }

    function startJob(frame) {
      const target = document.createElement("canvas");
      target.width = canvas.width;
      target.height = canvas.height;
      const g = target.getContext("2d");
      g.setTransform(frame.view.ratio, 0, 0, frame.view.ratio, 0, 0);
      job = { frame, canvas: target, g, items: visibleOf(frame), next: 0, rings: 0, key: keyOf(frame), version,
              sharp: new Set(frame.detail.sharp), drawn: 0, sharpDrawn: 0, flat: 0 };
    }

    /** Far out: every image a square of its colour, written straight into the pixels. */
    function paintSquares() {
      const { view } = job.frame;
      const width = job.canvas.width, height = job.canvas.height;
      const pixels = new ImageData(width, height);
      const words = new Uint32Array(pixels.data.buffer);
      const side = Math.max(1, Math.round(2 * view.half * view.scale * view.ratio));
      const bytes = job.frame.framed && frameBytes ? frameBytes : meanBytes;
      const stride = bytes === frameBytes ? 4 : 3;
      for (const i of job.items) {
        const left = Math.round((points.x[i] * view.scale + view.x) * view.ratio - side / 2);
        const top = Math.round((points.y[i] * view.scale + view.y) * view.ratio - side / 2);
        const word = (255 << 24) | (bytes[stride * i + 2] << 16) | (bytes[stride * i + 1] << 8) | bytes[stride * i];
        for (let y = Math.max(0, top); y < Math.min(height, top + side); y++) {
          words.fill(word, y * width + Math.max(0, left), y * width + Math.min(width, left + side));
        }
      }
      job.g.putImageData(pixels, 0, 0);
      job.drawn = job.items.length;
      job.next = job.items.length;
    }

    function paintThumb(i) {
      const { view } = job.frame;
      const g = job.g;
      const size = 2 * view.half * view.scale;
      const border = view.border * view.scale;
      const left = points.x[i] * view.scale + view.x - size / 2;
      const top = points.y[i] * view.scale + view.y - size / 2;
      if (job.frame.framed && frames) {
        g.fillStyle = frames[i];
        g.fillRect(left - border, top - border, size + 2 * border, size + 2 * border);
      }
      const cell = points.cellOf(i);
      let image = job.sharp.has(cell.group) ? sheets.sharp(cell.group) : null;
      let columns = sprites.sharp.columns, at = cell.sharpCell;
      if (image) job.sharpDrawn += 1;
      else {
        image = sheets.small(cell.atlas);
        columns = sprites.small.columns;
        at = cell.smallCell;
      }
      if (image) {
        const side = image.width / columns;
        g.imageSmoothingEnabled = size * view.ratio < side;
        g.drawImage(image, (at % columns) * side, Math.floor(at / columns) * side, side, side, left, top, size, size);
      } else {
        g.fillStyle = means[i];
        g.fillRect(left, top, size, size);
        job.flat += 1;
      }
      job.drawn += 1;
    }

    function paintRings() {
      const { view } = job.frame;
      const size = 2 * view.half * view.scale + 2 * view.border * view.scale;
      const line = view.ring * view.scale;
      job.g.lineWidth = line;
      job.g.strokeStyle = points.marks.selected;
      for (const i of job.items) {
        if (!marks[i]) continue;
        if (++job.rings > RINGS_MOST) break;
        const x = points.x[i] * view.scale + view.x, y = points.y[i] * view.scale + view.y;
        job.g.strokeRect(x - size / 2 - line / 2, y - size / 2 - line / 2, size + line, size + line);
      }
    }

    /** Draw one frame; returns {drawn, sharpDrawn, flat, more: a drawing still under way}. */
    function draw(frame) {
      const key = keyOf(frame);
      if (!job && (!shown || shown.key !== key)) startJob(frame);
      if (job && job.version !== version) startJob(frame); // what it draws changed under it
      if (job) {
        const started = performance.now();
        if (job.frame.detail.level === "points") paintSquares();
        while (job.next < job.items.length && performance.now() - started < SLICE_MS) {
          const end = Math.min(job.items.length, job.next + 64);
          for (; job.next < end; job.next++) paintThumb(job.items[job.next]);
        }
        if (job.next >= job.items.length) {
          paintRings();
          shown = job;
          job = null;
        }
      }
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      if (shown) {
        // The finished drawing, moved from the view it was drawn for to this one.
        const from = shown.frame.view, to = frame.view;
        const factor = to.scale / from.scale;
        ctx.imageSmoothingEnabled = true;
        ctx.setTransform(factor, 0, 0, factor, (to.x - from.x * factor) * to.ratio, (to.y - from.y * factor) * to.ratio);
        ctx.drawImage(shown.canvas, 0, 0);
        ctx.setTransform(1, 0, 0, 1, 0, 0);
      }
      const current = shown && shown.key === key;
      return { drawn: current ? shown.drawn : 0, sharpDrawn: current ? shown.sharpDrawn : 0,
               flat: current ? shown.flat : count, more: !current };
    }

    return {
      name: "canvas",
      context: "2d",
      resize(width, height) {
        canvas.width = width;
        canvas.height = height;
        shown = null;
        job = null;
        version += 1;
      },
      setColours(rgb) {
        meanBytes = rgb;
        means = Array.from({ length: count }, (_, i) => css(rgb, 3 * i));
        version += 1;
      },
      setFrames(rgba) {
        frameBytes = rgba;
        frames = rgba ? Array.from({ length: count }, (_, i) => css(rgba, 4 * i)) : null;
        version += 1;
      },
      setMarks(next) {
        marks = next;
        version += 1;
      },
      arrived(level) {
        if (level === "small" || level === "sharp") version += 1;
      },
      evicted() {},
      draw,
    };
  }

  window.AevisMapCanvas = mapCanvas;
})();
