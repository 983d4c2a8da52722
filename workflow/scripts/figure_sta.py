"""Sub-frame spike-triggered average as z-scores over delay."""
from _common import load, load_unit, start

start(snakemake)

from sparsefield.plots import save_figure, sta_figure
from sparsefield.rf.units_sta import UnitsSTA

session, index, recording = load_unit(snakemake)
sta = load(UnitsSTA, snakemake.input.sta).unit(index)
figure = sta_figure(sta.taus, sta.sta, sta.zscore, recording.frame_shape)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
