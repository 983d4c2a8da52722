"""Gabor fits of every unit's lasso spatial map (2-D, bars, or flagged for full field)."""
from _common import load, start

KEYS = {name: f"gabor.{name}" for name in
        ("n_orientations", "n_frequencies", "n_frequencies_1d", "bic_margin", "r2_threshold",
         "seed")}
start(snakemake, keys={**KEYS, "pixel_size_deg": "recordings.tsv pixel_size_deg"})

import logging

import numpy as np

from sparsefield.gabor_table import fit_unit_maps
from sparsefield.io import save_npz
from sparsefield.io.session import Session
from sparsefield.rf.separation import UnitsSeparation

session = load(Session, snakemake.input.recording)
separation = load(UnitsSeparation, snakemake.input.separation)
table = fit_unit_maps(
    separation.spatial, session.frame_shape, session.unit_ids,
    **{name: snakemake.params.gabor[name] for name in KEYS},
    pixel_size_deg=snakemake.params.pixel_size_deg,
)
for unit_id, why in zip(table.ids.tolist(), table.why, strict=True):
    if why:
        logging.info("unit %d: not fitted (%s)", unit_id, why)
logging.info("%d of %d units well fitted by a Gabor, %d chose the Gaussian model",
             int(np.count_nonzero(table.well_fitted)), len(table),
             int(np.count_nonzero(table.model == "gaussian")))
save_npz(snakemake.output[0], table.to_npz_dict())
