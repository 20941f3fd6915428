// node --test: templates/map-points.js decodes the data script's columns (aevis/site/mapdata.py
// writes them), and templates/map-gl.js lays them out for the GPU.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const mapPoints = require("../../templates/map-points.js");
const mapGL = require("../../templates/map-gl.js");

const base64 = (typed) => Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength).toString("base64");

// Three images: the middle one has no page and no picture of its own.
const data = {
  count: 3, positionSteps: 65535, k: 2,
  positions: base64(Uint16Array.of(0, 65535, 65535, 0, 13107, 52428)),
  names: ["a.png", "b,=c.png", "d.png"], slugs: ["a", "b-c", "d"],
  sourceFolders: ["/in/", "/other/"], sourceFolderOf: base64(Uint16Array.of(0, 1, 0)),
  pages: base64(Uint8Array.of(0b101)), pagePattern: "images/{slug}.html",
  pictured: base64(Uint8Array.of(0b101)), preview: "media/{slug}/input.png",
  labels: ["cat", "dog"], labelOf: base64(Uint16Array.of(1, 0, 1)),
  clusterOf: base64(Uint16Array.of(0, 0, 1)),
  errors: base64(Float32Array.of(0.5, 0.123456, 2)), trust: null, density: null,
  neighbours: base64(Int32Array.of(1, 2, 0, 2, 1, 0)), similarities: base64(Float32Array.of(0.9, 0.8, 0.9, 0.7, 0.7, 0.8)),
  marks: { selected: "#d6336c" },
  sprites: { group: 2, order: base64(Int32Array.of(2, 0, 1)), boxes: base64(Uint16Array.of(0, 0, 65535, 65535, 0, 0, 0, 0)),
             small: { perAtlas: 2 }, sharp: { count: 2 } },
};

test("positions, pages, pictures, labels and neighbours decode as written", () => {
  const points = mapPoints(data);
  assert.deepEqual([...points.x], [0, 1, Math.fround(0.2)]);
  assert.deepEqual([...points.y], [1, 0, Math.fround(52428 / 65535)]);
  assert.deepEqual([0, 1, 2].map(points.hasPage), [true, false, true]);
  assert.deepEqual([0, 1, 2].map(points.href), ["images/a.html", null, "images/d.html"]);
  assert.deepEqual([0, 1, 2].map(points.preview), ["media/a/input.png", null, "media/d/input.png"]);
  assert.deepEqual([0, 1, 2].map(points.label), ["dog", "cat", "dog"]);
  assert.deepEqual([...points.neighbours(1)], [0, 2]);
  assert.deepEqual([...points.similarities(2)], [Math.fround(0.7), Math.fround(0.8)]);
  assert.deepEqual([...points.boxes], [0, 0, 1, 1, 0, 0, 0, 0]);
  assert.equal(points.marks.selected, "#d6336c");
});

test("an image's CSV row and its cells on the sprite sheets", () => {
  const points = mapPoints(data);
  assert.deepEqual(points.row(1), { name: "b,=c.png", source: "/other/b,=c.png", x: 1, y: 0, error: 0.1235, label: "cat" });
  // Slots in sprite order: image 2 first, then 0, then 1; two a group and two an atlas.
  assert.deepEqual(points.cellOf(2), { group: 0, sharpCell: 0, atlas: 0, smallCell: 0 });
  assert.deepEqual(points.cellOf(1), { group: 1, sharpCell: 0, atlas: 1, smallCell: 0 });
});

test("the WebGL buffers hold six corners an image in sheet order, with its place and cells", () => {
  const points = mapPoints(data);
  const { corners, places, paints } = mapGL.vertexData(points);
  assert.equal(corners.length, 3 * 6 * 4);
  assert.deepEqual([...corners.slice(0, 24)], [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]);
  // Slot 1 is image 0 at (0, 65535), cell 1 of its atlas and of its sheet; slot 2 is image 1.
  for (let v = 0; v < 6; v++) {
    assert.deepEqual([...places.slice(4 * (6 + v), 4 * (6 + v) + 4)], [0, 65535, 1, 1]);
    assert.deepEqual([...places.slice(4 * (12 + v), 4 * (12 + v) + 4)], [65535, 0, 0, 0]);
  }
  // Grey until the colours arrive; not selected, no frame.
  assert.deepEqual([...paints.slice(0, 8)], [136, 136, 136, 0, 0, 0, 0, 0]);
});
