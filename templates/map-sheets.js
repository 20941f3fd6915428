// aevis similarity map: loading the sprite scripts (aevis/site/map_sprites.py). Each is a
// <script src> added at run time that calls window.AevisMapSheet(level, number, data): a page
// opened from file:// may read a script, and a picture whose address is data: may go into a
// WebGL texture, where a picture file may not. Levels: "colours" (every image's mean colour,
// loaded first), "small" (every image on a few atlases, loaded at start) and "sharp" (a
// sheet per group of neighbours on the map, loaded only while it is on screen).
(function () {
  "use strict";

  const SHARP_IN_FLIGHT = 4; // sharp scripts loading at once
  const SHARP_KEPT = 64; // sharp sheets kept decoded; the least recently wanted go first

  /**
   * @param sprites window.AEVIS_MAP.sprites
   * @param root the way from the page to the site root
   * @param events {arrived(level, number), evicted(number), missing(address)}
   */
  function mapSheets(sprites, root, events) {
    const small = sprites.small.scripts.map(() => ({ state: "idle", image: null }));
    const sharp = new Map(); // group number -> {state, image, used}
    let colours = null;
    let clock = 0, inFlight = 0, wanted = [];

    function addScript(address, failed) {
      const script = document.createElement("script");
      script.src = root + address;
      script.onload = () => script.remove();
      script.onerror = () => {
        script.remove();
        if (failed) failed();
        events.missing(address);
      };
      document.head.append(script);
    }

    function decode(entry, level, number, address) {
      const image = new Image();
      image.src = address;
      // decode() unpacks the JPEG off the main thread, and an ImageBitmap keeps the pixels
      // ready to copy, so neither a frame nor a texture upload waits for the JPEG.
      image.decode().then(() => (window.createImageBitmap ? createImageBitmap(image) : image)).then((picture) => {
        entry.image = picture;
        entry.state = "ready";
        events.arrived(level, number);
      }, () => {
        entry.state = "failed";
        events.missing(level + " sheet " + number);
      });
    }

    window.AevisMapSheet = (level, number, data) => {
      if (level === "colours") {
        colours = window.AevisMapPoints.bytesOf(data);
        events.arrived(level, number);
      } else if (level === "small" && small[number]) {
        decode(small[number], level, number, data);
      } else if (level === "sharp" && sharp.has(number)) {
        inFlight -= 1;
        decode(sharp.get(number), level, number, data);
        pump();
      }
    };

    function start() {
      addScript(sprites.colours);
      small.forEach((entry, number) => {
        entry.state = "loading";
        addScript(sprites.small.scripts[number], () => { entry.state = "failed"; });
      });
    }

    /** The sharp sheets on screen now: load those missing (a few at a time), keep them fresh. */
    function want(numbers) {
      wanted = numbers;
      clock += 1;
      for (const number of numbers) {
        if (!sharp.has(number)) sharp.set(number, { state: "idle", image: null, used: clock });
        sharp.get(number).used = clock;
      }
      pump();
      evict();
    }

    function pump() {
      for (const number of wanted) {
        if (inFlight >= SHARP_IN_FLIGHT) return;
        const entry = sharp.get(number);
        if (entry.state !== "idle") continue;
        entry.state = "loading";
        inFlight += 1;
        addScript(sprites.sharp.pattern.replace("{number}", number), () => {
          inFlight -= 1;
          entry.state = "failed";
          pump();
        });
      }
    }

    function evict() {
      const ready = [...sharp.entries()].filter(([, entry]) => entry.state === "ready");
      if (ready.length <= SHARP_KEPT) return;
      ready.sort((a, b) => a[1].used - b[1].used);
      for (const [number, entry] of ready.slice(0, ready.length - SHARP_KEPT)) {
        if (entry.used === clock) break; // on screen now: keep
        sharp.delete(number);
        events.evicted(number);
      }
    }

    /** Image `index`'s sharpest loaded tile: {image, sx, sy, side} (a square of the sheet: an
     *  ImageBitmap, or an <img> in a browser without them), or null. */
    function tile(points, index) {
      const cell = points.cellOf(index);
      let image = sharp.has(cell.group) ? sharp.get(cell.group).image : null;
      let columns = sprites.sharp.columns, at = cell.sharpCell;
      if (!image && small[cell.atlas]) [image, columns, at] = [small[cell.atlas].image, sprites.small.columns, cell.smallCell];
      if (!image) return null;
      const side = image.width / columns;
      return { image, sx: (at % columns) * side, sy: Math.floor(at / columns) * side, side };
    }

    /** Draw image `index` over all of the 2D context `g`'s canvas: its sharpest loaded tile, or
     *  its mean colour before any tile has arrived (grey before the colours have). */
    function paint(g, points, index) {
      const { width, height } = g.canvas;
      g.imageSmoothingEnabled = false;
      const found = tile(points, index);
      if (found) {
        g.drawImage(found.image, found.sx, found.sy, found.side, found.side, 0, 0, width, height);
        return;
      }
      g.fillStyle = colours
        ? "rgb(" + colours[3 * index] + "," + colours[3 * index + 1] + "," + colours[3 * index + 2] + ")"
        : "#888";
      g.fillRect(0, 0, width, height);
    }

    return {
      start,
      want,
      tile,
      paint,
      /** Every image's mean colour (RGB bytes, data order), or null before it arrives. */
      colours: () => colours,
      small: (number) => (small[number] ? small[number].image : null),
      sharp: (number) => (sharp.has(number) ? sharp.get(number).image : null),
      smallLoaded: () => small.filter((entry) => entry.state === "ready").length,
      sharpLoaded: () => [...sharp.entries()].filter(([, entry]) => entry.state === "ready").map(([number]) => number),
      loading: () => inFlight + small.filter((entry) => entry.state === "loading").length,
    };
  }

  window.AevisMapSheets = mapSheets;
})();
