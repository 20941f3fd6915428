// aevis similarity map: the "colour by" choices — each image's frame colour and the legend's
// words, ramp or swatches. The words and ramps come from Python (map-data.js "colourings").
(function () {
  "use strict";

  const GREY = [136, 136, 136]; // an image without the number (no label, unmeasured)

  function rgbOf(hex) {
    const value = parseInt(hex.slice(1), 16);
    return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
  }

  function rampColour(ramp, t) {
    const at = Math.min(1, Math.max(0, t)) * (ramp.length - 1);
    const i = Math.min(Math.floor(at), ramp.length - 2);
    const a = ramp[i], b = ramp[i + 1], f = at - i;
    return [0, 1, 2].map((c) => Math.round(a[c] * (1 - f) + b[c] * f));
  }

  function swatch(colour, text) {
    const item = document.createElement("li");
    const dot = document.createElement("span");
    dot.className = "map-swatch";
    dot.style.background = colour;
    item.append(dot, document.createTextNode(text));
    return item;
  }

  /** @param data window.AEVIS_MAP; @param points its columns (map-points.js). */
  function mapColours(data, points) {
    const count = points.count;
    const choices = new Map((data.colourings || []).map((choice) => [choice.key, choice]));
    const labelRgb = data.labelColours.map(rgbOf);
    const clusterRgb = data.clusterColours.map(rgbOf);
    let ranks = null;

    /** Each image's density as a rank in [0, 1] (1: the most crowded; NaN: unmeasured). */
    function densityRank() {
      if (ranks) return ranks;
      ranks = new Float64Array(count).fill(NaN);
      if (!points.density) return ranks;
      const known = [];
      for (let i = 0; i < count; i++) if (!Number.isNaN(points.density[i])) known.push(i);
      known.sort((a, b) => points.density[a] - points.density[b]);
      known.forEach((i, place) => { ranks[i] = known.length > 1 ? place / (known.length - 1) : 1; });
      return ranks;
    }

    /** Every image's frame colour under a colouring, RGBA bytes in data order, or null for
     *  plain thumbnails. */
    function colours(key) {
      const choice = choices.get(key);
      if (!choice || key === "none") return null;
      const ramp = (choice.ramp || []).map(rgbOf);
      const [low, high] = data.errorRange;
      const density = key === "density" ? densityRank() : null;
      const colourOf = {
        label: (i) => (points.labelOf ? labelRgb[points.labelOf[i]] : GREY),
        cluster: (i) => clusterRgb[points.clusterOf[i] % clusterRgb.length],
        error: (i) => (Number.isFinite(points.errors[i]) ? rampColour(ramp, (points.errors[i] - low) / (high - low)) : GREY),
        density: (i) => (Number.isNaN(density[i]) ? GREY : rampColour(ramp, density[i])),
        trust: (i) => (!points.trust || Number.isNaN(points.trust[i]) ? GREY : rampColour(ramp, points.trust[i])),
      }[key];
      if (!colourOf) return null;
      const rgba = new Uint8Array(4 * count);
      for (let i = 0; i < count; i++) {
        rgba.set(colourOf(i), 4 * i);
        rgba[4 * i + 3] = 255;
      }
      return rgba;
    }

    /** Fill the legend: the colouring's words, then its swatches or its ramp worded at both ends. */
    function legend(element, key) {
      element.replaceChildren();
      const choice = choices.get(key);
      if (!choice) return;
      const words = document.createElement("p");
      words.className = "map-legend-words";
      words.textContent = choice.words;
      element.append(words);
      if (key === "label" || key === "cluster") {
        const list = document.createElement("ul");
        const names = key === "label" ? data.labels : data.clusterColours.map((_, i) => "cluster " + (i + 1));
        const palette = key === "label" ? data.labelColours : data.clusterColours;
        const groupOf = key === "label" ? points.labelOf : points.clusterOf;
        const sizes = new Array(names.length).fill(0);
        if (groupOf) for (let i = 0; i < count; i++) sizes[groupOf[i]] += 1;
        const shown = Math.min(names.length, 24);
        for (let i = 0; i < shown; i++) list.append(swatch(palette[i % palette.length], names[i] + " (" + sizes[i] + ")"));
        if (names.length > shown) list.append(swatch("transparent", "and " + (names.length - shown) + " more"));
        element.append(list);
      } else if (choice.ramp && choice.ramp.length > 1) {
        const bar = document.createElement("div");
        bar.className = "map-ramp";
        bar.style.background = "linear-gradient(to right, " + choice.ramp.join(", ") + ")";
        const low = document.createElement("span");
        const high = document.createElement("span");
        low.textContent = choice.low;
        high.textContent = choice.high;
        if (key === "error") {
          low.textContent += " (" + data.errorRange[0].toPrecision(2) + ")";
          high.textContent += " (" + data.errorRange[1].toPrecision(2) + " or more)";
        }
        const scale = document.createElement("div");
        scale.className = "map-scale";
        scale.append(low, bar, high);
        element.append(scale);
      }
    }

    return { has: (key) => choices.has(key), colours, legend, densityRank };
  }

  mapColours.rgbOf = rgbOf;
  if (typeof window !== "undefined") window.AevisMapColours = mapColours;
  if (typeof module !== "undefined") module.exports = mapColours;
})();
