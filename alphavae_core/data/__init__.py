"""The data: the paper's five image datasets (``images``), dSprites rendered procedurally
(``dsprites``) and the input noise of the denoising experiments (``noise``).

``from alphavae_core import data`` gives the names a trainer or chapter needs:
``data.load_images``, ``data.to_float``, ``data.add_noise`` and the rest.
"""

from alphavae_core.data.images import (
    DATASETS,
    SPLITS,
    clear_cache,
    default_reconstruction,
    dsprites_indices,
    image_shape,
    load_images,
    to_float,
)
from alphavae_core.data.noise import add_noise, fixed_test_noise
