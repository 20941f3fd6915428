// aevis near-duplicates: when the threshold slider moves, show the groups at its position. They
// come grouped, with every number as text, at every position (window.AEVIS_DUPLICATES, written
// into the page by aevis/site/set_pages.py, so this works from file://); the markup is
// templates/duplicates.html's.
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

  function render(position) {
    const [threshold, grouping] = data.positions[position];
    const found = data.groupings[grouping];
    const items = found.map(([members, closest, lowest, highest]) => {
      const range = lowest === highest ? lowest : `${lowest} to ${highest}`;
      return element("li", { class: "dup-group" }, [
        element("p", { class: "dup-summary" }, [`${members.length.toLocaleString("en")} images · similarity ${range}`]),
        element("ul", { class: "neighbours" }, members.map((index, number) => member(index, closest[number]))),
      ]);
    });
    list.replaceChildren(...items);
    const grouped = found.reduce((total, group) => total + group[0].length, 0);
    if (status) status.textContent = `${plural(found.length, "group")}, ${plural(grouped, "image")} in all.`;
    if (none) none.hidden = found.length > 0;
    if (output) output.textContent = threshold;
  }

  slider.addEventListener("input", () => render(Number(slider.value)));
})();
