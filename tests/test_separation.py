"""Tests for sparsefield.rf.separation: rank-1 SVD separation with planted truth."""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.rf.separation import Separation, separate


def planted(seed=0):
    """Temporal (5,) and unit-norm spatial (300,) profiles of a known separable RF."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:20, :15]
    spatial = np.exp(-((rows - 12) ** 2 + (cols - 4) ** 2) / 4.0).ravel()
    spatial -= 0.2 * np.exp(-((rows - 12) ** 2 + (cols - 4) ** 2) / 30.0).ravel()
    spatial /= np.linalg.norm(spatial)
    temporal = np.array([1.0, 0.6, -0.3, -0.1, 0.05])
    return temporal, spatial, rng


def test_exact_rank_one_is_reproduced():
    temporal, spatial, _ = planted()
    matrix = np.outer(temporal, spatial)
    result = separate(matrix)
    np.testing.assert_allclose(np.outer(result.temporal, result.spatial), matrix, atol=1e-12)
    np.testing.assert_allclose(result.spatial, spatial, atol=1e-12)
    np.testing.assert_allclose(result.temporal, temporal, atol=1e-12)
    assert result.singular_value == pytest.approx(np.linalg.norm(temporal))
    assert result.explained == pytest.approx(1.0)
    assert result.centering == "none"


def test_planted_rank_one_with_noise_is_recovered():
    temporal, spatial, rng = planted(1)
    matrix = np.outer(temporal, spatial) + rng.normal(0.0, 0.002, (5, 300))
    result = separate(matrix)
    assert np.corrcoef(result.spatial, spatial)[0, 1] > 0.99
    assert np.corrcoef(result.temporal, temporal)[0, 1] > 0.99
    assert result.explained > 0.95
    assert np.linalg.norm(result.spatial) == pytest.approx(1.0)
    assert np.linalg.norm(result.temporal) == pytest.approx(result.singular_value)


def test_sign_convention_largest_spatial_entry_positive():
    temporal, spatial, _ = planted()
    # an OFF-centre cell: flip the spatial profile; the sign moves to temporal
    result = separate(np.outer(temporal, -spatial))
    peak = np.argmax(np.abs(result.spatial))
    assert result.spatial[peak] > 0
    np.testing.assert_allclose(result.spatial, spatial, atol=1e-12)
    np.testing.assert_allclose(result.temporal, -temporal, atol=1e-12)
    # flipping the whole matrix gives the same spatial profile
    np.testing.assert_allclose(
        separate(-np.outer(temporal, spatial)).spatial, spatial, atol=1e-12
    )


def test_centerings():
    temporal, spatial, rng = planted(2)
    offset_per_pixel = rng.normal(0.0, 1.0, 300)
    matrix = np.outer(temporal, spatial) + offset_per_pixel  # same offset at every lag
    pixel = separate(matrix, centering="pixel")
    centred_truth = np.outer(temporal - temporal.mean(), spatial)
    np.testing.assert_allclose(np.outer(pixel.temporal, pixel.spatial), centred_truth, atol=1e-10)
    assert pixel.explained == pytest.approx(1.0)
    assert pixel.centering == "pixel"

    shifted = np.outer(temporal, spatial) + 3.0
    global_ = separate(shifted, centering="global")
    centred = shifted - shifted.mean()
    total = np.sum(centred**2)
    assert global_.explained == pytest.approx(global_.singular_value**2 / total)
    assert global_.singular_value == pytest.approx(np.linalg.svd(centred, compute_uv=False)[0])
    # without centring the constant dominates: the spatial profile is nearly flat
    flat = np.ones(300) / np.sqrt(300)
    assert separate(shifted).spatial @ flat > 0.99


def test_bad_inputs():
    with pytest.raises(InputError, match="centering: must be one of"):
        separate(np.ones((2, 3)), centering="column")
    with pytest.raises(InputError, match=r"matrix: expected a 2-D array, got shape \(3,\)"):
        separate(np.ones(3))
    with pytest.raises(InputError, match="NaN"):
        separate(np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize("matrix, centering", [(np.zeros((5, 4)), "none"),
                                                (np.ones((1, 3)), "pixel")])
def test_nothing_to_separate_gives_zeros_not_an_error(matrix, centering):
    result = separate(matrix, centering=centering)
    assert result.spatial.shape == (matrix.shape[1],)
    assert result.temporal.shape == (matrix.shape[0],)
    assert not result.spatial.any() and not result.temporal.any()
    assert result.singular_value == 0.0 and np.isnan(result.explained)


def test_npz_round_trip(tmp_path):
    temporal, spatial, _ = planted()
    result = separate(np.outer(temporal, spatial), centering="global")
    np.savez(tmp_path / "separation.npz", **result.to_npz_dict())
    with np.load(tmp_path / "separation.npz", allow_pickle=False) as npz:
        restored = Separation.from_npz(npz)
    np.testing.assert_array_equal(restored.spatial, result.spatial)
    np.testing.assert_array_equal(restored.temporal, result.temporal)
    assert restored.singular_value == result.singular_value
    assert restored.explained == result.explained
    assert restored.centering == "global"
    assert isinstance(restored.centering, str)
