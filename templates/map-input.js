// aevis similarity map: what the pointer and the keys do. Drag pans (or, shift-dragged or with
// a select tool on, draws a rectangle or a lasso); two fingers pinch; wheel, + / − / 0 and the
// buttons zoom; a still click opens the image's page (or pins its card where it has none);
// arrows pan; Escape lets go of what is being drawn, the pinned image, then the selection.
(function () {
  "use strict";

  const STILL = 4; // CSS pixels a press may move and still be a click
  const LASSO_STEP = 3; // CSS pixels between the lasso's corners
  const KEY_PAN = 40; // CSS pixels an arrow key moves the map

  /**
   * @param map what map.js shares: {host, canvas, view, points, root, state (tool, drawing,
   *   hovered, pinned, shape), pointAt(sx, sy), hover(index, sx, sy, event), pin(index),
   *   select(shape or null), setCursor(index), redraw(), viewChanged(), hideHint()}
   */
  function mapInput(map) {
    const { canvas, view, points, state, host } = map;
    const tools = window.AevisMapTools;
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
    function zoomAt(factor, sx, sy) {
      view.zoomAt(factor, sx, sy);
      map.hideHint();
      map.viewChanged();
    }
    function fitAll() {
      view.fitAll();
      view.touched = false;
      map.viewChanged();
    }

    canvas.addEventListener("pointerdown", (event) => {
      try { canvas.setPointerCapture(event.pointerId); } catch (error) { /* pointer already gone */ }
      pointers.set(event.pointerId, local(event));
      if (pointers.size === 1) {
        pressed = local(event);
        moved = 0;
        const selecting = event.button === 0 && (event.shiftKey || state.tool !== "move");
        state.drawing = selecting ? { kind: event.shiftKey ? "rectangle" : state.tool, path: [pressed] } : null;
      }
      if (pointers.size === 2) {
        pinch = pinchState();
        state.drawing = null; // a second finger pinches instead
        map.redraw();
      }
      if (!state.drawing) canvas.style.cursor = "grabbing";
    });
    canvas.addEventListener("pointermove", (event) => {
      const here = local(event);
      if (!pointers.has(event.pointerId)) {
        if (event.pointerType === "mouse") map.hover(map.pointAt(...here), ...here, event);
        return;
      }
      const before = pointers.get(event.pointerId);
      pointers.set(event.pointerId, here);
      const drawing = state.drawing;
      if (pointers.size === 1 && drawing) {
        moved += Math.abs(here[0] - before[0]) + Math.abs(here[1] - before[1]);
        const last = drawing.path[drawing.path.length - 1];
        if (drawing.kind === "rectangle") drawing.path[1] = here;
        else if (Math.hypot(here[0] - last[0], here[1] - last[1]) >= LASSO_STEP) drawing.path.push(here);
        if (moved > STILL) map.hover(-1);
        map.redraw();
      } else if (pointers.size === 1) {
        moved += Math.abs(here[0] - before[0]) + Math.abs(here[1] - before[1]);
        if (moved > STILL) {
          view.pan(here[0] - before[0], here[1] - before[1]);
          view.touched = true;
          map.hideHint();
          map.hover(-1);
          map.viewChanged();
        }
      } else if (pointers.size === 2 && pinch) {
        const next = pinchState();
        view.pan(next.mid[0] - pinch.mid[0], next.mid[1] - pinch.mid[1]);
        zoomAt(next.distance / pinch.distance, next.mid[0], next.mid[1]);
        pinch = next;
        moved = Infinity;
      }
    });
    function finishDrawing() {
      const path = state.drawing.path.map(view.toWorld);
      const kind = state.drawing.kind;
      state.drawing = null;
      if (kind === "rectangle") map.select(tools.rectangleShape([...path[0], ...path[path.length - 1]]));
      else if (path.length >= 3) map.select(tools.lassoShape(path));
      else map.redraw();
    }
    function release(event) {
      if (!pointers.has(event.pointerId)) return;
      pointers.delete(event.pointerId);
      if (pointers.size < 2) pinch = null;
      if (pointers.size === 0 && state.drawing && moved > STILL && event.type === "pointerup") {
        finishDrawing();
      } else if (pointers.size === 0 && pressed && moved <= STILL && event.type === "pointerup") {
        const index = map.pointAt(...local(event));
        if (index >= 0 && points.hasPage(index)) {
          window.location.href = map.root + points.href(index);
        } else if (index >= 0) {
          map.pin(index); // touch: a tap shows the card, and it stays
        }
      }
      if (pointers.size === 0) {
        if (state.drawing) { state.drawing = null; map.redraw(); }
        pressed = null;
        map.setCursor(state.hovered);
      }
    }
    canvas.addEventListener("pointerup", release);
    canvas.addEventListener("pointercancel", release);
    canvas.addEventListener("pointerleave", (event) => { if (!pointers.size && event.pointerType === "mouse") map.hover(-1); });
    canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      const unit = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? view.height : 1;
      zoomAt(Math.exp(-event.deltaY * unit * 0.0015), ...local(event));
    }, { passive: false });
    canvas.addEventListener("keydown", (event) => {
      const steps = { ArrowLeft: [KEY_PAN, 0], ArrowRight: [-KEY_PAN, 0], ArrowUp: [0, KEY_PAN], ArrowDown: [0, -KEY_PAN] };
      const middle = [view.width / 2, view.height / 2];
      if (event.key === "+" || event.key === "=") zoomAt(1.4, ...middle);
      else if (event.key === "-" || event.key === "_") zoomAt(1 / 1.4, ...middle);
      else if (event.key === "0") fitAll();
      else if (event.key === "Escape" && (state.drawing || state.pinned >= 0 || state.shape)) {
        if (state.drawing) { state.drawing = null; map.redraw(); } else if (state.pinned >= 0) map.pin(-1); else map.select(null);
      }
      else if (steps[event.key]) {
        event.stopPropagation();
        view.pan(...steps[event.key]);
        map.viewChanged();
      } else return;
      event.preventDefault();
    });
    host.querySelector(".map-zoom-in").addEventListener("click", () => zoomAt(1.5, view.width / 2, view.height / 2));
    host.querySelector(".map-zoom-out").addEventListener("click", () => zoomAt(1 / 1.5, view.width / 2, view.height / 2));
    host.querySelector(".map-fit").addEventListener("click", fitAll);
    const toolButtons = [...host.querySelectorAll(".map-tool")];
    function chooseTool(next) {
      state.tool = next === state.tool ? "move" : next;
      for (const button of toolButtons) button.setAttribute("aria-pressed", String(button.dataset.tool === state.tool));
      map.setCursor(state.hovered);
    }
    for (const button of toolButtons) button.addEventListener("click", () => chooseTool(button.dataset.tool));
  }

  window.AevisMapInput = mapInput;
})();
