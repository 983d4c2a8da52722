"""Per-lag Poisson ML receptive fields and their rank-1 space-time separation."""
from _common import load, start

start(snakemake)

import logging

from sparsefield.io import Recording, save_npz
from sparsefield.rf.binning import BinnedCounts
from sparsefield.rf.ml import fit_ml
from sparsefield.rf.separation import separate

recording = load(Recording, snakemake.input.recording)
binned = load(BinnedCounts, snakemake.input.counts)
fit = fit_ml(
    recording.stimulus,
    binned.counts,
    binned.durations,
    lags=snakemake.params.lags,
    max_iter=snakemake.params.max_iter,
    tol=snakemake.params.tol,
)
for lag, nll, n_iter in zip(fit.lags, fit.nll, fit.n_iter):
    logging.info("lag %d: mean NLL %.6f after %d iterations", lag, nll, n_iter)
separation = separate(fit.weights, centering=snakemake.params.centering)
save_npz(snakemake.output.fit, fit.to_npz_dict())
save_npz(snakemake.output.separation, separation.to_npz_dict())
