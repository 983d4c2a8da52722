"""Every fitted unit's lasso receptive field of a session on one page, sorted by position."""
from _common import load, start

start(snakemake)

import numpy as np

from sparsefield.io.session import Session
from sparsefield.plots import rf_atlas_figure, save_figure
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.separation import UnitsSeparation
from sparsefield.rf.session_views import atlas_maps
from sparsefield.rf.units_lasso import UnitsLasso

session = load(Session, snakemake.input.recording)
durations = load(UnitCounts, snakemake.input.counts).durations
maps, order, units = atlas_maps(session.frame_shape, load(UnitsLasso, snakemake.input.lasso),
                                load(UnitsSeparation, snakemake.input.separation))
lasso_lags = np.load(snakemake.input.lasso, allow_pickle=False)["lags"]
figure = rf_atlas_figure(
    maps,
    session.frame_shape,
    session.unit_ids[units],
    order=order,
    delays=lasso_lags * float(np.median(durations)),
    title=f"{session.session_id}: lasso receptive fields by position"
          + (f" ({session.n_units - units.size} of {session.n_units} units not fitted)"
             if units.size < session.n_units else ""),
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
