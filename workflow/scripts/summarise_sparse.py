"""One row per sparse-coding run: final losses, code sparsity and atom shapes."""
from _common import load, start

start(snakemake, keys={"patch_shape": "sparse.patches.size", "patch_size": "sparse.patches.size"})

import pandas as pd

from sparsefield.sparse.dictionary import DictionaryRun, run_summary

rows = [
    run_summary(name, load(DictionaryRun, path), snakemake.params.patch_size)
    for name, path in zip(snakemake.params.runs, snakemake.input, strict=True)
]
pd.DataFrame(rows).to_csv(snakemake.output[0], sep="\t", index=False, float_format="%.6g")
