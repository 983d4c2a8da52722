"""Moment fits of receptive-field maps recover known Gaussians; the geometry rule."""

import math

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.rf.shape import (
    MomentFit,
    _truncation_factor,
    moment_fit,
    peak_position,
    stimulus_geometry,
)

FRAME_SHAPE = (20, 15)


def _covariance(major, minor, angle_deg):
    """(row, col) covariance of a 1-σ ellipse whose major axis turns ``angle_deg`` from columns towards rows."""
    angle = math.radians(angle_deg)
    direction = np.array([math.sin(angle), math.cos(angle)])  # (row, col) of the major axis
    across = np.array([math.cos(angle), -math.sin(angle)])
    return major**2 * np.outer(direction, direction) + minor**2 * np.outer(across, across)


def _blob(frame_shape, centre, covariance, amplitude=1.0):
    """A sampled 2-D Gaussian, flattened in C order."""
    rows, cols = np.indices(frame_shape, dtype=float)
    offsets = np.stack([rows - centre[0], cols - centre[1]], axis=-1)
    distance = np.einsum("...i,ij,...j->...", offsets, np.linalg.inv(covariance), offsets)
    return (amplitude * np.exp(-0.5 * distance)).reshape(-1)


def _assert_recovered(fit, centre, covariance):
    np.testing.assert_allclose(fit.centre, centre, atol=0.1)
    assert np.linalg.norm(fit.covariance - covariance) <= 0.1 * np.linalg.norm(covariance)
    expected = np.sqrt(np.linalg.eigvalsh(covariance))[::-1]
    np.testing.assert_allclose([fit.major, fit.minor], expected, rtol=0.1)


@pytest.mark.parametrize(
    ("centre", "axes_angle"),
    [((9.3, 7.6), (3.0, 1.5, 30.0)), ((10.0, 7.0), (2.5, 1.2, -50.0)), ((8.7, 6.45), (2.0, 2.0, 0.0)),
     ((11.2, 8.1), (3.2, 1.4, 90.0))],
)
@pytest.mark.parametrize("amplitude", [1.0, -2.5], ids=["ON", "OFF"])
def test_gaussian_blob_is_recovered(centre, axes_angle, amplitude):
    covariance = _covariance(*axes_angle)
    fit = moment_fit(_blob(FRAME_SHAPE, centre, covariance, amplitude), FRAME_SHAPE)
    assert fit.geometry == "grid" and fit.polarity == int(np.sign(amplitude))
    _assert_recovered(fit, centre, covariance)
    major, minor, angle = axes_angle
    if major != minor:  # a circle has no direction
        assert (fit.angle_deg - angle + 90.0) % 180.0 - 90.0 == pytest.approx(0.0, abs=3.0)
    assert fit.ellipse == (fit.major, fit.minor, fit.angle_deg)


@pytest.mark.parametrize("threshold", [0.0, 0.05, 0.2, 0.4])
def test_recovery_holds_over_thresholds(threshold):
    centre, covariance = (9.6, 7.2), _covariance(2.8, 1.6, 20.0)
    fit = moment_fit(_blob(FRAME_SHAPE, centre, covariance), FRAME_SHAPE, threshold=threshold)
    _assert_recovered(fit, centre, covariance)
    assert fit.threshold == threshold


def test_frame_given_as_image_is_the_same_fit():
    blob = _blob(FRAME_SHAPE, (9.3, 7.6), _covariance(3.0, 1.5, 30.0))
    flat, image = moment_fit(blob, FRAME_SHAPE), moment_fit(blob.reshape(FRAME_SHAPE), FRAME_SHAPE)
    np.testing.assert_array_equal(flat.covariance, image.covariance)


def test_without_gaussian_correction_the_cut_shrinks_the_moments():
    covariance = _covariance(2.5, 2.5, 0.0)
    blob = _blob(FRAME_SHAPE, (10.0, 7.0), covariance)
    plain = moment_fit(blob, FRAME_SHAPE, threshold=0.2, gaussian=False)
    corrected = moment_fit(blob, FRAME_SHAPE, threshold=0.2)
    np.testing.assert_allclose(plain.covariance, corrected.covariance * _truncation_factor(0.2, 2))
    assert plain.major < 0.8 * 2.5


@pytest.mark.parametrize("n_dims", [1, 2])
@pytest.mark.parametrize("threshold", [0.05, 0.2, 0.5])
def test_truncation_factor_matches_numerical_integration(n_dims, threshold):
    x = np.linspace(-6.0, 6.0, 2401)
    if n_dims == 1:
        excess = np.maximum(np.exp(-0.5 * x**2) - threshold, 0.0)
        numeric = np.sum(excess * x**2) / np.sum(excess)
    else:
        rows, cols = np.meshgrid(x, x, indexing="ij")
        excess = np.maximum(np.exp(-0.5 * (rows**2 + cols**2)) - threshold, 0.0)
        numeric = np.sum(excess * cols**2) / np.sum(excess)
    assert _truncation_factor(threshold, n_dims) == pytest.approx(numeric, rel=1e-3)
    assert _truncation_factor(0.0, n_dims) == 1.0


@pytest.mark.parametrize("frame_shape", [(1, 40), (40, 1)])
@pytest.mark.parametrize("amplitude", [1.0, -0.7])
@pytest.mark.parametrize(("position", "sigma"), [(17.3, 2.5), (22.55, 1.4)])
def test_bars_one_dimensional_gaussian(frame_shape, amplitude, position, sigma):
    profile = amplitude * np.exp(-0.5 * ((np.arange(40) - position) / sigma) ** 2)
    fit = moment_fit(profile, frame_shape)
    assert fit.geometry == "bars" and fit.polarity == int(np.sign(amplitude))
    assert fit.position == pytest.approx(position, abs=0.1)
    assert fit.width == pytest.approx(sigma, rel=0.1)
    assert fit.minor == 0.0 and fit.major == fit.width
    along = 1 if frame_shape[0] == 1 else 0
    assert fit.centre[along] == pytest.approx(position, abs=0.1) and fit.centre[1 - along] == 0.0
    assert fit.angle_deg == (0.0 if frame_shape[0] == 1 else 90.0)


def test_full_field_has_no_position_or_extent():
    fit = moment_fit([-0.4], (1, 1))
    assert fit.geometry == "full_field" and fit.polarity == -1
    assert np.all(np.isnan(fit.centre)) and np.all(np.isnan(fit.covariance))
    assert all(math.isnan(value) for value in (*fit.ellipse, fit.position, fit.width))


def test_all_zero_map_has_no_polarity():
    fit = moment_fit(np.zeros(300), FRAME_SHAPE)
    assert fit.polarity == 0 and fit.n_pixels == 0 and np.all(np.isnan(fit.centre))
    assert isinstance(fit, MomentFit)


def test_nan_pixels_are_ignored():
    covariance = _covariance(2.0, 1.5, 45.0)
    blob = _blob(FRAME_SHAPE, (10.0, 7.0), covariance)
    blob[0] = np.nan
    _assert_recovered(moment_fit(blob, FRAME_SHAPE), (10.0, 7.0), covariance)


def test_only_the_dominant_sign_counts():
    on = _blob(FRAME_SHAPE, (6.0, 5.0), _covariance(1.5, 1.5, 0.0))
    off = _blob(FRAME_SHAPE, (14.0, 10.0), _covariance(1.5, 1.5, 0.0), amplitude=-0.6)
    fit = moment_fit(on + off, FRAME_SHAPE)
    assert fit.polarity == 1
    np.testing.assert_allclose(fit.centre, (6.0, 5.0), atol=0.1)


def test_peak_position():
    values = np.zeros(FRAME_SHAPE)
    values[3, 4], values[7, 2], values[0, 0] = 0.5, -0.9, np.nan
    assert peak_position(values, FRAME_SHAPE) == (7, 2)
    assert peak_position(values.reshape(-1), FRAME_SHAPE) == (7, 2)
    assert peak_position(np.arange(40.0), (1, 40)) == (0, 39)


@pytest.mark.parametrize(
    ("frame_shape", "geometry"),
    [((1, 1), "full_field"), ((1, 40), "bars"), ((40, 1), "bars"), ((20, 15), "grid"), ((2, 2), "grid"),
     ((np.int64(3), 4.0), "grid")],
)
def test_stimulus_geometry(frame_shape, geometry):
    assert stimulus_geometry(frame_shape) == geometry


@pytest.mark.parametrize("frame_shape", [(0, 4), (3,), (2, 2, 2), (2.5, 3), (True, 3), "ab", 5])
def test_bad_frame_shape_raises(frame_shape):
    with pytest.raises(InputError, match="frame_shape"):
        stimulus_geometry(frame_shape)


def test_bad_input_raises_input_error():
    with pytest.raises(InputError, match="spatial_map: expected shape"):
        moment_fit(np.zeros(299), FRAME_SHAPE)
    with pytest.raises(InputError, match="spatial_map: has no finite values"):
        moment_fit(np.full(300, np.nan), FRAME_SHAPE)
    with pytest.raises(InputError, match="threshold"):
        moment_fit(np.ones(300), FRAME_SHAPE, threshold=1.0)
    with pytest.raises(InputError, match="threshold"):
        moment_fit(np.ones(300), FRAME_SHAPE, threshold=-0.1)
    with pytest.raises(InputError, match="spatial_map: expected real numbers"):
        peak_position(np.array(["a"] * 300), FRAME_SHAPE)
