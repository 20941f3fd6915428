"""The plain words a page uses for each picture: titles, captions, legend ends, references."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MethodWords:
    """How the site talks about one visualization method."""

    title: str
    caption: str
    """One plain sentence under the picture."""
    explanation: str
    """Two or three plain sentences for the "How to read these pictures" page."""
    low: str
    high: str
    """Words at the two ends of the colour legend."""
    signed: bool
    """True when the map has a sign (drawn with a diverging colour map)."""
    reference: str
    url: str


METHOD_WORDS = {
    "saliency": MethodWords(
        title="Saliency",
        caption="Pixels where the smallest change would shift the code most.",
        explanation=(
            "For every pixel we ask: if this pixel changed a tiny bit, how much would the image's "
            "code change? Bright pixels are the ones the network is most sensitive to. It is fast "
            "and sharp, but often speckled."
        ),
        low="no effect",
        high="strong effect",
        signed=False,
        reference="Simonyan, Vedaldi & Zisserman (2014), Deep Inside Convolutional Networks",
        url="https://arxiv.org/abs/1312.6034",
    ),
    "smoothgrad": MethodWords(
        title="SmoothGrad",
        caption="Saliency averaged over noisy copies: the speckle fades, the shape stays.",
        explanation=(
            "Saliency is computed for many copies of the image with a little random noise added, "
            "and the results are averaged. Noise that the network does not care about cancels "
            "out, leaving a cleaner picture of what it is sensitive to."
        ),
        low="no effect",
        high="strong effect",
        signed=False,
        reference="Smilkov et al. (2017), SmoothGrad: removing noise by adding noise",
        url="https://arxiv.org/abs/1706.03825",
    ),
    "integrated_gradients": MethodWords(
        title="Integrated Gradients",
        caption="How much each pixel adds to the code, compared with a plain grey image.",
        explanation=(
            "The image is faded in from plain mid-grey (or the starting image chosen with "
            "--baseline) in small steps, and each pixel is credited with how much it moved the "
            "code along the way. The credits add up to the whole difference between the image and "
            "the starting one. Red pixels push the code towards this image's code, blue pixels "
            "push against it."
        ),
        low="works against",
        high="adds to it",
        signed=True,
        reference="Sundararajan, Taly & Yan (2017), Axiomatic Attribution for Deep Networks",
        url="https://arxiv.org/abs/1703.01365",
    ),
    "gradcam": MethodWords(
        title="Grad-CAM",
        caption="The regions the deepest feature maps single out for this code.",
        explanation=(
            "Grad-CAM looks at the network's last layer of feature maps before the code, weighs "
            "each map by how much it matters for the code, and stretches the result back to the "
            "image's size. It shows regions rather than pixels."
        ),
        low="not used",
        high="used most",
        signed=False,
        reference="Selvaraju et al. (2017), Grad-CAM: Visual Explanations from Deep Networks",
        url="https://arxiv.org/abs/1610.02391",
    ),
    "occlusion": MethodWords(
        title="Occlusion",
        caption="What is lost when a grey square covers each part of the image.",
        explanation=(
            "A grey square slides over the image and, at every position, we measure how much the "
            "code moves away from the original. Where covering hurts most, the network was "
            "relying on what it hid. Blue means covering that part made the code match better."
        ),
        low="covering helps",
        high="covering hurts",
        signed=True,
        reference="Zeiler & Fergus (2014), Visualizing and Understanding Convolutional Networks",
        url="https://arxiv.org/abs/1311.2901",
    ),
}

CELL_WORDS = MethodWords(
    title="Code cells (why similar)",
    caption=(
        "Where the two codes agree: the code is a grid of cells, each made from one part of the picture, laid "
        "here over both images. Red cells add to the similarity, blue cells take from it; their shares add up "
        "exactly to the similarity shown."
    ),
    explanation=(
        "When the network's code is a grid of cells, each computed from one part of the image, the grids of two "
        "images line up, and their similarity is a sum over the cells. So each cell's share is exact, not an "
        "estimate: nothing is approximated and no gradients are taken. Red cells are where the two codes agree "
        "and add to the similarity, blue cells where they disagree and take from it. The shares add up to the "
        "similarity shown on the card."
    ),
    low="disagree",
    high="agree",
    signed=True,
    reference="the cosine similarity written out cell by cell",
    url="",
)
"""How the site talks about the code-cell map of neighbour cards (:mod:`aevis.latent.cells`),
which is no method of the registry: it needs no gradients, only the two codes."""

TARGET_WORDS = {
    "self": "how strongly each image expresses its own code",
    "neighbour": "what makes each image similar to its nearest neighbour",
    "reconstruction": "how well each image is rebuilt",
}


def target_words(target: str) -> str:
    """The target in plain words, for headings and captions."""
    if target.startswith("channel:"):
        return f"how strongly code channel {target.split(':', 1)[1]} responds"
    return TARGET_WORDS[target]


def isolated(name: str) -> str:
    """A user's name (a file name) between Unicode's first-strong-isolate and pop-directional-
    isolate marks, for text where a ``<bdi>`` cannot go (an attribute, a page's or an SVG's
    title): a right-to-left override inside it ends with it, so "photo\\u202egnp.exe" cannot show
    as "photoexe.png", nor turn the words after it around."""
    return f"\u2068{name}\u2069"
