// node --test: templates/map-grid.js — the image under the pointer, against a brute-force search.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const mapGrid = require("../../templates/map-grid.js");

function bruteNearest(x, y, wx, wy, reach) {
  let best = -1, bestDistance = Infinity;
  for (let i = 0; i < x.length; i++) {
    const dx = Math.abs(x[i] - wx), dy = Math.abs(y[i] - wy);
    if (dx > reach || dy > reach) continue;
    const distance = dx * dx + dy * dy;
    if (distance < bestDistance) { best = i; bestDistance = distance; }
  }
  return best;
}

test("nearest agrees with looking at every image", () => {
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  // Clumped, with some at the very edges, as t-SNE maps are.
  const x = Float32Array.from({ length: 3000 }, (_, i) => (i % 3 ? random() : 0.5 + 0.01 * random()));
  const y = Float32Array.from({ length: 3000 }, (_, i) => (i % 7 ? random() : 1));
  const grid = mapGrid(x, y);
  let found = 0;
  for (let probe = 0; probe < 2000; probe++) {
    const wx = random() * 1.2 - 0.1, wy = random() * 1.2 - 0.1, reach = random() * 0.03;
    const expected = bruteNearest(x, y, wx, wy, reach);
    assert.equal(grid.nearest(wx, wy, reach), expected, `at (${wx}, ${wy}) within ${reach}`);
    if (expected >= 0) found += 1;
  }
  assert.ok(found > 500 && found < 1900, `${found} probes found an image`); // both cases were tried
});

test("an empty map finds nothing, a one-image map its image", () => {
  assert.equal(mapGrid(new Float32Array(0), new Float32Array(0)).nearest(0.5, 0.5, 1), -1);
  const one = mapGrid(Float32Array.of(0.25), Float32Array.of(0.75));
  assert.equal(one.nearest(0.29, 0.72, 0.045), 0);
  assert.equal(one.nearest(0.29, 0.72, 0.035), -1); // 0.04 away across
});
