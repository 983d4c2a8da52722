"""The Gabor comparison page of a session: units over each run's atoms, with the table's
energy distances."""
from _common import load, start

start(snakemake)

import pandas as pd

from sparsefield.gabor_table import GaborTable
from sparsefield.plots import save_figure
from sparsefield.plots.gabor import gabor_comparison_figure

measured = load(GaborTable, snakemake.input.measured)
learned = {run: load(GaborTable, path)
           for run, path in zip(snakemake.params.runs, snakemake.input.learned, strict=True)}
rows = pd.read_csv(snakemake.input.table, sep="\t").to_dict("records")
figure = gabor_comparison_figure(measured, learned, rows,
                                 title=f"{snakemake.wildcards.recording}: Gabor fits, "
                                       "measured units vs learned atoms")
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
