"""The per-unit STC driver of the workflow: a simulated complex cell on 1-D bars gets
exactly its quadrature pair, a 2-D window is a patch around the RF centre, and a window
too large for the unit is a per-unit note, not an error.
"""

import numpy as np
from scipy.linalg import subspace_angles

from sparsefield.rf.simulate_nonlinear import quadrature_gabors, simulate_complex_cell
from sparsefield.rf.units_stc import UnitsSTC, stc_columns, stc_units, window_pixels

N_LAGS, N_BARS = 6, 12


def test_complex_cell_on_bars_gets_two_excitatory_axes() -> None:
    """Two significant excitatory axes within 15 degrees of the truth; an unfitted unit and
    a unit with too few spikes are notes; the result survives the npz round trip.
    """
    pair = quadrature_gabors(N_LAGS, N_BARS, sigma=2.0, wavelength=5.0, latency=2.0, width=1.0)
    cell = simulate_complex_cell(60000, filters=pair, contrast="gaussian", seed=0)
    sparse = np.zeros_like(cell.counts)
    sparse[::2000] = 1.0  # 30 spikes < 72 dimensions
    counts = np.stack([cell.counts, cell.counts, sparse], axis=1)
    result = stc_units(cell.stimulus, counts, cell.durations, (1, N_BARS),
                       fitted=[True, False, True], centres=np.full((3, 2), np.nan),
                       n_lags=N_LAGS, patch=5, max_dims=400, n_shifts=20, alpha=0.05, seed=1,
                       n_folds=3, unit_ids=[7, 8, 9])
    assert result.analysed.tolist() == [True, False, False]
    assert result.n_excitatory[0] == 2
    recovered = result.excitatory[0, :2].reshape(2, -1).T
    angles = np.degrees(subspace_angles(recovered, pair.reshape(2, -1).T))
    assert angles.max() < 15.0
    columns = stc_columns(result, 0)
    assert columns["stc_n_excitatory"] == 2
    assert columns["stc_sta_below_null"]
    assert columns["bits_per_spike_energy"] > 0.05
    assert result.why[1] == "not fitted"
    assert "unit 9" in result.why[2] and "spikes" in result.why[2]
    again = UnitsSTC.from_npz(result.to_npz_dict())
    np.testing.assert_array_equal(again.excitatory, result.excitatory)


def test_too_many_dimensions_is_a_note_naming_the_key() -> None:
    """A window over stc.max_dims is skipped with a note; nothing is computed."""
    rng = np.random.default_rng(0)
    stimulus = rng.standard_normal((500, 300))
    counts = rng.poisson(1.0, (500, 1)).astype(float)
    result = stc_units(stimulus, counts, np.full(500, 0.2), (20, 15), fitted=[True],
                       centres=[[5.0, 5.0]], n_lags=5, patch=0, max_dims=400, n_shifts=2,
                       alpha=0.05, seed=0, n_folds=3)
    assert not result.analysed[0]
    assert result.why[0] == ("stc: too many dimensions (5 lags x 300 pixels = 1500 > "
                             "stc.max_dims = 400)")
    assert stc_columns(result, 0) == {"stc_why": result.why[0]}


def test_window_pixels_stay_inside_the_frame() -> None:
    """A patch centred on the RF, moved inside the frame at an edge; bars: all of them."""
    grid = np.arange(20 * 15).reshape(20, 15)
    np.testing.assert_array_equal(window_pixels((20, 15), (10.2, 7.0), 3),
                                  grid[9:12, 6:9].ravel())
    np.testing.assert_array_equal(window_pixels((20, 15), (0.0, 14.0), 5),
                                  grid[0:5, 10:15].ravel())
    np.testing.assert_array_equal(window_pixels((1, 24), (0.0, 3.0), 5), np.arange(24))
    np.testing.assert_array_equal(window_pixels((20, 15), None, 0), np.arange(300))
