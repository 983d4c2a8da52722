# Everything of the sparse-coding branch that is not a rule (the counterpart of
# common.smk): the run names, input functions and final outputs (its config checks
# beyond the schema are in sparsefield.config, run from common.smk).  Conventions: see the top of common.smk.
import glob
import os

from sparsefield.sparse.compression import LOCALIZED_SCHEMES, SCHEMES
from sparsefield.sparse.inference import METHODS

SPARSE = config["sparse"]
SPARSE_FIGURE = "results/figures/sparse/{run}/{name}.{format}"
SPARSE_CATEGORY = "Receptive fields from sparse coding"
N_PIXELS = SPARSE["patches"]["size"] ** 2


# What the schema cannot say (M against N, J against M and N, hilbert against the patch
# side, validation images against the names) is checked with the rest of the config in
# common.smk: sparsefield.config.cross_key_errors.


def sparse_runs():
    """Run names: every scheme x J (bdm, brm; none and dense use J = 1) x solver."""
    runs = []
    for scheme in SPARSE["runs"]["schemes"]:
        localizations = SPARSE["runs"]["localization"] if scheme in LOCALIZED_SCHEMES else [1]
        for j in localizations:
            for solver in SPARSE["runs"]["solvers"]:
                runs.append(f"{scheme}-J{j}-{solver}")
    return runs


SPARSE_RUNS = sparse_runs()
SPARSE_MATRICES = list(dict.fromkeys(run.rsplit("-", 1)[0] for run in SPARSE_RUNS))


# The choices are the library's (tests/test_single_source.py checks the schema against them).
wildcard_constraints:
    scheme="|".join(map(re.escape, SCHEMES)),
    J=r"\d+",
    solver="|".join(map(re.escape, METHODS)),


def image_inputs(wildcards):
    """The image files the patches come from (none for scikit-image's own)."""
    source = SPARSE["images"]["source"]
    if source == "skimage":
        return []
    if os.path.isdir(source):
        # Every entry: a stray non-image file is reported by name, not skipped.
        return sorted(glob.glob(os.path.join(source, "*")))
    return [source]


def sparse_figure(run, name, fmt=None):
    return SPARSE_FIGURE.format(run=run, name=name, format=fmt or config["figures"]["format"])


def sparse_figure_output(run, name, fmt=None, caption=None):
    return figure_output(
        sparse_figure(run, name, fmt),
        caption=caption or f"sparse_{name}.rst",
        category=SPARSE_CATEGORY,
        subcategory=run,
        labels={"run": run, "figure": name},
    )


def sparse_outputs():
    """Final outputs of the sparse-coding branch (none when it is disabled)."""
    if not SPARSE["enabled"]:
        return []
    outputs = ["results/sparse/summary.tsv"]
    outputs += [f"results/sparse/provenance/{name}" for name in ("config.yaml", "versions.tsv")]
    outputs += [f"results/sparse/{run}/epochs.tsv" for run in SPARSE_RUNS]
    for run in SPARSE_RUNS:
        outputs += [sparse_figure(run, "atoms"), sparse_figure(run, "animation", "gif")]
    outputs += [
        sparse_figure("comparison", name) for name in ("val_loss", "train_loss", "wiring", "sparsity")
    ]
    return outputs
