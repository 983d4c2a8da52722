"""Sub-frame spike-triggered average as z-scores over delay."""
from _common import load, start

start(snakemake)

from sparsefield.io import Recording
from sparsefield.plots import save_figure, sta_figure
from sparsefield.rf.sta import STA

recording = load(Recording, snakemake.input.recording)
sta = load(STA, snakemake.input.sta)
figure = sta_figure(sta.taus, sta.sta, sta.zscore, recording.frame_shape)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
