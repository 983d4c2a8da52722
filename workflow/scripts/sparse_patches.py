"""Images -> whitened, normalised training / validation / correlation patches."""
from _common import start

start(snakemake, keys={
    "patch_size": "sparse.patches.size", "n_train": "sparse.patches.n_train",
    "n_validation": "sparse.patches.n_validation",
    "n_correlation": "sparse.patches.n_correlation", "seed": "sparse.patches.seed",
    "epsilon": "sparse.patches.zca_epsilon", "validation_names": "sparse.images.validation",
    "f0_fraction": "sparse.images.f0_fraction", "scale": "sparse.images.scale",
    "variable": "sparse.images.variable",
    "source": ("sparse.images.names" if snakemake.params.images["source"] == "skimage"
               else "sparse.images.source"),
})

import logging

from sparsefield.io import save_npz
from sparsefield.sparse.images import load_images
from sparsefield.sparse.prepare import prepare_patches

images, settings = snakemake.params.images, snakemake.params.patches
source = list(images["names"]) if images["source"] == "skimage" else images["source"]
image_set = load_images(source, variable=images["variable"], scale=images["scale"])
logging.info("%d images: %s", len(image_set), ", ".join(image_set.names))
prepared = prepare_patches(
    image_set,
    images["validation"],
    settings["size"],
    settings["n_train"],
    settings["n_validation"],
    settings["n_correlation"],
    settings["seed"],
    frequency_whitening=images["frequency_whitening"],
    f0_fraction=images["f0_fraction"],
    zca=settings["zca"],
    zca_epsilon=settings["zca_epsilon"],
    normalise=settings["unit_norm"],
)
logging.info(
    "patches %dx%d: %d train, %d validation (%s), %d correlation",
    settings["size"], settings["size"], len(prepared.train), len(prepared.validation),
    ", ".join(prepared.validation_names), len(prepared.correlation),
)
save_npz(snakemake.output[0], prepared.to_npz_dict())
