"""Histograms of the validation codes of every run (last epoch)."""
from _common import load, start

start(snakemake)

from sparsefield.plots.sparse import sparsity_histogram_figure
from sparsefield.plots.style import save_figure
from sparsefield.sparse.dictionary import DictionaryRun

codes = {
    name: load(DictionaryRun, path).codes
    for name, path in zip(snakemake.params.runs, snakemake.input, strict=True)
}
save_figure(sparsity_histogram_figure(codes), snakemake.output[0], dpi=snakemake.params.dpi)
