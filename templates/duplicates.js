// aevis near-duplicates: when the threshold slider moves, show the groups at its position. They
// come grouped, with every number as text, for every position (window.AEVIS_DUPLICATES, written
// into the page by aevis/site/set_pages.py slider_groupings, so this works from file://): this
// only puts them together and draws them, with templates/duplicates.html's markup.
(function () {
  "use strict";
  const data = window.AEVIS_DUPLICATES;
  const slider = document.getElementById("dup-threshold");
  const list = document.querySelector(".dup-groups");
  if (!data || !slider || !list) return;
  const root = list.dataset.root || "";
  const output = document.getElementById("dup-value");
  const status = document.querySelector(".dup-status");
  const none = document.querySelector(".dup-none");

  function plural(count, word) {
    return `${count.toLocaleString("en")} ${word}${count === 1 ? "" : "s"}`;
  }

  function element(tag, attributes, children) {
    const made = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) made.setAttribute(name, value);
    for (const child of children || []) made.append(child);
    return made;
  }

  function member(index, closest) {
    const [name, thumbnail, href] = data.images[index];
    const picture = element("img", {
      class: "pixels", src: root + thumbnail, alt: "\u2068" + name + "\u2069", width: "96", height: "96", loading: "lazy",
    });  // the name isolated, so a right-to-left override in it cannot pose as another name
    const label = element("bdi", { class: "name" }, [name]);
    const shown = href ? [element("a", { href: root + href }, [picture, label])] : [picture, label];
    return element("li", {}, [...shown, element("span", { class: "score" }, [`closest here: ${closest}`])]);
  }

  /** The groups at a slider position, in the order they are listed: each position's changes
   *  applied in turn (data.changes: [added, removed] group numbers), numbers in order. */
  function groupsAt(position) {
    const shown = new Set();
    for (let at = 0; at <= position; at++) {
      const [added, removed] = data.changes[at];
      for (const number of added) shown.add(number);
      for (const number of removed) shown.delete(number);
    }
    return [...shown].sort((a, b) => a - b).map((number) => data.groups[number]);
  }

  function render(position) {
    const found = groupsAt(position);
    const items = found.map(([members, lowest, highest]) => {
      const range = lowest === highest ? lowest : `${lowest} to ${highest}`;
      return element("li", { class: "dup-group" }, [
        element("p", { class: "dup-summary" }, [`${members.length.toLocaleString("en")} images · similarity ${range}`]),
        element("ul", { class: "neighbours" }, members.map((index) => member(index, data.closest[index]))),
      ]);
    });
    list.replaceChildren(...items);
    const grouped = found.reduce((total, group) => total + group[0].length, 0);
    if (status) status.textContent = `${plural(found.length, "group")}, ${plural(grouped, "image")} in all.`;
    if (none) none.hidden = found.length > 0;
    if (output) output.textContent = data.thresholds[position];
  }

  slider.addEventListener("input", () => render(Number(slider.value)));
})();
