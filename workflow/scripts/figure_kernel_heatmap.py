"""Temporal kernels (from the spike-triggered averages) of every fitted unit of a session."""
from _common import load, start

start(snakemake)

from sparsefield.io.session import Session
from sparsefield.plots import kernel_heatmap_figure, save_figure
from sparsefield.rf.separation import UnitsSeparation
from sparsefield.rf.session_views import kernel_rows
from sparsefield.rf.units_sta import UnitsSTA

session = load(Session, snakemake.input.recording)
sta = load(UnitsSTA, snakemake.input.sta)
kernels, order, units = kernel_rows(load(UnitsSeparation, snakemake.input.separation))
figure = kernel_heatmap_figure(
    kernels,
    sta.taus,
    session.unit_ids[units],
    order=order,
    title=f"{session.session_id}: STA temporal kernels of {units.size} units "
          "(sorted by peak delay)",
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
