// aevis similarity map: the overlay over the images — rings around the found images, the
// image in focus (hovered or pinned) drawn large with lines to its most similar images, and the
// outline of the selection or of the one being drawn. Its colours come from the map's data
// (aevis/site/mapdata.py MARKS), as the renderers' selection ring does.
(function () {
  "use strict";

  const FOUND_RINGED_MOST = 500; // found images ringed at once

  function boxCorners([x0, y0], [x1, y1]) {
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
  }

  /**
   * @param overlay a canvas over the map's; @param view map-view.js
   * @param points map-points.js (points.marks: the colours); @param sheets map-sheets.js
   */
  function mapMarks(overlay, view, points, sheets) {
    const marks = overlay.getContext("2d");
    const colours = points.marks;
    let marked = true; // whether the overlay may hold marks: an empty one is not cleared again
    const screenOf = (i) => view.toScreen([points.x[i], points.y[i]]);

    function ring(x, y, size, colour, line) {
      marks.lineWidth = line;
      marks.strokeStyle = colour;
      marks.strokeRect(x - size / 2 - line, y - size / 2 - line, size + 2 * line, size + 2 * line);
    }
    /** An image drawn large over the map (the found one, the hovered one), from its sharpest tile. */
    function raised(index, size, colour) {
      const [x, y] = screenOf(index);
      const tile = sheets.tile(points, index);
      marks.fillStyle = "#fff";
      marks.fillRect(x - size / 2 - 2, y - size / 2 - 2, size + 4, size + 4);
      if (tile) {
        marks.imageSmoothingEnabled = size * view.ratio < tile.side;
        marks.drawImage(tile.image, tile.sx, tile.sy, tile.side, tile.side, x - size / 2, y - size / 2, size, size);
      }
      ring(x, y, size, colour, colour === colours.current ? 3 : 2);
    }
    function tracePath(corners, close) {
      marks.beginPath();
      corners.forEach(([x, y], i) => (i ? marks.lineTo(x, y) : marks.moveTo(x, y)));
      if (close) marks.closePath();
    }
    function paintOutline(drawing, shape) {
      let outline = null; // screen corners of the chosen shape or of the one being drawn
      if (drawing) {
        outline = drawing.kind === "rectangle" ? boxCorners(drawing.path[0], drawing.path[drawing.path.length - 1]) : drawing.path;
      } else if (shape) {
        outline = shape.kind === "rectangle"
          ? boxCorners(view.toScreen(shape.box.slice(0, 2)), view.toScreen(shape.box.slice(2))) : shape.points.map(view.toScreen);
      }
      if (!outline) return;
      tracePath(outline, !drawing || drawing.kind === "rectangle");
      marks.fillStyle = colours.selected + "1a"; // a tenth
      marks.fill();
      marks.setLineDash([6, 4]);
      marks.lineWidth = 1.5;
      marks.strokeStyle = colours.selected;
      marks.stroke();
      marks.setLineDash([]);
    }

    return {
      resize(width, height) {
        overlay.width = width;
        overlay.height = height;
        marked = true;
      },
      /** Paint the marks of `state` {drawing, shape, found, foundAt, focus}. */
      paint(state) {
        const size = view.thumbSize();
        const { drawing, shape, found, foundAt, focus } = state;
        const wanted = Boolean(drawing || shape || found.length || focus >= 0);
        if (wanted || marked) {
          marks.setTransform(1, 0, 0, 1, 0, 0);
          marks.clearRect(0, 0, overlay.width, overlay.height);
          marked = wanted;
        }
        if (!wanted) return;
        marks.setTransform(view.ratio, 0, 0, view.ratio, 0, 0);
        paintOutline(drawing, shape);
        for (const i of found.slice(0, FOUND_RINGED_MOST)) ring(...screenOf(i), size, colours.found, 2);
        if (found.length) raised(found[foundAt], size * 1.4, colours.current);
        if (focus >= 0) {
          const [hx, hy] = screenOf(focus);
          marks.lineWidth = 1.5;
          marks.strokeStyle = colours.neighbour;
          const others = points.neighbours(focus);
          for (const other of others) {
            const [nx, ny] = screenOf(other);
            marks.beginPath();
            marks.moveTo(hx, hy);
            marks.lineTo(nx, ny);
            marks.stroke();
          }
          for (const other of others) ring(...screenOf(other), size, colours.neighbour, 2);
          raised(focus, Math.max(size * 1.8, Math.min(size, 48)), colours.neighbour);
        }
      },
    };
  }

  mapMarks.boxCorners = boxCorners;
  if (typeof window !== "undefined") window.AevisMapMarks = mapMarks;
  if (typeof module !== "undefined") module.exports = mapMarks;
})();
