"""Overview figure: a stimulus frame, the response over time, count vs predicted rate."""
from _common import load, start

start(snakemake)

from sparsefield.io import Recording
from sparsefield.plots import overview_figure, save_figure
from sparsefield.rf.binning import BinnedCounts
from sparsefield.rf.ml import MLFit, predicted_counts

recording = load(Recording, snakemake.input.recording)
binned = load(BinnedCounts, snakemake.input.counts)
fit = load(MLFit, snakemake.input.fit)
predicted = predicted_counts(fit, fit.best_lag, recording.stimulus, binned.durations)
figure = overview_figure(
    recording.stimulus_frames()[0],
    binned.edges,
    binned.counts,
    predicted,
    window=snakemake.params.window,
    label=f"{recording.recording_id} (prediction: ML fit at lag {fit.best_lag})",
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
