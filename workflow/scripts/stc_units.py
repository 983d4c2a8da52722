"""Spike-triggered covariance of one chunk of a session's units (all of them unless
sessions.units_per_job is set), with the energy model's held-out score."""
from _common import load, start, unit_chunk

start(snakemake, keys={
    "n_lags": "stc.n_lags", "patch": "stc.patch", "max_dims": "stc.max_dims",
    "n_shifts": "stc.n_shifts", "alpha": "stc.alpha", "n_folds": "models.n_folds",
})

import logging

import numpy as np

from sparsefield.io import save_npz
from sparsefield.io.session import Session
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.separation import UnitsSeparation
from sparsefield.rf.units_lasso import UnitsLasso
from sparsefield.rf.units_ml import UnitsML
from sparsefield.rf.units_scores import unit_choices
from sparsefield.rf.units_stc import rf_centre, stc_units

session = load(Session, snakemake.input.recording)
binned = load(UnitCounts, snakemake.input.counts)
lasso = load(UnitsLasso, snakemake.input.lasso)
separation = load(UnitsSeparation, snakemake.input.lasso_separation)
units = unit_chunk(snakemake, session.n_units)
fitted = unit_choices(load(UnitsML, snakemake.input.ml), lasso)["fitted"][units]
options = snakemake.params.stc
n_lags = options["n_lags"] or int(lasso.lags.max()) + 1
centres = np.array([rf_centre(spatial, session.frame_shape)
                    for spatial in separation.spatial[units]]).reshape(-1, 2)
result = stc_units(
    session.stimulus, binned.counts[:, units], binned.durations, session.frame_shape, fitted,
    centres, n_lags=n_lags, patch=options["patch"], max_dims=options["max_dims"],
    n_shifts=options["n_shifts"], alpha=options["alpha"], seed=options["seed"],
    n_folds=snakemake.params.n_folds, unit_ids=session.unit_ids[units],
    trial_starts=session.trial_starts,
)
for index, unit_id in enumerate(result.unit_ids.tolist()):
    if result.analysed[index]:
        logging.info("unit %d: %d excitatory, %d suppressive axes; energy model %.3f bits/spike",
                     unit_id, result.n_excitatory[index], result.n_suppressive[index],
                     result.energy_bits_per_spike[index])
    elif result.why[index] != "not fitted":
        logging.warning("unit %d: %s", unit_id, result.why[index])
save_npz(snakemake.output[0], result.to_npz_dict())
