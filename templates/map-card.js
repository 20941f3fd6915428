// aevis similarity map: the card beside the pointer (or the pinned image) — the image drawn
// large, its name and figures, and the names of the images with the most similar codes. The
// picture is the sharpest tile at hand at once, then the image's own file in an <img> (which
// a page opened from file:// may show, though WebGL may not use it).
(function () {
  "use strict";

  const SIDE = 120; // CSS pixels

  /**
   * @param card the .map-preview element (markup in map.html)
   * @param points map-points.js; @param sheets map-sheets.js; @param palette map-colours.js
   * @param root the way from the page to the site root
   */
  function mapCard(card, points, sheets, palette, root) {
    const canvas = card.querySelector("canvas");
    const g = canvas.getContext("2d");
    const name = card.querySelector(".map-preview-name");
    const facts = card.querySelector(".map-preview-facts");
    const neighbours = card.querySelector(".map-preview-neighbours");
    const action = card.querySelector(".map-preview-action");
    const tools = window.AevisMapTools;
    let shown = -1;
    let picture = null; // the <img>, made on the first hover so an unused page has no empty one

    function fill(index) {
      shown = index;
      name.replaceChildren(tools.nameElement(points.names[index]));
      const words = [];
      const label = points.label(index);
      if (label !== null) words.push("label: " + label);
      words.push("cluster " + (points.clusterOf[index] + 1));
      const error = points.errors[index];
      words.push("rebuild error " + (Number.isFinite(error) ? error.toPrecision(2) : "not measured"));
      if (points.trust && !Number.isNaN(points.trust[index])) words.push("map trust " + Math.round(points.trust[index] * 100) + "%");
      const crowd = palette.has("density") ? palette.densityRank()[index] : NaN;
      if (!Number.isNaN(crowd)) words.push("more crowded than " + Math.round(crowd * 100) + "% of images");
      facts.textContent = words.join(" · ");
      const similar = points.similarities(index);
      neighbours.replaceChildren(...Array.from(points.neighbours(index), (other, rank) => {
        const item = document.createElement("li");
        item.append(tools.nameElement(points.names[other]));
        if (similar) item.append(` · ${tools.similarityPercent(similar[rank])} similar`);
        return item;
      }));
      action.textContent = points.hasPage(index) ? "Click to open its page." : "This image has no page of its own.";
      paint();
      showPicture(index);
    }

    /** The sharpest tile loaded: the sharp sheet's, the small atlas's, or the mean colour. */
    function paint() {
      if (shown < 0) return;
      const ratio = window.devicePixelRatio || 1;
      canvas.width = SIDE * ratio;
      canvas.height = SIDE * ratio;
      sheets.paint(g, points, shown);
    }

    function showPicture(index) {
      const address = points.preview(index);
      if (!address) {  // no picture of its own: the tile painted above stays
        if (picture) picture.hidden = true;
        return;
      }
      if (!picture) {
        picture = document.createElement("img");
        picture.className = "map-preview-full";
        picture.decoding = "async";
        canvas.after(picture);
      }
      picture.hidden = true;
      picture.alt = tools.isolated(points.names[index]);
      picture.onload = () => { picture.hidden = shown !== index; };
      picture.onerror = () => { picture.hidden = true; }; // the tile stays
      picture.src = root + address;
    }

    /** Put the card beside (sx, sy), inside a stage width × height (CSS pixels). */
    function place(sx, sy, width, height) {
      const box = card.getBoundingClientRect();
      let left = sx + 18, top = sy + 18;
      if (left + box.width > width) left = Math.max(4, sx - box.width - 18);
      if (top + box.height > height) top = Math.max(4, sy - box.height - 18);
      card.style.left = left + "px";
      card.style.top = top + "px";
    }

    return { fill, paint, place, shown: () => shown };
  }

  window.AevisMapCard = mapCard;
})();
