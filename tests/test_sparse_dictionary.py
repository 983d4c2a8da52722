"""Dictionary learning: kernels against dense references, recovery and learning
against a known generating dictionary.  (Inference is tested in
test_sparse_inference.py.)"""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.sparse import _dictionary_kernels as kernels
from sparsefield.sparse.dictionary import DictionaryRun, LearningSettings, learn_dictionary, recover_atoms


def _unit_columns(matrix):
    return matrix / np.linalg.norm(matrix, axis=0)


def _sparse_data(rng, n_pixels=64, n_atoms=48, n=3000, n_active=3, noise=0.01):
    """Patches from a known unit-norm dictionary (n_pixels, n_atoms) and 3-sparse codes."""
    true = _unit_columns(rng.standard_normal((n_pixels, n_atoms)))
    codes = np.zeros((n, n_atoms))
    for row in codes:
        chosen = rng.choice(n_atoms, n_active, replace=False)
        row[chosen] = rng.uniform(0.5, 1.5, n_active) * rng.choice([-1.0, 1.0], n_active)
    patches = codes @ true.T + noise * rng.standard_normal((n, n_pixels))
    return true, patches / np.linalg.norm(patches, axis=1, keepdims=True)


def _best_match(true, atoms):
    """For each true atom (column), the largest |cosine| with a learned atom (column)."""
    return np.abs(_unit_columns(true).T @ _unit_columns(atoms)).max(axis=1)


def test_accumulate_statistics_matches_dense_products():
    rng = np.random.default_rng(3)
    codes = rng.standard_normal((20, 15)) * (rng.random((20, 15)) < 0.3)
    signals = rng.standard_normal((20, 9))
    usage = rng.standard_normal((15, 15))
    products = rng.standard_normal((15, 9))
    expected_usage = 0.7 * usage + 0.05 * codes.T @ codes
    expected_products = 0.7 * products + 0.05 * codes.T @ signals
    kernels.accumulate_statistics(codes, signals, usage, products, 0.7, 0.05)
    np.testing.assert_allclose(usage, expected_usage, atol=1e-12)
    np.testing.assert_allclose(products, expected_products, atol=1e-12)


def test_block_coordinate_update_matches_a_numpy_reference():
    rng = np.random.default_rng(4)
    atoms = _unit_columns(rng.standard_normal((12, 6))).T.copy()
    codes = rng.standard_normal((40, 6))
    codes[:, 4] = 0.0  # an unused atom
    signals = rng.standard_normal((40, 12))
    usage, products = codes.T @ codes, codes.T @ signals
    expected = atoms.copy()
    for k in range(6):  # Mairal et al. 2010, Algorithm 2, with unit-norm atoms
        if usage[k, k] > kernels.UNUSED:
            update = expected[k] + (products[k] - usage[k] @ expected) / usage[k, k]
            expected[k] = update / np.linalg.norm(update)
    unused = kernels.update_atoms_bcd(atoms, usage, products)
    np.testing.assert_allclose(atoms, expected, atol=1e-12)
    np.testing.assert_array_equal(unused, np.arange(6) == 4)


def test_recover_atoms_inverts_a_known_compression():
    """With Θ = ΦΨ exactly, Ψ = B A⁺ from the correlation codes gives Ψ back."""
    rng = np.random.default_rng(5)
    true, patches = _sparse_data(rng, n_pixels=64, n_atoms=32, n=2000, noise=0.0)
    compression = rng.standard_normal((40, 64)) / np.sqrt(40)
    theta = compression @ true
    theta_rows = (theta / np.linalg.norm(theta, axis=0)).T
    settings = LearningSettings(n_atoms=32, tau=0.01, solver="cd", tol=1e-10, max_iter=2000,
                                normalise_measurements=False)
    pixel_atoms = recover_atoms(patches, patches @ compression.T, theta_rows, settings)
    assert pixel_atoms.shape == (32, 64)
    np.testing.assert_allclose(np.linalg.norm(pixel_atoms, axis=1), 1.0)
    cosine = np.abs(np.sum(pixel_atoms * true.T, axis=1))
    assert cosine.min() > 0.995


# The paper's gradient step (summed over a batch of 100, rate 0.5) moves fast on
# this problem; Mairal's online update with scikit-learn's forgetting factor is
# slower from random atoms (scikit-learn itself: median match 0.78 after 8 epochs
# from the same start) and leaves a few atoms duplicated after 30 epochs.
def test_recovery_matches_the_normalised_measurements():
    """Training codes describe y = Φx / ‖Φx‖, i.e. the patch x / ‖Φx‖: recovering Ψ from
    the unscaled x would regress on a per-patch factor ‖Φx‖ and miss Ψ."""
    rng = np.random.default_rng(8)
    true, patches = _sparse_data(rng, n_pixels=64, n_atoms=32, n=2000, noise=0.0)
    compression = rng.standard_normal((40, 64)) / np.sqrt(40)
    # Start at the truth and barely move: epoch 1's recovery must give the truth back.
    settings = LearningSettings(n_atoms=32, tau=0.01, n_epochs=1, update="gradient", learning_rate=1e-12,
                                solver="cd", tol=1e-10, max_iter=2000, normalise_measurements=True)
    run = learn_dictionary(patches, settings, compression=compression, correlation=patches,
                           initial_atoms=true)
    cosine = np.abs(np.sum(run.phi[0] * true, axis=0))
    # Measured: 1 - cos <= 4e-6 (the small penalty's shrinkage); from unscaled x, 7e-4.
    assert 1.0 - cosine.min() < 1e-4


@pytest.mark.parametrize(("update", "n_epochs", "matched"), [("online", 30, 0.75), ("gradient", 12, 0.95)])
@pytest.mark.parametrize("compressed", [False, True])
def test_learning_recovers_the_generating_dictionary(update, n_epochs, matched, compressed):
    rng = np.random.default_rng(6)
    true, patches = _sparse_data(rng, n=5000)
    compression = rng.standard_normal((40, 64)) / np.sqrt(40) if compressed else None
    settings = LearningSettings(n_atoms=48, tau=0.05, n_epochs=n_epochs, batch_size=100, update=update,
                                learning_rate=0.5, decay=0.95, seed=1)
    run = learn_dictionary(patches[:3000], settings, compression=compression,
                           validation=patches[3000:4000], correlation=patches[4000:])
    assert run.phi.shape == (n_epochs, 64, 48)
    np.testing.assert_allclose(np.linalg.norm(run.phi[-1], axis=0), 1.0)
    match = _best_match(true, run.phi[-1])
    assert np.median(match) > 0.99
    assert np.mean(match > 0.95) > matched
    # Starting from random atoms, the validation loss falls.
    assert run.val_loss[-1] < run.val_loss[0]
    assert np.all(np.diff(run.time) > 0)
    # Sparse codes beat the dense PCA code with as many numbers.
    assert run.val_error[-1] < run.pca_error[-1]
    assert 2.0 < run.n_active[-1] < 6.0


def test_learning_is_deterministic_given_the_seed_and_round_trips_through_npz(tmp_path):
    rng = np.random.default_rng(7)
    _, patches = _sparse_data(rng, n=800)
    settings = LearningSettings(n_atoms=20, tau=0.05, n_epochs=2, batch_size=64, seed=3)
    first = learn_dictionary(patches[:600], settings, validation=patches[600:])
    second = learn_dictionary(patches[:600], settings, validation=patches[600:])
    for name in DictionaryRun.EPOCH_COLUMNS + ("phi", "theta", "codes"):
        if name != "time":
            np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    np.savez(tmp_path / "run.npz", **first.to_npz_dict())
    with np.load(tmp_path / "run.npz", allow_pickle=False) as stored:
        again = DictionaryRun.from_npz(stored)
    np.testing.assert_array_equal(again.phi, first.phi)
    table = first.epoch_table()
    assert list(table["epoch"]) == [1, 2]
    assert list(table.columns[1:]) == [name for name in DictionaryRun.EPOCH_COLUMNS if name != "time"]


def test_bad_settings_and_inputs_name_the_problem():
    with pytest.raises(InputError, match="tau"):
        LearningSettings(tau=-0.1)
    with pytest.raises(InputError, match="solver"):
        LearningSettings(solver="lars")
    with pytest.raises(InputError, match="update"):
        LearningSettings(update="sgd")
    patches = np.ones((10, 16))
    with pytest.raises(InputError, match="correlation"):
        learn_dictionary(patches, LearningSettings(n_atoms=4), compression=np.ones((8, 16)))
    with pytest.raises(InputError, match="compression"):
        learn_dictionary(patches, LearningSettings(n_atoms=4), compression=np.ones((8, 9)), correlation=patches)
