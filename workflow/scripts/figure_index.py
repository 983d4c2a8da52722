"""The list of a session's figures: path, unit (or "all") and figure name."""
from _common import start

start(snakemake)

import os

import pandas as pd

folder = os.path.dirname(snakemake.output[0])
rows = []
for path in sorted(snakemake.input):
    relative = os.path.relpath(path, folder)
    parts = relative.split(os.sep)
    unit = parts[0][len("unit-"):] if len(parts) > 1 else "all"
    rows.append({"figure": os.path.splitext(parts[-1])[0], "unit": unit, "path": relative})
pd.DataFrame(rows, columns=["figure", "unit", "path"]).to_csv(
    snakemake.output[0], sep="\t", index=False)
