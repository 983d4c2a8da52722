"""RF centres and 1-sigma ellipses of a session's units (2-D stimuli)."""
from _common import load, start

start(snakemake)

from sparsefield.io.session import Session
from sparsefield.plots import mosaic_figure, save_figure
from sparsefield.rf.separation import UnitsSeparation
from sparsefield.rf.session_views import mosaic_fits

session = load(Session, snakemake.input.recording)
centres, ellipses, polarity, units = mosaic_fits(
    session.frame_shape, load(UnitsSeparation, snakemake.input.separation))
figure = mosaic_figure(
    centres,
    ellipses,
    session.frame_shape,
    session.unit_ids[units],
    polarity=polarity,
    title=f"{session.session_id}: RF centres (lasso maps)",
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
