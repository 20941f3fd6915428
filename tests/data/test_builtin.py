"""The built-in image sets."""

import numpy as np

from aevis.data.builtin import SHAPE_KINDS, make_digits, make_shapes


def test_shapes_are_seeded_labelled_and_masked():
    first, again, other = make_shapes(12, 32, seed=5), make_shapes(12, 32, seed=5), make_shapes(12, 32, seed=6)
    np.testing.assert_array_equal(first.images, again.images)
    assert not np.array_equal(first.images, other.images)
    assert first.images.shape == (12, 32, 32, 3) and first.images[:].dtype == np.float32
    assert 0 <= first.images[:].min() and first.images[:].max() <= 1
    assert first.labels == [SHAPE_KINDS[i % 4] for i in range(12)]
    assert first.masks.shape == (12, 32, 32) and first.masks.dtype == bool
    for image, mask in zip(first.images, first.masks):
        assert 0.01 < mask.mean() < 0.6
        # the object has one colour: inside the mask the pixels barely vary ...
        inside = image[mask & ~_edge(mask)]
        assert np.ptp(inside, axis=0).max() < 0.05
        # ... and it stands out from the background around it
        outside = image[~mask].mean(axis=0)
        assert np.linalg.norm(inside.mean(axis=0) - outside) > 0.2


def _edge(mask):
    padded = np.pad(mask, 1)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~interior


def test_digits_come_from_scikit_learn_with_labels():
    from sklearn.datasets import load_digits

    digits = make_digits(20, size=16, channels=3)
    assert digits.images.shape == (20, 16, 16, 3)
    assert digits.labels == [str(d) for d in load_digits().target[:20]]
    np.testing.assert_array_equal(digits.images[..., 0], digits.images[..., 2])
    assert digits.masks is None
    # upsampled, the dark border of the 8x8 digit stays dark and its strokes stay bright
    assert digits.images[:, :, 0].max() < 0.1 and digits.images[:].max() > 0.9
