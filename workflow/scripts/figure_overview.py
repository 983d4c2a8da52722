"""Overview figure: a stimulus frame, the response over time, count vs predicted rate."""
from _common import load, load_unit, start

start(snakemake)

from sparsefield.plots import overview_figure, save_figure
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.ml import predicted_counts
from sparsefield.rf.units_ml import UnitsML

session, index, recording = load_unit(snakemake)
binned = load(UnitCounts, snakemake.input.counts).unit(index)
fit = load(UnitsML, snakemake.input.fit).unit(index)
predicted = predicted_counts(fit, fit.best_lag, recording.stimulus, binned.durations,
                             trial_starts=session.trial_starts)
figure = overview_figure(
    recording.stimulus_frames()[0],
    binned.edges,
    binned.counts,
    predicted,
    window=snakemake.params.window,
    label=f"{recording.recording_id} (prediction: ML fit at lag {fit.best_lag})",
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
