"""One compression matrix Phi (M x N) of the sparse-coding comparison."""
from _common import start

start(snakemake, keys={
    "scheme": "sparse.runs.schemes", "localization": "sparse.runs.localization",
    "n_measurements": "sparse.compression.n_measurements", "order": "sparse.compression.order",
    "normalise": "sparse.compression.normalise", "seed": "sparse.compression.seed",
    "patch_size": "sparse.patches.size",
})

import logging

from sparsefield.io import save_npz
from sparsefield.sparse.compression import compression_matrix

settings = snakemake.params.compression
scheme, localization = snakemake.wildcards.scheme, int(snakemake.wildcards.J)
n_pixels = snakemake.params.n_pixels
phi = compression_matrix(
    scheme,
    n_pixels if scheme == "none" else settings["n_measurements"],
    n_pixels,
    localization,
    seed=settings["seed"],
    order=settings["order"],
    patch_size=snakemake.params.patch_size,
    normalise=settings["normalise"],
)
logging.info("%s J=%d: %d x %d, %.1f %% non-zero", scheme, localization, *phi.shape,
             100.0 * (phi != 0).mean())
save_npz(snakemake.output[0], {"phi": phi})
