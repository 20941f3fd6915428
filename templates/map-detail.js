// aevis similarity map: the level of detail for a view. Far out every image is a square of
// its mean colour (or of its colouring); nearer, a thumbnail from the small atlases; zoomed
// in, a sharp thumbnail, loaded only for the groups of neighbours on screen.
(function () {
  "use strict";

  const POINTS_BELOW = 5; // a thumbnail's side in device pixels under which it is a coloured square
  const SHARP_FROM = 20; // ... from which the sharp sheets are worth loading (small cells are 16)
  const SHARP_MOST = 48; // sharp sheets wanted at once at most; with more on screen, small ones

  /**
   * What to draw for a view.
   * @param points map-points.js
   * @param view {scale, x, y, width, height, ratio, half, margin}: screen = world × scale + (x, y)
   *   in CSS pixels; half: half a thumbnail, margin: what is drawn around it (world units)
   * @returns {level: "points" | "small" | "sharp", groups: the groups whose box meets the view,
   *   sharp: the groups to draw (and load) sharp}
   */
  function detailFor(points, view) {
    const side = 2 * view.half * view.scale * view.ratio;
    const level = side < POINTS_BELOW ? "points" : side < SHARP_FROM ? "small" : "sharp";
    const reach = view.half + view.margin;
    const left = -view.x / view.scale - reach, top = -view.y / view.scale - reach;
    const right = (view.width - view.x) / view.scale + reach, bottom = (view.height - view.y) / view.scale + reach;
    const boxes = points.boxes;
    const groups = [];
    for (let g = 0; g < points.groups; g++) {
      if (boxes[4 * g] <= right && boxes[4 * g + 2] >= left && boxes[4 * g + 1] <= bottom && boxes[4 * g + 3] >= top) {
        groups.push(g);
      }
    }
    const sharp = level === "sharp" && groups.length <= SHARP_MOST ? groups : [];
    return { level, groups, sharp };
  }

  const exported = { detailFor, POINTS_BELOW, SHARP_FROM, SHARP_MOST };
  if (typeof window !== "undefined") window.AevisMapDetail = exported;
  if (typeof module !== "undefined") module.exports = exported;
})();
