"""What the pages call good: the aim each figure is judged by.

Pages say "yes" or "not clearly" next to a figure by these numbers and state them in their
words; the faithfulness chart draws the randomization aim as a line. Nowhere else is an aim
written down.
"""

RANDOMIZATION = 0.5
"""A map whose rank correlation with its randomised network's map is below this depends on what
the network learned (:mod:`aevis.faithfulness.randomization`)."""
OBJECT_SHARE = 2
"""A map on target puts at least this many times the object's share of the image on the
object (:mod:`aevis.faithfulness.object_share`)."""
TRUSTWORTHINESS = 0.9
"""A map at least this trustworthy keeps code-space neighbours together
(:func:`aevis.latent.quality.map_quality`)."""
LABEL_AGREEMENT = 0.6
"""Codes whose nearest neighbours share an image's label at least this often group the images
the way their labels do (:func:`aevis.latent.quality.map_quality`)."""
NEAR_CHANCE = 1.5
"""Label agreement under this many times the chance level is hardly more than picking
neighbours at random."""
BEYOND_PIXELS = 0.05
"""Codes and raw pixels whose label agreements differ by less than this group the images by
label about as well as each other."""
