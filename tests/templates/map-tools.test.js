// node --test: templates/map-tools.js — the address, selection shapes, CSV, numbers.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const tools = require("../../templates/map-tools.js");

test("parseHash reads every part of a full address", () => {
  const state = tools.parseHash("#x=0.25&y=0.75&z=3&c=label&i=photo-1&r=0.3,0.4,0.1,0.2&renderer=canvas");
  assert.deepEqual(state, {
    centre: [0.25, 0.75], zoom: 3, colouring: "label", image: "photo-1", renderer: "canvas",
    shape: { kind: "rectangle", box: [0.1, 0.2, 0.3, 0.4] }, // corners put in order
  });
});

test("parseHash leaves out what is missing or malformed", () => {
  assert.deepEqual(tools.parseHash(""), {});
  assert.deepEqual(tools.parseHash(undefined), {});
  assert.deepEqual(tools.parseHash("#x=abc&y=1"), {}); // no centre without two numbers
  assert.deepEqual(tools.parseHash("#x=0.5"), {});
  assert.deepEqual(tools.parseHash("#x=0.5&y=0.5&z=-2"), { centre: [0.5, 0.5], zoom: 1 }); // zoom must be > 0
  assert.deepEqual(tools.parseHash("#x=0.5&y=0.5&z=NaN"), { centre: [0.5, 0.5], zoom: 1 });
  assert.deepEqual(tools.parseHash("#r=0.1,0.2,0.3"), {}); // a rectangle needs 4 numbers
  assert.deepEqual(tools.parseHash("#r=0.1,0.2,0.3,0.4,0.5"), {});
  assert.deepEqual(tools.parseHash("#l=0,0,1,0,1,1,0"), {}); // a lasso needs pairs
  assert.deepEqual(tools.parseHash("#l=0,0,1,0"), {}); // ... and at least three corners
  assert.deepEqual(tools.parseHash("#l=0,0,1,x,1,1"), {});
  assert.deepEqual(tools.parseHash("#c=&i="), {});
});

test("formatHash and parseHash give each other back", () => {
  const hashes = [
    "#x=0.12346&y=0.5&z=2.5&c=trust&i=a%20b%26c&l=0,0,1,0,1,1",
    "#c=label",
    "#r=0,0.1,0.2,0.3&renderer=webgl1",
  ];
  for (const hash of hashes) assert.equal(tools.formatHash(tools.parseHash(hash)), hash);
  assert.equal(tools.formatHash({}), "");
  // Rounded as written: x and y to 5 decimals, z to 4 figures.
  assert.equal(tools.formatHash({ centre: [1 / 3, 2 / 3], zoom: 1234.567 }), "#x=0.33333&y=0.66667&z=1235");
});

test("a lasso keeps at most 80 corners, evenly taken, rounded to 5 decimals", () => {
  const many = Array.from({ length: 400 }, (_, i) => [Math.cos(i / 400 * 2 * Math.PI), i / 3]);
  const shape = tools.lassoShape(many);
  assert.equal(shape.points.length, 80);
  assert.deepEqual(shape.points[1], [Number(Math.cos(5 / 400 * 2 * Math.PI).toFixed(5)), Number((5 / 3).toFixed(5))]);
  assert.deepEqual(tools.lassoShape([[0.123456, 1], [2, 3], [4, 5]]).points, [[0.12346, 1], [2, 3], [4, 5]]);
});

test("inside: a rectangle's edges count, a lasso by the even-odd rule", () => {
  const box = tools.rectangleShape([0, 0, 1, 1]);
  assert.equal(tools.inside(box, 0, 0), true);
  assert.equal(tools.inside(box, 1, 0.5), true);
  assert.equal(tools.inside(box, 1.0001, 0.5), false);
  // A U: its notch (x 1 to 2, y 1 to 3) is outside though within the bounds.
  const u = tools.lassoShape([[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3]]);
  assert.equal(tools.inside(u, 0.5, 2), true);
  assert.equal(tools.inside(u, 2.5, 2), true);
  assert.equal(tools.inside(u, 1.5, 0.5), true);
  assert.equal(tools.inside(u, 1.5, 2), false);
  assert.equal(tools.inside(u, 4, 1), false);
  // A bow tie crosses itself: the middle of each wing is inside.
  const bow = tools.lassoShape([[0, 0], [2, 2], [2, 0], [0, 2]]);
  assert.equal(tools.inside(bow, 0.2, 1), true);
  assert.equal(tools.inside(bow, 1.8, 1), true);
  assert.equal(tools.inside(bow, 1, 0.2), false);
});

test("select finds the points inside, as a brute-force test of every point does", () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const x = Float32Array.from({ length: 2000 }, random), y = Float32Array.from({ length: 2000 }, random);
  // A triangle: inside where all three edge functions agree in sign.
  const triangle = tools.lassoShape([[0.1, 0.1], [0.9, 0.2], [0.4, 0.95]]);
  const [a, b, c] = triangle.points;
  const side = (p, q, px, py) => (q[0] - p[0]) * (py - p[1]) - (q[1] - p[1]) * (px - p[0]);
  const expected = [];
  for (let i = 0; i < x.length; i++) {
    const s = [side(a, b, x[i], y[i]), side(b, c, x[i], y[i]), side(c, a, x[i], y[i])];
    if (s.every((v) => v > 0) || s.every((v) => v < 0)) expected.push(i);
  }
  assert.ok(expected.length > 400);
  assert.deepEqual(tools.select(x, y, triangle), expected);
  assert.deepEqual(tools.select(x, y, null), []);
  const box = tools.rectangleShape([0.5, 0.5, 0.25, 0.25]);
  assert.deepEqual(tools.select(x, y, box),
                   [...x.keys()].filter((i) => x[i] >= 0.25 && x[i] <= 0.5 && y[i] >= 0.25 && y[i] <= 0.5));
});

test("CSV fields: empty for missing, quoted where needed, formulas made inert", () => {
  assert.equal(tools.csvField(null), "");
  assert.equal(tools.csvField(undefined), "");
  assert.equal(tools.csvField(NaN), "");
  assert.equal(tools.csvField(0.5), "0.5");
  assert.equal(tools.csvField("plain.png"), "plain.png");
  assert.equal(tools.csvField('a,"b"'), '"a,""b"""');
  assert.equal(tools.csvField("=1+1.png"), "\"'=1+1.png\"");
  assert.equal(tools.csvField("-x"), "\"'-x\"");
  assert.equal(tools.csvField("line\nbreak"), '"line\nbreak"');
  const text = tools.csvText((i) => ({ name: "n" + i, source: "s", x: i, y: 0, error: NaN, label: null }), [2, 0]);
  assert.equal(text, "\ufeffname,source,x,y,error,label\r\nn2,s,2,0,,\r\nn0,s,0,0,,\r\n");
});

test("similarityPercent cuts toward zero, with decimals only from 99 %", () => {
  assert.equal(tools.similarityPercent(0.5), "50%");
  assert.equal(tools.similarityPercent(0.98999), "98%");
  assert.equal(tools.similarityPercent(-0.004), "0%"); // never "-0%"
  assert.equal(tools.similarityPercent(0.995), "99.5%");
  assert.equal(tools.similarityPercent(0.99949), "99.94%");
  assert.equal(tools.similarityPercent(0.99999999), "100%");
  assert.equal(tools.similarityPercent(NaN), "n/a");
});
