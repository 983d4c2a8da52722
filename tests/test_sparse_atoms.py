"""Shape metrics of atoms and code sparsity, against known answers and brute force."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from sparsefield.errors import InputError
from sparsefield.sparse.atoms import (
    LOCALISATION_THRESHOLD,
    ORIENTATION_THRESHOLD,
    atom_localisation,
    atom_orientation,
    atom_summary,
    code_sparsity,
    white_noise_null,
)

P = 16
WAVELENGTH = P / 3.0
SIGMA = P / 6.0


def _grid(shape):
    """Display coordinates of the pixel centres: x to the right, y up."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    return cols, -rows


def gabor(centre, orientation, shape=(P, P), wavelength=WAVELENGTH, sigma=SIGMA, phase=0.0):
    """A unit-norm Gabor (pixels in raster order) whose stripes run at ``orientation``.

    ``centre`` is (row, col); ``orientation`` is counter-clockwise from the
    horizontal as displayed (row 0 on top), so the wave vector points at
    ``orientation + pi / 2``.
    """
    x, y = _grid(shape)
    x, y = x - centre[1], y + centre[0]
    across = -x * np.sin(orientation) + y * np.cos(orientation)
    atom = np.exp(-(x**2 + y**2) / (2.0 * sigma**2)) * np.cos(2.0 * np.pi * across / wavelength + phase)
    return (atom / np.linalg.norm(atom)).ravel()


def plane_wave(orientation, shape=(P, P), wavelength=WAVELENGTH, phase=0.3):
    return gabor(((shape[0] - 1) / 2, (shape[1] - 1) / 2), orientation, shape, wavelength, sigma=np.inf, phase=phase)


def blob(shape=(P, P), sigma=SIGMA, centre=None):
    centre = ((shape[0] - 1) / 2, (shape[1] - 1) / 2) if centre is None else centre
    x, y = _grid(shape)
    atom = np.exp(-((x - centre[1]) ** 2 + (y + centre[0]) ** 2) / (2.0 * sigma**2))
    return (atom / np.linalg.norm(atom)).ravel()


def _angle_error(a, b):
    """Smallest difference between two axial angles (period pi), radians."""
    return np.abs(np.angle(np.exp(2j * (np.asarray(a) - np.asarray(b))))) / 2.0


@pytest.fixture(scope="module")
def gabors():
    """60 Gabors at random positions (kept inside the patch), orientations and phases."""
    rng = np.random.default_rng(3)
    orientations = rng.uniform(0.0, np.pi, 60)
    centres = rng.uniform(4.0, P - 5.0, (60, 2))
    phases = rng.uniform(0.0, 2.0 * np.pi, 60)
    atoms = np.stack([gabor(c, o, phase=f) for c, o, f in zip(centres, orientations, phases)], axis=1)
    return atoms, orientations


# --------------------------------------------------------------------------
# known answers


def test_gabors_are_localised_and_oriented_with_the_right_orientation(gabors):
    atoms, orientations = gabors
    summary = atom_summary(atoms, P)
    assert summary.fraction_gabor_like == 1.0
    assert summary.localisation.min() > 0.8
    assert summary.selectivity.min() > 0.8
    assert np.degrees(_angle_error(summary.orientation, orientations)).max() < 3.0
    assert np.all((summary.orientation >= 0.0) & (summary.orientation < np.pi))


def test_white_noise_atoms_are_neither_localised_nor_oriented():
    atoms = np.random.default_rng(7).standard_normal((P * P, 2000))
    summary = atom_summary(atoms, (P, P))
    assert summary.fraction_localised == 0.0
    assert summary.fraction_oriented == 0.0
    assert summary.fraction_gabor_like == 0.0
    # the disc of radius p/4 covers pi/16 of the patch; noise spreads evenly
    assert summary.median_localisation == pytest.approx(math.pi / 16, abs=0.02)
    assert summary.median_selectivity < 0.1


def test_plane_wave_is_oriented_but_not_localised():
    orientations = np.array([0.0, 0.4, np.pi / 4, 2.0, 3.0])
    atoms = np.stack([plane_wave(angle) for angle in orientations], axis=1)
    summary = atom_summary(atoms, P)
    assert np.all(summary.oriented) and not np.any(summary.localised)
    assert summary.selectivity.min() > 0.8  # not 1: the patch edges spread the spectrum
    assert summary.localisation.max() < 0.3
    assert np.degrees(_angle_error(summary.orientation, orientations)).max() < 3.0


def test_centred_blob_is_localised_but_not_oriented():
    summary = atom_summary(blob()[:, None], P)
    assert summary.localised[0] and not summary.oriented[0]
    # energy exp(-d^2 / sigma^2) holds 1 - exp(-r^2 / sigma^2) within radius r
    assert summary.localisation[0] == pytest.approx(1.0 - math.exp(-((P / 4) ** 2) / SIGMA**2), abs=0.03)
    # a round blob looks the same after a 90 degree turn: no orientation at all
    assert summary.selectivity[0] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("p", [15, 16])
def test_ninety_degree_symmetric_atoms_have_zero_selectivity(p):
    """Exact for the square grid: checks the half-spectrum weighting (odd and even sizes)."""
    x, y = _grid((p, p))
    x, y = x - (p - 1) / 2, y + (p - 1) / 2
    cross = np.exp(-(x**2) / 2.0) + np.exp(-(y**2) / 2.0)  # a plus sign
    atoms = np.stack([blob((p, p)), cross.ravel()], axis=1)
    _, selectivity = atom_orientation(atoms, p)
    np.testing.assert_allclose(selectivity, 0.0, atol=1e-9)


@pytest.mark.parametrize(
    "expected, values",
    [
        (0.0, lambda rows, cols: np.cos(2 * np.pi * rows / 4)),  # horizontal stripes
        (np.pi / 2, lambda rows, cols: np.cos(2 * np.pi * cols / 4)),  # vertical stripes
        (np.pi / 4, lambda rows, cols: np.cos(2 * np.pi * (rows + cols) / 6)),  # "/" as displayed
        (3 * np.pi / 4, lambda rows, cols: np.cos(2 * np.pi * (rows - cols) / 6)),  # "\" as displayed
    ],
)
def test_orientation_convention(expected, values):
    rows, cols = np.mgrid[0:P, 0:P].astype(float)
    orientation, selectivity = atom_orientation(values(rows, cols).reshape(-1, 1), P)
    assert _angle_error(orientation[0], expected) < np.radians(1.0)
    assert selectivity[0] > 0.8


def test_metrics_ignore_sign_and_scale(gabors):
    atoms = gabors[0][:, :5]
    scaled = atoms * np.array([-3.0, 0.01, 1.0, -1.0, 7.0])
    np.testing.assert_allclose(atom_localisation(scaled, P), atom_localisation(atoms, P))
    for got, want in zip(atom_orientation(scaled, P), atom_orientation(atoms, P)):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_all_zero_atom_gives_nan_and_counts_as_neither():
    atoms = np.stack([np.zeros(P * P), gabor((7.5, 7.5), 1.0)], axis=1)
    summary = atom_summary(atoms, P)
    assert np.isnan(summary.localisation[0]) and np.isnan(summary.selectivity[0])
    assert np.isnan(summary.orientation[0])
    assert summary.localised.tolist() == [False, True] and summary.oriented.tolist() == [False, True]
    assert summary.fraction_gabor_like == 0.5
    assert summary.median_localisation == pytest.approx(summary.localisation[1])


# --------------------------------------------------------------------------
# against brute force (independent, slow implementations)


def _localisation_brute_force(atom, shape, radius):
    image = atom.reshape(shape)
    energy = image**2
    total = energy.sum()
    row_c = sum(r * energy[r, c] for r in range(shape[0]) for c in range(shape[1])) / total
    col_c = sum(c * energy[r, c] for r in range(shape[0]) for c in range(shape[1])) / total
    inside = sum(
        energy[r, c]
        for r in range(shape[0])
        for c in range(shape[1])
        if (r - row_c) ** 2 + (c - col_c) ** 2 <= radius**2
    )
    return inside / total


def _orientation_brute_force(atom, shape):
    """Full (not half) spectrum, angles from explicit frequency vectors."""
    padded = (4 * shape[0] + 1, 4 * shape[1] + 1)
    power = np.abs(np.fft.fft2(atom.reshape(shape), s=padded)) ** 2
    resultant, total = 0.0, 0.0
    for i in range(padded[0]):
        for j in range(padded[1]):
            if i == 0 and j == 0:
                continue
            fy = -np.fft.fftfreq(padded[0])[i]
            fx = np.fft.fftfreq(padded[1])[j]
            resultant += power[i, j] * np.exp(2j * math.atan2(fy, fx))
            total += power[i, j]
    resultant /= total
    return (np.angle(resultant) / 2 + np.pi / 2) % np.pi, abs(resultant)


@pytest.mark.parametrize("shape", [(6, 10), (7, 5)])
def test_metrics_match_brute_force_on_non_square_patches(shape):
    atoms = np.random.default_rng(11).standard_normal((shape[0] * shape[1], 3))
    atoms[:, 2] = gabor((2.0, 2.5), 0.7, shape, wavelength=3.0, sigma=1.5)
    radius = 0.3 * min(shape)
    expected = [_localisation_brute_force(atoms[:, k], shape, radius) for k in range(3)]
    np.testing.assert_allclose(atom_localisation(atoms, shape, radius_fraction=0.3), expected, rtol=1e-12)
    orientation, selectivity = atom_orientation(atoms, shape)
    for k in range(3):
        want_orientation, want_selectivity = _orientation_brute_force(atoms[:, k], shape)
        assert selectivity[k] == pytest.approx(want_selectivity, rel=1e-9)
        assert _angle_error(orientation[k], want_orientation) < 1e-9


# --------------------------------------------------------------------------
# thresholds against the white-noise null


def test_default_thresholds_sit_far_above_the_white_noise_null_and_below_gabors(gabors):
    localisation, selectivity = white_noise_null(P, n_atoms=5000, seed=0)
    assert localisation.shape == selectivity.shape == (5000,)
    assert np.quantile(localisation, 0.999) < LOCALISATION_THRESHOLD - 0.1
    assert np.quantile(selectivity, 0.999) < ORIENTATION_THRESHOLD - 0.2
    assert localisation.mean() == pytest.approx(0.20, abs=0.01)
    summary = atom_summary(gabors[0], P)
    assert summary.localisation.min() > LOCALISATION_THRESHOLD + 0.3
    assert summary.selectivity.min() > ORIENTATION_THRESHOLD + 0.3


def test_white_noise_null_is_reproducible():
    first = white_noise_null((8, 8), n_atoms=200, seed=5)
    second = white_noise_null(8, n_atoms=200, seed=5)
    other = white_noise_null(8, n_atoms=200, seed=6)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_summary_to_dict_is_plain_scalars(gabors):
    summary = atom_summary(gabors[0], P, localisation_threshold=0.6, orientation_threshold=0.7)
    numbers = summary.to_dict()
    assert numbers["n_atoms"] == 60 and numbers["fraction_gabor_like"] == 1.0
    assert numbers["localisation_threshold"] == 0.6 and numbers["orientation_threshold"] == 0.7
    assert numbers["median_selectivity"] == pytest.approx(np.median(summary.selectivity))
    assert set(numbers) == {
        "n_atoms", "fraction_localised", "fraction_oriented", "fraction_gabor_like", "median_localisation",
        "median_selectivity", "localisation_threshold", "orientation_threshold", "radius_fraction",
    }
    json.dumps(numbers)


# --------------------------------------------------------------------------
# code sparsity


def test_code_sparsity_known_answers():
    codes = np.zeros((4, 5))
    codes[0, 0], codes[1, 2], codes[1, 3], codes[3, 4] = 2.0, -1.0, 0.5, 0.01
    sparsity = code_sparsity(codes)
    assert sparsity.n_patches == 4 and sparsity.n_atoms == 5
    assert sparsity.fraction_nonzero == pytest.approx(4 / 20)
    assert sparsity.mean_active == pytest.approx(1.0)
    assert sparsity.mean_abs == pytest.approx(3.51 / 20)
    assert sparsity.kurtosis == pytest.approx(stats.kurtosis(codes.ravel(), fisher=True))
    with_tolerance = code_sparsity(codes, tolerance=0.1)
    assert with_tolerance.fraction_nonzero == pytest.approx(3 / 20)
    assert with_tolerance.mean_abs == sparsity.mean_abs  # magnitudes are not thresholded
    assert set(sparsity.to_dict()) == {"n_patches", "n_atoms", "fraction_nonzero", "mean_active", "mean_abs",
                                       "kurtosis"}


def test_code_sparsity_kurtosis_separates_gaussian_from_sparse_codes():
    rng = np.random.default_rng(0)
    gaussian = code_sparsity(rng.standard_normal((2000, 50)))
    sparse = code_sparsity(rng.laplace(size=(2000, 50)) * (rng.random((2000, 50)) < 0.05))
    assert gaussian.fraction_nonzero == 1.0 and abs(gaussian.kurtosis) < 0.1
    assert sparse.fraction_nonzero == pytest.approx(0.05, abs=0.005)
    assert sparse.kurtosis > 50.0


def test_code_sparsity_of_all_zero_codes():
    sparsity = code_sparsity(np.zeros((3, 4)))
    assert sparsity.fraction_nonzero == 0.0 and sparsity.mean_abs == 0.0
    assert math.isnan(sparsity.kurtosis)


# --------------------------------------------------------------------------
# bad input

ATOMS = np.random.default_rng(0).standard_normal((P * P, 3))

BAD_CALLS = {
    "atoms": lambda: atom_localisation(ATOMS[:-1], P),
    "atoms ": lambda: atom_orientation(np.zeros((P * P, 0)), P),
    "atoms  ": lambda: atom_summary(np.where(np.eye(P * P, 3) > 0, np.nan, ATOMS), P),
    "atoms   ": lambda: atom_orientation(ATOMS.ravel(), P),
    "patch_shape": lambda: atom_localisation(ATOMS, (P, P, 1)),
    "patch_shape ": lambda: atom_orientation(ATOMS, (16.0, 16)),
    "patch_shape  ": lambda: white_noise_null((0, 4)),
    "radius_fraction": lambda: atom_localisation(ATOMS, P, radius_fraction=0.0),
    "radius_fraction ": lambda: atom_summary(ATOMS, P, radius_fraction=1.5),
    "localisation_threshold": lambda: atom_summary(ATOMS, P, localisation_threshold=1.1),
    "orientation_threshold": lambda: atom_summary(ATOMS, P, orientation_threshold=-0.1),
    "n_atoms": lambda: white_noise_null(P, n_atoms=0),
    "codes": lambda: code_sparsity(np.ones(5)),
    "codes ": lambda: code_sparsity(np.zeros((0, 4))),
    "codes  ": lambda: code_sparsity(np.array([[1.0, np.inf]])),
    "tolerance": lambda: code_sparsity(np.ones((2, 2)), tolerance=-1.0),
}


@pytest.mark.parametrize("argument", sorted(BAD_CALLS))
def test_bad_input_raises_input_error_naming_the_argument(argument):
    with pytest.raises(InputError) as raised:
        BAD_CALLS[argument]()
    assert raised.value.source == argument.strip()
