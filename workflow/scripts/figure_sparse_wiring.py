"""Wiring of every compression matrix of the comparison."""
from _common import start

start(snakemake)

import numpy as np

from sparsefield.plots.sparse import wiring_figure
from sparsefield.plots.style import save_figure

matrices = []
for path in snakemake.input:
    with np.load(path, allow_pickle=False) as arrays:
        matrices.append(arrays["phi"])
figure = wiring_figure(matrices, list(snakemake.params.matrices),
                       patch_shape=snakemake.params.patch_size,
                       title="Compression matrices Φ: which pixels each compressed unit reads")
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
