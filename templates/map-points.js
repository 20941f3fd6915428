// aevis similarity map: the data script's columns (window.AEVIS_MAP, written by
// aevis/site/mapdata.py) decoded into typed arrays, and what the other map scripts ask of one
// image: its place, its page, its row of the CSV, its cells on the sprite sheets.
(function () {
  "use strict";

  function bytesOf(text) {
    if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  /** base64 of a little-endian typed array (every browser that runs WebGL is little-endian). */
  function column(text, Type) {
    if (text === null || text === undefined) return null;
    const bytes = bytesOf(text);
    return new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / Type.BYTES_PER_ELEMENT);
  }

  function mapPoints(data) {
    const count = data.count;
    const quantised = column(data.positions, Uint16Array);
    const x = new Float32Array(count), y = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      x[i] = quantised[2 * i] / data.positionSteps;
      y[i] = quantised[2 * i + 1] / data.positionSteps;
    }
    const pages = column(data.pages, Uint8Array);
    const pictured = column(data.pictured, Uint8Array); // null: every image has its picture
    const labelOf = column(data.labelOf, Uint16Array);
    const neighbours = column(data.neighbours, Int32Array);
    const similarities = column(data.similarities, Float32Array); // null: not recorded
    const errors = column(data.errors, Float32Array);
    const k = data.k;
    const folderOf = column(data.sourceFolderOf, Uint16Array);
    const source = (i) => (data.sources ? data.sources[i] : data.sourceFolders[folderOf[i]] + data.names[i]);
    const sprites = data.sprites;
    const order = column(sprites.order, Int32Array);
    const slotOf = new Int32Array(count);
    for (let slot = 0; slot < count; slot++) slotOf[order[slot]] = slot;
    const boxes = Float32Array.from(column(sprites.boxes, Uint16Array), (v) => v / data.positionSteps);
    const hasPage = (i) => ((pages[i >> 3] >> (i & 7)) & 1) === 1;
    const hasPicture = (i) => !pictured || ((pictured[i >> 3] >> (i & 7)) & 1) === 1;
    const label = (i) => (labelOf ? data.labels[labelOf[i]] : null);

    return {
      count, x, y, quantised, k, labelOf, errors, order, slotOf, boxes,
      names: data.names,
      slugs: data.slugs,
      labels: data.labels,
      clusterOf: column(data.clusterOf, Uint16Array),
      trust: column(data.trust, Float32Array), // NaN: unmeasured
      density: column(data.density, Float32Array),
      sprites,
      /** The overlay's colours: selected, neighbour, found, current (aevis/site/mapdata.py MARKS). */
      marks: data.marks,
      groups: sprites.sharp.count,
      hasPage,
      label,
      /** The image's page relative to the site root, or null. */
      href: (i) => (hasPage(i) ? data.pagePattern.replace("{slug}", data.slugs[i]) : null),
      /** Its full picture (media/<slug>/input.png) relative to the site root, or null where
       * no page shows it and the build drew none: its sprite tile stands in. */
      preview: (i) => (hasPicture(i) ? data.preview.replace("{slug}", encodeURIComponent(data.slugs[i])) : null),
      neighbours: (i) => neighbours.subarray(i * k, (i + 1) * k),
      /** The similarity to each of its neighbours, or null where the data has none. */
      similarities: (i) => (similarities ? similarities.subarray(i * k, (i + 1) * k) : null),
      /** Its row of a selection's CSV (map-tools.js CSV_COLUMNS). */
      row: (i) => ({
        name: data.names[i], source: source(i), x: Number(x[i].toFixed(5)), y: Number(y[i].toFixed(5)),
        error: Number(errors[i].toPrecision(4)), label: label(i),
      }),
      /** Where its thumbnails are: sharp sheet `group`, cell `sharpCell`; small atlas `atlas`, cell `smallCell`. */
      cellOf(i) {
        const slot = slotOf[i];
        const group = Math.floor(slot / sprites.group);
        return { group, sharpCell: slot - group * sprites.group,
                 atlas: Math.floor(slot / sprites.small.perAtlas), smallCell: slot % sprites.small.perAtlas };
      },
    };
  }

  mapPoints.bytesOf = bytesOf;
  if (typeof window !== "undefined") window.AevisMapPoints = mapPoints;
  if (typeof module !== "undefined") module.exports = mapPoints;
})();
