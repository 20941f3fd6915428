// aevis similarity map: the view in the address (#x=…&y=…&z=…&c=…&i=…, map-tools.js writes
// and reads it) — written as the view changes, at most a few times a second, and read on load
// and whenever the address's hash is edited, so a copied link opens the same view.
(function () {
  "use strict";

  const WRITE_AFTER_MS = 250;

  /**
   * @param map what map.js shares: {view, points, state (mode, hovered, pinned, shape), asked
   *   (the renderer the address asked for), setMode(key), pin(index), centreOn(index),
   *   select(shape), showView(centre, zoom): the view now or once the canvas has a size,
   *   viewChanged()}
   * @returns {save(): write the address soon, apply(state, viewDone): show a parsed address,
   *   pending(): whether a write is waiting}
   */
  function mapAddress(map) {
    const { view, points, state } = map;
    const tools = window.AevisMapTools;
    const slugIndex = new Map(points.slugs.map((slug, i) => [slug, i]));
    let timer = 0;

    function current() {
      const focus = state.hovered >= 0 ? state.hovered : state.pinned;
      return {
        centre: view.touched && view.scale > 0 ? view.centre() : null,
        zoom: view.scale / view.fit,
        colouring: state.mode === "none" ? null : state.mode,
        image: focus >= 0 ? points.slugs[focus] : null,
        shape: state.shape,
        renderer: map.asked,
      };
    }
    function write() {
      timer = 0;
      const hash = tools.formatHash(current());
      if (hash === window.location.hash) return;
      try {
        history.replaceState(history.state, "", hash || window.location.pathname + window.location.search);
      } catch (error) { /* a browser that refuses: the view still works, only the address stays */ }
    }
    function save() {
      if (!timer) timer = setTimeout(write, WRITE_AFTER_MS);
    }
    function apply(parsed, viewDone) {
      if (parsed.centre && !viewDone) map.showView(parsed.centre, parsed.zoom);
      map.setMode(parsed.colouring || "none");
      const image = parsed.image !== undefined && slugIndex.has(parsed.image) ? slugIndex.get(parsed.image) : -1;
      map.pin(image);
      if (image >= 0 && !parsed.centre && view.width > 0) map.centreOn(image);
      map.select(parsed.shape || null);
      map.viewChanged();
    }
    window.addEventListener("hashchange", () => apply(tools.parseHash(window.location.hash)));
    return { save, apply, pending: () => timer !== 0 };
  }

  window.AevisMapAddress = mapAddress;
})();
