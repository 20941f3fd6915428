// aevis similarity map: the panel under the map that lists a selection — its count, its
// thumbnails (linked to their pages where they have one), "Download CSV" and "Clear selection".
// map.js decides what is selected and calls show(); this file only fills the panel.
(function () {
  "use strict";

  const SHOWN_MOST = 240; // thumbnails in the panel; the CSV always lists every selected image

  /**
   * @param panel the .map-selection element (markup in map.html)
   * @param options {points, root, preview: "media/{slug}/input.png", onClear()}
   */
  function selectionPanel(panel, options) {
    const tools = window.AevisMapTools;
    const count = panel.querySelector(".map-selection-count");
    const note = panel.querySelector(".map-selection-note");
    const grid = panel.querySelector(".map-selection-grid");
    const points = options.points;
    let chosen = [];

    function tile(index) {
      const point = points[index];
      const item = document.createElement("li");
      const link = document.createElement(point.href ? "a" : "span");
      if (point.href) link.href = options.root + point.href;
      link.title = point.name;
      const picture = document.createElement("img");
      picture.loading = "lazy";
      picture.alt = point.name;
      picture.src = options.root + options.preview.replace("{slug}", encodeURIComponent(point.slug));
      const caption = document.createElement("span");
      caption.textContent = point.name;
      link.append(picture, caption);
      item.append(link);
      return item;
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
      tools.download(tools.csvText(points, chosen), "aevis-selection-" + chosen.length + ".csv");
    });
    panel.querySelector(".map-clear").addEventListener("click", () => options.onClear());
    return { show };
  }

  window.AevisMapSelection = selectionPanel;
})();
