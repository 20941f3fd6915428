// aevis similarity map: Find — the images whose names hold what is typed, the exact name first;
// Enter steps through them. map.js pins and centres the one shown and rings the others.
(function () {
  "use strict";

  /** Indices of the names (lower case) that contain `query` (lower case, trimmed): the ones
   *  equal to it first, then in data order. */
  function matches(lowerNames, query) {
    const found = [];
    if (!query) return found;
    lowerNames.forEach((name, i) => { if (name.includes(query)) found.push(i); });
    found.sort((a, b) => (lowerNames[a] === query ? -1 : 0) - (lowerNames[b] === query ? -1 : 0) || a - b);
    return found;
  }

  /** The status beside the box for `count` images found. */
  function foundWords(query, count) {
    if (!query) return "";
    return count === 0 ? "no image by that name" : count === 1 ? "1 image" : count + " images — Enter for the next";
  }

  /**
   * Wire the Find box.
   * @param input the .map-find box; @param status the .map-found words beside it
   * @param names the images' names; @param show(found, at): the images found and the one shown
   *   (show([], 0) when none)
   */
  function attach(input, status, names, show) {
    let lowerNames = null, found = [], at = 0;
    function search() {
      const query = input.value.trim().toLowerCase();
      if (!lowerNames) lowerNames = names.map((name) => name.toLowerCase());
      found = matches(lowerNames, query);
      at = 0;
      status.textContent = foundWords(query, found.length);
      show(found, at);
    }
    input.addEventListener("input", search);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && found.length) {
        event.preventDefault();
        at = (at + 1) % found.length;
        status.replaceChildren((at + 1) + " of " + found.length + ": ",
                               window.AevisMapTools.nameElement(names[found[at]]));
        show(found, at);
      } else if (event.key === "Escape") {
        input.value = "";
        search();
      }
    });
  }

  const find = { matches, foundWords, attach };
  if (typeof window !== "undefined") window.AevisMapFind = find;
  if (typeof module !== "undefined") module.exports = find;
})();
