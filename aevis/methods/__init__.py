"""The visualization methods, one module each, all reached through :func:`aevis.explain`.

Each method is a function ``(ae, images, *, target, **options) -> float32 (N, H, W)``.
The attribution methods (:data:`TARGET_METHODS`) explain a target of the latent code
(:mod:`aevis.targets`) and also take ``reference_codes`` for ``target='neighbour'``;
``reconstruction_error`` describes the whole autoencoder and takes no target.
"""

from aevis.methods.gradcam import gradcam
from aevis.methods.integrated_gradients import integrated_gradients
from aevis.methods.occlusion import occlusion
from aevis.methods.reconstruction_error import reconstruction_error
from aevis.methods.saliency import saliency
from aevis.methods.smoothgrad import smoothgrad

METHODS = {
    "reconstruction_error": reconstruction_error,
    "saliency": saliency,
    "smoothgrad": smoothgrad,
    "integrated_gradients": integrated_gradients,
    "gradcam": gradcam,
    "occlusion": occlusion,
}

# The methods that explain a target, in the order of the issue.
TARGET_METHODS = ("saliency", "smoothgrad", "integrated_gradients", "gradcam", "occlusion")

__all__ = ["METHODS", "TARGET_METHODS"]
