"""The label-share check of example importance: exact shares on hand-made rankings, and the
figures a built site records recomputed from its manifest and its scores file."""

import json
from pathlib import Path

import numpy as np
import pytest

from aevis.latent.label_share import label_shares
from aevis.latent.taught_by import KEPT


def test_shares_of_a_hand_made_ranking():
    labels = np.array(list("aaaaabbbbbbbbbbbbbbbbbbbb"))  # 5 a, 20 b
    scores = np.arange(25, 0, -1, dtype=float)[None]  # image 0 ranks 1, 2, ... 24 in order
    [one, five] = label_shares(scores, np.array([0]), labels, fractions=(0.04, 0.2))
    # Image 0's others: 4 a then 20 b. M = 1 of 24: the top is an a, the bottom a b.
    assert (one.count, one.top, one.bottom) == (1, 1.0, 0.0)
    # M = 5 (20 % of 24, rounded): the top holds all 4 a, the bottom none.
    assert (five.count, five.top, five.bottom) == (5, 0.8, 0.0)
    assert five.chance == pytest.approx(4 / 24)
    assert one.holds and five.holds


def test_a_reversed_ranking_fails_and_ties_go_by_index():
    labels = np.array([0, 0, 1, 1])
    [share] = label_shares(np.array([[9.0, 1.0, 5.0, 5.0]]), np.array([0]), labels, fractions=(0.34,))
    # Others 1, 2, 3 ranked 2, 3 (a tie, by index), then 1: the same label comes last.
    assert (share.count, share.top, share.bottom) == (1, 0.0, 1.0) and not share.holds
    with pytest.raises(ValueError, match="Expected scores of shape"):
        label_shares(np.zeros((1, 3)), np.array([0]), labels)


def test_the_site_records_label_shares_recomputed_from_its_manifest_and_scores(tiny_site):
    from aevis.site import urls

    config, _ = tiny_site
    site = Path(config.out)
    manifest = json.loads((site / urls.MANIFEST).read_text())
    taught = manifest["taught_by"]
    labels = [record["label"] for record in manifest["images"]]
    with np.load(site / "data" / manifest["files"]["taught_by"]) as stored:
        rows, scores = stored["rows"], stored["scores"]
    assert len(rows) == taught["label_share_images"] == manifest["counts"]["pages"]
    count = len(labels)
    for recorded in taught["label_share"]:
        size = max(1, round(recorded["fraction"] * (count - 1)))
        top, bottom, chance = [], [], []
        for index, row in zip(rows, scores):
            others = [other for other in range(count) if other != index]
            ranked = sorted(others, key=lambda other: (-row[other], other))
            same = [labels[other] == labels[index] for other in ranked]
            top.append(np.mean(same[:size]))
            bottom.append(np.mean(same[-size:]))
            chance.append(np.mean(same))
        assert recorded["count"] == size
        assert recorded["top"] == pytest.approx(np.mean(top), abs=1e-6)
        assert recorded["bottom"] == pytest.approx(np.mean(bottom), abs=1e-6)
        assert recorded["chance"] == pytest.approx(np.mean(chance), abs=1e-6)
    # Each paged record lists its proponents and opponents as those scores rank them.
    index_of = {record["slug"]: index for index, record in enumerate(manifest["images"])}
    for index, row in zip(rows, scores):
        record = manifest["images"][index]
        listed = [index_of[part["slug"]] for part in record["taught_by"]]
        ranked = sorted((other for other in range(count) if other != index), key=lambda other: (-row[other], other))
        assert listed == [other for other in ranked[:KEPT] if row[other] > 0]
        assert [part["score"] for part in record["taught_by"]] == pytest.approx([row[o] for o in listed], rel=1e-5)
        lowest = sorted((other for other in range(count) if other != index), key=lambda other: (row[other], other))
        against = [index_of[part["slug"]] for part in record["taught_against"]]
        assert against == [other for other in lowest[:KEPT] if row[other] < 0]
    reading = (site / urls.READING).read_text()
    assert 'Does "Taught by" follow the labels?' in reading
    page = (site / manifest["images"][rows[0]]["page"]).read_text()
    assert "Taught by" in page and "Helped most" in page
