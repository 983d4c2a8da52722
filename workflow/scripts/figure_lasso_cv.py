"""Cross-validation curve of the lasso penalty."""
from _common import load, load_unit, start

start(snakemake)

from sparsefield.plots import cv_curve_figure, save_figure
from sparsefield.rf.units_lasso import UnitsLasso

session, index, recording = load_unit(snakemake)
fit = load(UnitsLasso, snakemake.input.fit).unit(index)
figure = cv_curve_figure(
    fit.lambdas,
    fit.total_gain_mean,
    fit.total_gain_se,
    float(fit.lambdas[fit.index_min]),
    float(fit.lambdas[fit.index_1se]),
    f"{recording.recording_id}: cross-validated penalty (rule {fit.rule})",
    ylabel="held-out gain over constant rate\n(nats per frame, summed over lags)",
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
