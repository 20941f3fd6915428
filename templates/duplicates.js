// aevis near-duplicates: when the threshold slider moves, regroup the page's candidate pairs
// (window.AEVIS_DUPLICATES, written into the page, so this works from file://) and redraw the
// groups. The grouping is aevis.latent.duplicates.group_duplicates's, in the same order, and
// the markup is templates/duplicates.html's.
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
  // Position 0 is the floor, data.steps asks for data.resolution: even steps on log(1 - similarity).
  const loose = Math.log(Math.max(1 - data.floor, data.resolution));
  const strict = Math.log(data.resolution);

  function thresholdAt(position) {
    return 1 - Math.exp(loose + ((strict - loose) * position) / data.steps);
  }

  // As aevis.site.set_pages.similarity_text: enough decimals to show 1 - similarity to two figures.
  function similarityText(similarity) {
    const distance = Math.max(1 - similarity, 1e-9);
    const decimals = Math.min(6, Math.max(2, Math.floor(-Math.log10(distance)) + 2));
    return similarity.toFixed(decimals);
  }

  function plural(count, word) {
    return `${count.toLocaleString("en")} ${word}${count === 1 ? "" : "s"}`;
  }

  // Connected components of the pairs at or above the threshold, of two or more images.
  function groups(threshold) {
    const parent = data.images.map((_, index) => index);
    const find = (index) => {
      while (parent[index] !== index) {
        parent[index] = parent[parent[index]];
        index = parent[index];
      }
      return index;
    };
    const closest = new Map();
    const kept = data.pairs.filter((pair) => pair[2] >= threshold);
    for (const [first, second, similarity] of kept) {
      parent[find(first)] = find(second);
      for (const member of [first, second]) {
        closest.set(member, Math.max(closest.has(member) ? closest.get(member) : -Infinity, similarity));
      }
    }
    const found = new Map();
    for (const [first, , similarity] of kept) {
      const label = find(first);
      const group = found.get(label) || { members: [], lowest: Infinity, highest: -Infinity };
      group.lowest = Math.min(group.lowest, similarity);
      group.highest = Math.max(group.highest, similarity);
      found.set(label, group);
    }
    // Images are listed in manifest order, so members come out in it too.
    for (let index = 0; index < data.images.length; index++) {
      if (closest.has(index)) found.get(find(index)).members.push(index);
    }
    const result = [...found.values()];
    result.sort((a, b) => b.highest - a.highest || b.members.length - a.members.length || a.members[0] - b.members[0]);
    return result.map((group) => ({ ...group, closest: group.members.map((member) => closest.get(member)) }));
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
    return element("li", {}, [...shown, element("span", { class: "score" }, [`closest here: ${similarityText(closest)}`])]);
  }

  function render(threshold) {
    const found = groups(threshold);
    const items = found.map((group) => {
      const lowest = similarityText(group.lowest);
      const highest = similarityText(group.highest);
      const range = lowest === highest ? lowest : `${lowest} to ${highest}`;
      return element("li", { class: "dup-group" }, [
        element("p", { class: "dup-summary" }, [`${group.members.length.toLocaleString("en")} images · similarity ${range}`]),
        element("ul", { class: "neighbours" }, group.members.map((index, number) => member(index, group.closest[number]))),
      ]);
    });
    list.replaceChildren(...items);
    const grouped = found.reduce((total, group) => total + group.members.length, 0);
    if (status) status.textContent = `${plural(found.length, "group")}, ${plural(grouped, "image")} in all.`;
    if (none) none.hidden = found.length > 0;
    if (output) output.textContent = similarityText(threshold);
  }

  slider.addEventListener("input", () => render(thresholdAt(Number(slider.value))));
})();
