"""Join the spike-triggered covariances of a session's unit chunks (units_per_job) into
stc.npz: each unit's analysis depends only on its own data, so the result is that of one
job."""
from _common import load, start

start(snakemake)

import logging

from sparsefield.io import save_npz
from sparsefield.rf.units import concatenate_units
from sparsefield.rf.units_stc import UnitsSTC

parts = [load(UnitsSTC, path) for path in snakemake.input]
save_npz(snakemake.output[0], concatenate_units(parts).to_npz_dict())
logging.info("%d chunk(s) of units joined", len(parts))
