// node --test: templates/map-view.js — the view's arithmetic.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const mapView = require("../../templates/map-view.js");

const close = (actual, expected, within = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= within, `${actual} is not ${expected}`);

test("a thumbnail's world size shrinks with the count, within bounds", () => {
  assert.equal(mapView.thumbWorldFor(1), 0.08);
  assert.equal(mapView.thumbWorldFor(0), 0.08);
  close(mapView.thumbWorldFor(10000), 0.009);
  assert.equal(mapView.thumbWorldFor(1e7), 0.006);
});

test("fitAll centres the whole map in the shorter side", () => {
  const view = mapView(10000); // thumbnails 0.009 wide
  view.resize(1000, 500, 2);
  close(view.fit, 500 * 0.92 / 1.009);
  assert.equal(view.scale, view.fit);
  const [left, top] = view.toScreen([0, 0]), [right, bottom] = view.toScreen([1, 1]);
  close((left + right) / 2, 500);
  close((top + bottom) / 2, 250);
  assert.equal(view.touched, false);
});

test("zoomAt keeps the point under the pointer still and stays within 0.5 to 300 times the fit", () => {
  const view = mapView(100);
  view.resize(800, 600, 1);
  const under = view.toWorld([200, 150]);
  view.zoomAt(3, 200, 150);
  close(view.scale, 3 * view.fit);
  const [sx, sy] = view.toScreen(under);
  close(sx, 200, 1e-9);
  close(sy, 150, 1e-9);
  assert.equal(view.touched, true);
  view.zoomAt(1e6, 0, 0);
  close(view.scale, 300 * view.fit);
  view.zoomAt(1e-9, 0, 0);
  close(view.scale, 0.5 * view.fit);
});

test("show puts a world point at the centre; toWorld undoes toScreen", () => {
  const view = mapView(100);
  view.resize(800, 600, 1);
  view.show([0.2, 0.7], view.fit * 10);
  const [cx, cy] = view.centre();
  close(cx, 0.2);
  close(cy, 0.7);
  const [wx, wy] = view.toWorld(view.toScreen([0.123, 0.456]));
  close(wx, 0.123);
  close(wy, 0.456);
  view.pan(10, -20);
  const [px, py] = view.toScreen([0.2, 0.7]);
  close(px, 410);
  close(py, 280);
});

test("a resized canvas keeps a moved view's centre and scale, and fits an untouched one again", () => {
  const view = mapView(100);
  view.resize(800, 600, 1);
  view.show([0.3, 0.6], view.fit * 4);
  const scale = view.scale;
  view.resize(400, 300, 1);
  close(view.centre()[0], 0.3);
  close(view.centre()[1], 0.6);
  close(view.scale, scale);
  const fresh = mapView(100);
  fresh.resize(800, 600, 1);
  fresh.resize(400, 300, 1);
  close(fresh.scale, 300 * 0.92 / (1 + fresh.thumbWorld));
});

test("closeUp shows a thumbnail about 53 pixels wide, never zooming out", () => {
  const view = mapView(10000);
  view.resize(800, 600, 1);
  close(view.closeUp() * view.thumbWorld, 64 / 1.2);
  view.zoomAt(300, 0, 0);
  assert.equal(view.closeUp(), view.scale);
});
