// aevis similarity map: the panel under the map that lists a selection — its count, its
// thumbnails (linked to their pages where they have one), "Download CSV" and "Clear selection".
// map.js decides what is selected and calls show(); this file only fills the panel.
(function () {
  "use strict";

  const SHOWN_MOST = 240; // thumbnails in the panel; the CSV always lists every selected image

  /**
   * @param panel the .map-selection element (markup in map.html)
   * @param options {points (map-points.js), sheets (map-sheets.js), root, onClear()}
   */
  function selectionPanel(panel, options) {
    const tools = window.AevisMapTools;
    const count = panel.querySelector(".map-selection-count");
    const note = panel.querySelector(".map-selection-note");
    const grid = panel.querySelector(".map-selection-grid");
    const points = options.points;
    let chosen = [];

    function tile(index) {
      const name = points.names[index], href = points.href(index);
      const item = document.createElement("li");
      const link = document.createElement(href ? "a" : "span");
      if (href) link.href = options.root + href;
      link.title = tools.isolated(name);
      const address = points.preview(index);
      const picture = address ? document.createElement("img") : spriteTile(index, name);
      if (address) {
        picture.loading = "lazy";
        picture.alt = tools.isolated(name);
        picture.src = options.root + address;
      }
      const caption = tools.nameElement(name);
      link.append(picture, caption);
      item.append(link);
      return item;
    }

    /** An image without a picture of its own, drawn from its sprite tile (or mean colour). */
    function spriteTile(index, name) {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 32;
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", tools.isolated(name));
      if (options.sheets) options.sheets.paint(canvas.getContext("2d"), points, index);
      return canvas;
    }

    function show(indices) {
      chosen = indices;
      panel.hidden = indices.length === 0;
      if (!indices.length) {
        grid.replaceChildren();
        return;
      }
      count.textContent = indices.length === 1 ? "1 image selected" : indices.length.toLocaleString("en") + " images selected";
      const shown = indices.slice(0, SHOWN_MOST);
      note.textContent = (indices.length > shown.length
        ? "The first " + shown.length + " are shown here; the CSV lists all " + indices.length.toLocaleString("en") + ". "
        : "") + "Images with a page of their own open it when clicked.";
      grid.replaceChildren(...shown.map(tile));
    }

    panel.querySelector(".map-download").addEventListener("click", () => {
      if (!chosen.length) return;
      tools.download(tools.csvText(points.row, chosen), "aevis-selection-" + chosen.length + ".csv");
    });
    panel.querySelector(".map-clear").addEventListener("click", () => options.onClear());
    return { show };
  }

  window.AevisMapSelection = selectionPanel;
})();
