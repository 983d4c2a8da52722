"""Learn a dictionary from compressed patches; recover pixel-space atoms every epoch."""
from _common import load, start

start(snakemake, keys={
    name: f"sparse.learning.{name}"
    for name in ("n_atoms", "tau", "n_epochs", "batch_size", "update", "learning_rate", "decay",
                 "tol", "max_iter", "seed")
} | {"solver": "sparse.runs.solvers"})

import numpy as np

from sparsefield.io import save_npz
from sparsefield.sparse.dictionary import LearningSettings, learn_dictionary
from sparsefield.sparse.prepare import PreparedPatches

patches = load(PreparedPatches, snakemake.input.patches)
with np.load(snakemake.input.compression, allow_pickle=False) as arrays:
    phi = arrays["phi"]
learning = {key: value for key, value in snakemake.params.learning.items() if key != "threads"}
settings = LearningSettings(solver=snakemake.wildcards.solver, **learning)
run = learn_dictionary(
    patches.train,
    settings,
    compression=None if snakemake.wildcards.scheme == "none" else phi,
    validation=patches.validation,
    correlation=patches.correlation,
)
save_npz(snakemake.output.run, run.to_npz_dict())
run.epoch_table().to_csv(snakemake.output.epochs, sep="\t", index=False, float_format="%.6g")
