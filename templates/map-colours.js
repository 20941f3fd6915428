// aevis similarity map: the "colour by" choices — each image's frame colour and the legend's
// words, ramp or swatches. The words and ramps come from Python (map-data.js "colourings").
(function () {
  "use strict";

  const GREY = "#888888"; // an image without the number (no label, unmeasured)

  function mix(a, b, t) {
    const pa = parseInt(a.slice(1), 16), pb = parseInt(b.slice(1), 16);
    const channel = (shift) => Math.round(((pa >> shift) & 255) * (1 - t) + ((pb >> shift) & 255) * t);
    return "rgb(" + channel(16) + "," + channel(8) + "," + channel(0) + ")";
  }

  function rampColour(ramp, t) {
    const at = Math.min(1, Math.max(0, t)) * (ramp.length - 1);
    const i = Math.min(Math.floor(at), ramp.length - 2);
    return mix(ramp[i], ramp[i + 1], at - i);
  }

  function swatch(colour, text) {
    const item = document.createElement("li");
    const dot = document.createElement("span");
    dot.className = "map-swatch";
    dot.style.background = colour;
    item.append(dot, document.createTextNode(text));
    return item;
  }

  function mapColours(data) {
    const points = data.points;
    const choices = new Map((data.colourings || []).map((choice) => [choice.key, choice]));
    const labelIndex = new Map(data.labels.map((label, i) => [label, i]));
    let ranks = null;

    /** Each image's density as a rank in [0, 1] (1: the most crowded; NaN: unmeasured). */
    function densityRank() {
      if (ranks) return ranks;
      const known = [];
      points.forEach((p, i) => { if (p.density !== null && p.density !== undefined) known.push(i); });
      known.sort((a, b) => points[a].density - points[b].density);
      ranks = new Float64Array(points.length).fill(NaN);
      known.forEach((i, place) => { ranks[i] = known.length > 1 ? place / (known.length - 1) : 1; });
      return ranks;
    }

    /** Every image's frame colour under a colouring, or null for plain thumbnails. */
    function colours(key) {
      const ramp = (choices.get(key) || {}).ramp;
      const range = data.errorRange;
      if (key === "label") return points.map((p) => p.label === null ? GREY : data.labelColours[labelIndex.get(p.label)]);
      if (key === "cluster") return points.map((p) => data.clusterColours[p.cluster % data.clusterColours.length]);
      if (key === "error") return points.map((p) => rampColour(ramp, (p.error - range[0]) / (range[1] - range[0])));
      if (key === "density") return Array.from(densityRank(), (t) => Number.isNaN(t) ? GREY : rampColour(ramp, t));
      if (key === "trust") return points.map((p) => p.trust === null ? GREY : rampColour(ramp, p.trust));
      return null;
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
        const sizes = new Array(names.length).fill(0);
        points.forEach((p) => { sizes[key === "label" ? labelIndex.get(p.label) : p.cluster] += 1; });
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

  window.AevisMapColours = mapColours;
})();
