"""One row of summary numbers per unit of a session, with its Gabor fit and truth metrics
when simulated."""
from _common import load, start

start(snakemake)

import logging

import numpy as np
import pandas as pd

from sparsefield.gabor_table import GaborTable, unit_columns
from sparsefield.io.session import Session
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.separation import UnitsSeparation
from sparsefield.rf.summary import FLAG_MEANINGS, truth_of_unit, unit_table
from sparsefield.rf.units_lasso import UnitsLasso
from sparsefield.rf.units_ml import UnitsML
from sparsefield.rf.units_scores import UnitsScores
from sparsefield.rf.units_sta import UnitsSTA
from sparsefield.rf.units_stc import UnitsSTC

session = load(Session, snakemake.input.recording)
truth = None
if "truth" in snakemake.input.keys():
    with np.load(snakemake.input.truth, allow_pickle=False) as arrays:
        truth = dict(arrays)
rows = unit_table(
    session,
    load(UnitCounts, snakemake.input.counts),
    load(UnitsML, snakemake.input.fit),
    load(UnitsSeparation, snakemake.input.ml_separation),
    load(UnitsSTA, snakemake.input.sta),
    load(UnitsSeparation, snakemake.input.sta_separation),
    load(UnitsLasso, snakemake.input.lasso),
    load(UnitsSeparation, snakemake.input.lasso_separation),
    truth=truth,
    models=(load(UnitsScores, snakemake.input.models) if "models" in snakemake.input.keys()
            else None),
    stc=load(UnitsSTC, snakemake.input.stc) if "stc" in snakemake.input.keys() else None,
)
unit_truths = None if truth is None else {
    int(unit_id): truth_of_unit(truth, unit_id) for unit_id in session.unit_ids.tolist()}
gabor = unit_columns(load(GaborTable, snakemake.input.gabor), unit_truths)
for row in rows:
    row.update(gabor[row["unit_id"]])
    if not row["fitted"]:
        logging.warning("unit %d not fitted: %s", row["unit_id"], row["why"])
    for flag in row.get("flags", "").split():
        logging.warning("unit %d: %s (%s)", row["unit_id"], flag,
                        FLAG_MEANINGS.get(flag, "see config/README.md"))
if not any(row["fitted"] for row in rows):
    logging.warning("no unit of recording %s could be fitted (see the reasons above)",
                    session.session_id)
pd.DataFrame(rows).to_csv(snakemake.output[0], sep="\t", index=False, float_format="%.6g")
