"""Record what produced a results folder: the config, the sheet rows, package versions.

Outputs (named): ``config`` (YAML of ``params.config``), ``versions`` (TSV) and,
optionally, ``recordings`` (TSV of ``params.recordings``, a list of dicts).

Versions come from the installed packages' metadata (nothing is imported), read in
the environment that runs this job.  Nothing here depends on the date or the
machine's name, so a rerun gives the same bytes.
"""
from _common import start

start(snakemake)

import importlib.metadata
import logging
import platform

import pandas as pd
import yaml

from sparsefield._files import atomic_write

#: Python packages whose versions are recorded (in this order), after Python itself.
PACKAGES = (
    "sparsefield",
    "numpy",
    "scipy",
    "numba",
    "llvmlite",
    "pandas",
    "matplotlib",
    "h5py",
    "scikit-learn",
    "scikit-image",
    "pyglmnet",
    "snakemake",
    "snakemake-executor-plugin-slurm",
)


def versions():
    rows = [("python", platform.python_version())]
    for package in PACKAGES:
        try:
            rows.append((package, importlib.metadata.version(package)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((package, "not installed"))
    return pd.DataFrame(rows, columns=["package", "version"])


def write_text(path, text):
    with atomic_write(path) as handle:
        handle.write(text.encode("utf-8"))


header = "# The configuration that produced this folder (defaults filled in).\n"
write_text(
    snakemake.output.config,
    header + yaml.safe_dump(snakemake.params.config, sort_keys=False, allow_unicode=True),
)
if "recordings" in snakemake.output.keys():  # optional: folders fed by the sheet
    write_text(
        snakemake.output.recordings,
        pd.DataFrame(snakemake.params.recordings).to_csv(sep="\t", index=False),
    )
table = versions()
write_text(snakemake.output.versions, table.to_csv(sep="\t", index=False))
logging.info("recorded the config and %d versions", len(table))
