// node --test: templates/map-find.js — which images Find finds, and in what order.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const find = require("../../templates/map-find.js");

test("names containing the query, the exact name first, then in data order", () => {
  const names = ["cat-2.png", "dog.png", "cat.png", "concat.png", "cat.png"];
  assert.deepEqual(find.matches(names, "cat"), [0, 2, 3, 4]);
  assert.deepEqual(find.matches(names, "cat.png"), [2, 4, 3]);
  assert.deepEqual(find.matches(names, "bird"), []);
  assert.deepEqual(find.matches(names, ""), []);
});

test("the words beside the box", () => {
  assert.equal(find.foundWords("", 0), "");
  assert.equal(find.foundWords("x", 0), "no image by that name");
  assert.equal(find.foundWords("x", 1), "1 image");
  assert.equal(find.foundWords("x", 12), "12 images — Enter for the next");
});
