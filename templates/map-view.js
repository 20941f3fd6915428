// aevis similarity map: the view — where the world (the map's unit square, y down) is on the
// canvas: screen = world × scale + (x, y), in CSS pixels. Zoom is bounded by the scale at which
// the whole map fits. Pure arithmetic: map.js asks for redraws, map-input.js moves it.
(function () {
  "use strict";

  const ZOOM_MOST = 300; // times the fitted scale
  const ZOOM_LEAST = 0.5;
  const MARGIN = 0.92; // of the canvas's shorter side, the fitted map takes

  /** A thumbnail's side in world units: large for a few images, small for many. */
  function thumbWorldFor(count) {
    return Math.min(0.08, Math.max(0.006, 0.9 / Math.sqrt(Math.max(count, 1))));
  }

  /** The view of a map of `count` images; the canvas has no size until resize(). */
  function mapView(count) {
    const thumbWorld = thumbWorldFor(count);
    const view = { scale: 1, x: 0, y: 0, fit: 1, touched: false, width: 0, height: 0, ratio: 1, thumbWorld };
    const bounded = (scale) => Math.min(view.fit * ZOOM_MOST, Math.max(view.fit * ZOOM_LEAST, scale));

    /** The whole map, centred (the view a page opens with). */
    view.fitAll = function () {
      const side = Math.min(view.width, view.height) * MARGIN;
      view.fit = side / (1 + thumbWorld);
      view.scale = view.fit;
      view.x = (view.width - view.fit) / 2;
      view.y = (view.height - view.fit) / 2;
    };
    /** Zoom by `factor` about screen point (sx, sy), which stays where it is. */
    view.zoomAt = function (factor, sx, sy) {
      const next = bounded(view.scale * factor);
      const applied = next / view.scale;
      view.x = sx - (sx - view.x) * applied;
      view.y = sy - (sy - view.y) * applied;
      view.scale = next;
      view.touched = true;
    };
    /** World point `centre` at the canvas's centre, at `scale` (bounded). */
    view.show = function (centre, scale) {
      view.scale = bounded(scale);
      view.x = view.width / 2 - centre[0] * view.scale;
      view.y = view.height / 2 - centre[1] * view.scale;
      view.touched = true;
    };
    view.pan = function (dx, dy) {
      view.x += dx;
      view.y += dy;
    };
    view.toWorld = ([sx, sy]) => [(sx - view.x) / view.scale, (sy - view.y) / view.scale];
    view.toScreen = ([wx, wy]) => [wx * view.scale + view.x, wy * view.scale + view.y];
    /** The world point at the canvas's centre. */
    view.centre = () => view.toWorld([view.width / 2, view.height / 2]);
    /** A thumbnail's side on screen, CSS pixels (never under 3). */
    view.thumbSize = () => Math.max(3, thumbWorld * view.scale);
    /** The scale at which a found image is shown: its thumbnail about 53 pixels, or nearer. */
    view.closeUp = () => Math.max(view.scale, Math.min(view.fit * ZOOM_MOST, 64 / thumbWorld / 1.2));
    /** The canvas's new size: fitted again; a view moved by hand keeps its centre and scale. */
    view.resize = function (width, height, ratio) {
      const centre = view.touched ? view.centre() : null;
      const scale = view.scale;
      view.width = width;
      view.height = height;
      view.ratio = ratio;
      view.fitAll();
      if (centre) view.show(centre, scale);
    };
    return view;
  }

  mapView.thumbWorldFor = thumbWorldFor;
  mapView.ZOOM_MOST = ZOOM_MOST;
  mapView.ZOOM_LEAST = ZOOM_LEAST;
  if (typeof window !== "undefined") window.AevisMapView = mapView;
  if (typeof module !== "undefined") module.exports = mapView;
})();
