"""The sparse-coding branch in the tiny workflow run (conftest.TINY["sparse"])."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import TINY

pytestmark = pytest.mark.workflow

SPARSE = TINY["sparse"]
RUNS = [
    f"{scheme}-J{j}-{solver}"
    for scheme in SPARSE["runs"]["schemes"]
    for j in (SPARSE["runs"]["localization"] if scheme in ("bdm", "brm") else [1])
    for solver in SPARSE["runs"]["solvers"]
]


def test_every_run_writes_its_dictionary_table_and_figures(tiny_run):
    size = SPARSE["patches"]["size"]
    n_atoms = SPARSE["learning"]["n_atoms"]
    n_epochs = SPARSE["learning"]["n_epochs"]
    for run in RUNS:
        with np.load(tiny_run / f"results/sparse/{run}/dictionary.npz", allow_pickle=False) as arrays:
            assert arrays["phi"].shape == (n_epochs, size * size, n_atoms)
            np.testing.assert_allclose(np.linalg.norm(arrays["phi"][-1], axis=0), 1.0)
            for key in ("time", "train_loss", "val_loss"):
                assert arrays[key].shape == (n_epochs,)
                assert np.all(np.isfinite(arrays[key]))
            assert np.all(np.diff(arrays["time"]) > 0)
        epochs = pd.read_csv(tiny_run / f"results/sparse/{run}/epochs.tsv", sep="\t")
        assert list(epochs["epoch"]) == list(range(1, n_epochs + 1))
        for column in ("train_loss", "val_loss", "pca_error", "fraction_nonzero", "mean_abs_code", "kurtosis"):
            assert epochs[column].notna().all()
        assert (tiny_run / f"results/figures/sparse/{run}/atoms.png").stat().st_size > 0
        with Image.open(tiny_run / f"results/figures/sparse/{run}/animation.gif") as gif:
            assert gif.n_frames == n_epochs
    for name in ("val_loss", "train_loss", "wiring", "sparsity"):
        assert (tiny_run / f"results/figures/sparse/comparison/{name}.png").stat().st_size > 0


def test_summary_has_one_row_per_run_with_atom_shapes(tiny_run):
    summary = pd.read_csv(tiny_run / "results/sparse/summary.tsv", sep="\t")
    assert list(summary["run"]) == RUNS
    assert summary["fraction_gabor_like"].between(0, 1).all()
    # Three epochs from random atoms: the held-out loss already falls for every run.
    assert (summary["val_loss"] < summary["val_loss_first"]).all()
    assert "time" not in summary.columns  # wall clock stays out of the byte-stable tables


def test_compression_matrices_have_the_configured_shape(tiny_run):
    n_pixels = SPARSE["patches"]["size"] ** 2
    m = SPARSE["compression"]["n_measurements"]
    for run in RUNS:
        scheme, j = run.split("-")[:2]
        with np.load(tiny_run / f"results/sparse/compression/{scheme}-{j}.npz", allow_pickle=False) as arrays:
            assert arrays["phi"].shape == ((n_pixels, n_pixels) if scheme == "none" else (m, n_pixels))
