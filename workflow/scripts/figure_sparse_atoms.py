"""Atom grid of one run's final pixel-space dictionary, most used atoms first."""
from _common import load, start

start(snakemake)

from sparsefield.plots.atoms import atom_grid_figure
from sparsefield.plots.style import save_figure
from sparsefield.sparse.dictionary import DictionaryRun

run = load(DictionaryRun, snakemake.input[0])
title = f"{snakemake.wildcards.scheme}-J{snakemake.wildcards.J}-{snakemake.wildcards.solver}: " \
        f"epoch {run.phi.shape[0]}, atoms by mean |code|"
figure = atom_grid_figure(run.phi[-1], snakemake.params.patch_size, title, order=run.usage_order())
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
