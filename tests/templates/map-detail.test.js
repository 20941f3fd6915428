// node --test: templates/map-detail.js — the level of detail and the groups on screen.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const detail = require("../../templates/map-detail.js");

// Four groups in the corners of the unit square, boxes (x0, y0, x1, y1).
const points = { groups: 4, boxes: Float32Array.of(0, 0, 0.4, 0.4, 0.6, 0, 1, 0.4, 0, 0.6, 0.4, 1, 0.6, 0.6, 1, 1) };
const view = (scale, half, extra) => ({ scale, x: 0, y: 0, width: 1000, height: 1000, ratio: 1, half, margin: 0, ...extra });

test("the level follows a thumbnail's side in device pixels: points below 5, small below 20, then sharp", () => {
  assert.equal(detail.detailFor(points, view(1000, 0.0024)).level, "points"); // 4.8 px
  assert.equal(detail.detailFor(points, view(1000, 0.0025)).level, "small"); // 5 px
  assert.equal(detail.detailFor(points, view(1000, 0.00999)).level, "small"); // 19.98 px
  assert.equal(detail.detailFor(points, view(1000, 0.01)).level, "sharp");
  assert.equal(detail.detailFor(points, view(500, 0.01, { ratio: 2 })).level, "sharp"); // device pixels count
});

test("only the groups whose box meets the view (and its margin) are drawn, and loaded sharp", () => {
  const whole = detail.detailFor(points, view(1000, 0.01));
  assert.deepEqual(whole.groups, [0, 1, 2, 3]);
  assert.deepEqual(whole.sharp, [0, 1, 2, 3]);
  // Zoomed on the top-left quarter (world 0 to 0.5): the right-hand groups start at 0.6.
  const corner = detail.detailFor(points, view(2000, 0.01));
  assert.deepEqual(corner.groups, [0]);
  // Moved so the view spans world x 0.45 to 0.95, y 0 to 0.5.
  const moved = detail.detailFor(points, view(2000, 0.01, { x: -900 }));
  assert.deepEqual(moved.groups, [1]);
  // A thumbnail's half and the margin reach beyond a box: x 0.41 is 0.01 from group 0's edge.
  const reaching = detail.detailFor(points, view(2000, 0.005, { x: -820, margin: 0.005 }));
  assert.deepEqual(reaching.groups, [0, 1]);
  assert.deepEqual(detail.detailFor(points, view(2000, 0.004, { x: -820, margin: 0.005 })).groups, [1]);
});

test("with more groups on screen than SHARP_MOST, none is loaded sharp", () => {
  const count = detail.SHARP_MOST + 1;
  const many = { groups: count, boxes: Float32Array.from({ length: 4 * count }, (_, i) => (i % 4 < 2 ? 0.4 : 0.6)) };
  const sharp = detail.detailFor(many, view(1000, 0.01));
  assert.equal(sharp.groups.length, count);
  assert.deepEqual(sharp.sharp, []);
  assert.deepEqual(detail.detailFor(points, view(1000, 0.005)).sharp, []); // small: nothing sharp
});
