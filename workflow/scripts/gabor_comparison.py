"""Measured units against each sparse-coding run's atoms: the table and the figure page."""
from _common import load, start

start(snakemake, keys={"n_bootstrap": "gabor.n_bootstrap"})

import pandas as pd

from sparsefield.gabor_compare import comparison_rows
from sparsefield.gabor_table import GaborTable
from sparsefield.plots import save_figure
from sparsefield.plots.gabor import gabor_comparison_figure

measured = load(GaborTable, snakemake.input.measured)
learned = {run: load(GaborTable, path)
           for run, path in zip(snakemake.params.runs, snakemake.input.learned, strict=True)}
rows = comparison_rows(measured, learned, n_bootstrap=snakemake.params.n_bootstrap,
                       seed=snakemake.params.seed)
pd.DataFrame(rows).to_csv(snakemake.output.table, sep="\t", index=False, float_format="%.6g")
figure = gabor_comparison_figure(measured, learned, rows,
                                 title=f"{snakemake.wildcards.recording}: Gabor fits, "
                                       "measured units vs learned atoms")
save_figure(figure, snakemake.output.figure, dpi=snakemake.params.dpi)
