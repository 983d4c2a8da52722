"""Join the held-out scores of a session's unit chunks (units_per_job) into models.npz:
each unit's scores depend only on its own data, so the result is that of one job."""
from _common import load, start

start(snakemake)

import logging

from sparsefield.io import save_npz
from sparsefield.rf.units import concatenate_units
from sparsefield.rf.units_scores import UnitsScores

parts = [load(UnitsScores, path) for path in snakemake.input]
save_npz(snakemake.output[0], concatenate_units(parts).to_npz_dict())
logging.info("%d chunk(s) of units joined", len(parts))
