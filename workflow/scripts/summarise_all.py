"""Every session's unit rows in one table."""
from _common import start

start(snakemake)

import pandas as pd

tables = [pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])
          for path in snakemake.input]
pd.concat(tables, ignore_index=True).to_csv(
    snakemake.output[0], sep="\t", index=False, float_format="%.6g"
)
