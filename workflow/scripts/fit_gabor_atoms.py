"""Gabor fits of every atom of a sparse-coding run's last epoch (and every epochs_every-th)."""
from _common import start

KEYS = {name: f"gabor.{name}" for name in
        ("epochs_every", "n_orientations", "n_frequencies", "bic_margin", "r2_threshold", "seed")}
start(snakemake, keys={**KEYS, "patch_shape": "sparse.patches.size"})

import logging

import numpy as np

from sparsefield.gabor_table import atom_gabor_summary, fit_atoms
from sparsefield.io import save_npz

# Only DictionaryRun.phi (epochs x pixels x atoms) is needed: read that array alone
# (importing sparsefield.sparse.dictionary and reading the codes cost 0.6 s per run).
with np.load(snakemake.input[0], allow_pickle=False) as arrays:
    phi = arrays["phi"]
size = snakemake.params.patch_size
table = fit_atoms(phi, (size, size), **{name: snakemake.params.gabor[name] for name in KEYS})
logging.info("last epoch: %s", atom_gabor_summary(table))
save_npz(snakemake.output[0], table.to_npz_dict())
