"""Measured units against each sparse-coding run's atoms: one table row per run."""
from _common import load, start

start(snakemake, keys={"n_bootstrap": "gabor.n_bootstrap"})

import pandas as pd

from sparsefield.gabor_compare import comparison_rows
from sparsefield.gabor_table import GaborTable

measured = load(GaborTable, snakemake.input.measured)
learned = {run: load(GaborTable, path)
           for run, path in zip(snakemake.params.runs, snakemake.input.learned, strict=True)}
rows = comparison_rows(measured, learned, n_bootstrap=snakemake.params.n_bootstrap,
                       seed=snakemake.params.seed)
pd.DataFrame(rows).to_csv(snakemake.output[0], sep="\t", index=False, float_format="%.6g")
