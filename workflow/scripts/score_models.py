"""Held-out scores of every estimate of one chunk of a session's units (all of them
unless sessions.units_per_job is set): each estimate refitted without each contiguous
block of frames and scored on it, with the true model's score for simulated units."""
from _common import load, start, unit_chunk

start(snakemake, keys={
    "n_folds": "models.n_folds", "joint_fit": "models.joint.fit",
    "joint_alpha": "models.joint.alpha", "joint_max_iter": "models.joint.max_iter",
    "joint_bases": "models.joint.n_bases", "tol": "models.joint.tol",
    "bins_per_frame": "models.subframe.bins_per_frame",
    "subframe_bases": "models.subframe.n_bases", "subframe_span": "models.subframe.span_s",
    "subframe_max_iter": "models.subframe.max_iter",
})

import logging

import numpy as np

from sparsefield.io import save_npz
from sparsefield.io.session import Session
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.joint_subframe import subframe_counts
from sparsefield.rf.units_lasso import UnitsLasso
from sparsefield.rf.units_ml import UnitsML
from sparsefield.rf.units_scores import score_units, truth_expected, unit_choices

session = load(Session, snakemake.input.recording)
binned = load(UnitCounts, snakemake.input.counts)
ml = load(UnitsML, snakemake.input.ml)
lasso = load(UnitsLasso, snakemake.input.lasso)
units = unit_chunk(snakemake, session.n_units)
unit_ids = session.unit_ids[units]
choices = {key: value[units] for key, value in unit_choices(ml, lasso).items()}
truth = None
if "truth" in snakemake.input.keys():
    with np.load(snakemake.input.truth, allow_pickle=False) as arrays:
        truth = truth_expected(dict(arrays), unit_ids, session.stimulus, binned.edges)
joint = snakemake.params.joint
subframe = snakemake.params.subframe
bin_counts = subframe_counts(*session.spikes_of_units(units), binned.edges,
                             bins_per_frame=subframe["bins_per_frame"])
scores = score_units(
    session.stimulus,
    binned.counts[:, units],
    binned.durations,
    choices,
    max_lag=int(max(ml.lags.max(), lasso.lags.max())),
    n_folds=snakemake.params.n_folds,
    joint_fit=joint["fit"],
    joint_alpha=joint["alpha"],
    joint_max_iter=joint["max_iter"],
    joint_bases=joint["n_bases"],
    tol=joint["tol"],
    bin_counts=bin_counts,
    subframe_bases=subframe["n_bases"],
    subframe_span=subframe["span_s"],
    subframe_max_iter=subframe["max_iter"],
    fit_options={"max_iter": snakemake.params.ml_max_iter, "ml_tol": snakemake.params.ml_tol,
                 "lasso_tol": snakemake.params.lasso_tol},
    truth=truth,
    unit_ids=unit_ids,
    trial_starts=session.trial_starts,
)
for index in np.flatnonzero(scores.scored):
    bits = ", ".join(f"{name} {value:.3f}" for name, value in
                     zip(scores.estimates.tolist(), scores.bits_per_spike[index], strict=True))
    truth_text = (f"; truth {scores.truth_bits_per_spike[index]:.3f}"
                  if np.isfinite(scores.truth_bits_per_spike[index]) else "")
    logging.info("unit %d: held-out bits/spike %s (best: %s)%s", unit_ids[index], bits,
                 scores.best[index], truth_text)
for index in np.flatnonzero(scores.notes != ""):
    logging.warning("unit %d: some estimates have no score, their fit did not converge on a "
                    "block: %s", unit_ids[index], scores.notes[index])
for index in np.flatnonzero(choices["fitted"] & ~scores.scored):
    logging.warning("unit %d not scored: %s", unit_ids[index], scores.why[index])
save_npz(snakemake.output[0], scores.to_npz_dict())
