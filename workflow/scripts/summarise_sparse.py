"""One row per sparse-coding run: final losses, code sparsity, atom shapes and Gabor fits."""
from _common import load, start

start(snakemake, keys={"patch_shape": "sparse.patches.size", "patch_size": "sparse.patches.size"})

import pandas as pd

from sparsefield.gabor_table import GaborTable, atom_gabor_summary
from sparsefield.sparse.dictionary import DictionaryRun, run_summary

rows = []
for name, path, gabor in zip(snakemake.params.runs, snakemake.input.runs, snakemake.input.gabor,
                             strict=True):
    row = run_summary(name, load(DictionaryRun, path), snakemake.params.patch_size)
    # beside the localisation and orientation heuristics (fraction_gabor_like), not instead
    row.update(atom_gabor_summary(load(GaborTable, gabor)))
    rows.append(row)
pd.DataFrame(rows).to_csv(snakemake.output[0], sep="\t", index=False, float_format="%.6g")
