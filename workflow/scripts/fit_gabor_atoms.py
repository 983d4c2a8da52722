"""Gabor fits of every atom of a sparse-coding run's last epoch (and every epochs_every-th)."""
from _common import load, start

KEYS = {name: f"gabor.{name}" for name in
        ("epochs_every", "n_orientations", "n_frequencies", "bic_margin", "r2_threshold", "seed")}
start(snakemake, keys={**KEYS, "patch_shape": "sparse.patches.size"})

import logging

from sparsefield.gabor_table import atom_gabor_summary, fit_atoms
from sparsefield.io import save_npz
from sparsefield.sparse.dictionary import DictionaryRun

run = load(DictionaryRun, snakemake.input[0])
size = snakemake.params.patch_size
table = fit_atoms(run.phi, (size, size), **{name: snakemake.params.gabor[name] for name in KEYS})
logging.info("last epoch: %s", atom_gabor_summary(table))
save_npz(snakemake.output[0], table.to_npz_dict())
