"""Join the fits of a session's unit chunks (units_per_job) into the session's files:
each unit's fit depends only on its own data, so the result is byte for byte that of
one job for all units."""
from _common import load, start

start(snakemake)

import logging

from sparsefield.io import save_npz
from sparsefield.rf.separation import UnitsSeparation
from sparsefield.rf.units import concatenate_units
from sparsefield.rf.units_lasso import UnitsLasso
from sparsefield.rf.units_ml import UnitsML
from sparsefield.rf.units_sta import UnitsSTA

KINDS = {
    "ml": UnitsML,
    "ml_separation": UnitsSeparation,
    "lasso": UnitsLasso,
    "lasso_separation": UnitsSeparation,
    "sta": UnitsSTA,
    "sta_separation": UnitsSeparation,
}
for name, kind in KINDS.items():
    parts = [load(kind, path) for path in snakemake.input[name]]
    save_npz(snakemake.output[name], concatenate_units(parts).to_npz_dict())
logging.info("%d chunk(s) of units joined", len(snakemake.input["ml"]))
