// aevis similarity map: a uniform grid over the map's unit square, about one image a square,
// so the image under the pointer is found by looking at a few squares, not at every image.
(function () {
  "use strict";

  /** @param x, y the images' world positions (typed arrays, 0 to 1). */
  function mapGrid(x, y) {
    const count = x.length;
    const side = Math.max(1, Math.ceil(Math.sqrt(count)));
    const squareOf = (v) => Math.min(side - 1, Math.max(0, Math.floor(v * side)));
    // Compressed rows: square s holds members[starts[s]] to members[starts[s + 1] - 1].
    const starts = new Int32Array(side * side + 1);
    const homes = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      homes[i] = squareOf(y[i]) * side + squareOf(x[i]);
      starts[homes[i] + 1] += 1;
    }
    for (let s = 0; s < side * side; s++) starts[s + 1] += starts[s];
    const filled = starts.slice(0, side * side);
    const members = new Int32Array(count);
    for (let i = 0; i < count; i++) members[filled[homes[i]]++] = i;

    /** The image whose centre is nearest (wx, wy) among those at most `reach` away along
     *  each axis (world units), or -1. */
    function nearest(wx, wy, reach) {
      let best = -1, bestDistance = Infinity;
      const x0 = squareOf(wx - reach), x1 = squareOf(wx + reach);
      for (let row = squareOf(wy - reach); row <= squareOf(wy + reach); row++) {
        for (let s = row * side + x0; s <= row * side + x1; s++) {
          for (let m = starts[s]; m < starts[s + 1]; m++) {
            const i = members[m];
            const dx = Math.abs(x[i] - wx), dy = Math.abs(y[i] - wy);
            if (dx > reach || dy > reach) continue;
            const distance = dx * dx + dy * dy;
            if (distance < bestDistance) { best = i; bestDistance = distance; }
          }
        }
      }
      return best;
    }

    return { nearest };
  }

  if (typeof window !== "undefined") window.AevisMapGrid = mapGrid;
  if (typeof module !== "undefined") module.exports = mapGrid;
})();
