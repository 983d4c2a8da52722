"""Gabor fits of session maps and dictionary atoms as tables, and the comparison of the two
(sparsefield.gabor_table, sparsefield.gabor_compare, sparsefield.plots.gabor)."""

import numpy as np
import pytest
from scipy import stats
from test_plots_geometry import assert_clean_layout

from sparsefield.errors import InputError
from sparsefield.gabor_compare import (
    comparison_rows,
    energy_distance,
    energy_distance_interval,
    last_epoch,
    ringach_points,
)
from sparsefield.gabor_table import (
    FULL_FIELD,
    NO_MAP,
    GaborTable,
    atom_gabor_summary,
    fit_atoms,
    fit_unit_maps,
    fitted_epochs,
    truth_errors,
    unit_columns,
)
from sparsefield.rf.neuron import NeuronModel

SHAPE = (20, 15)


def _gabor(orientation, wavelength, row=9.0, col=7.0, sigma=2.2, phase=30.0, shape=SHAPE):
    return NeuronModel(kind="gabor", center_row=row, center_col=col, sigma=sigma,
                       orientation=orientation, wavelength=wavelength,
                       phase=phase).spatial_map(shape)


def _centre_surround(row, col, shape=SHAPE):
    return NeuronModel(kind="center_surround", center_row=row, center_col=col, sigma=1.3,
                       surround_ratio=2.5, surround_weight=0.7).spatial_map(shape)


@pytest.fixture(scope="module")
def session_maps():
    """Six Gabor and four centre-surround unit maps at a peak SNR of 20, with
    unit ids that are not positions, and what each should give (at a peak SNR of 10 the
    R^2 of a 20 x 15 map, mostly background, is about 0.75: not "well fitted")."""
    rng = np.random.default_rng(4)
    gabors = [(15.0, 5.5), (45.0, 7.0), (80.0, 6.0), (110.0, 7.5), (150.0, 5.0), (175.0, 6.5)]
    maps = [_gabor(theta, wavelength, phase=rng.uniform(0, 360)) for theta, wavelength in gabors]
    maps += [_centre_surround(row, col) for row, col in ((5, 4), (14, 10), (9, 7), (15, 4))]
    maps = np.array(maps)
    maps += rng.normal(0.0, np.abs(maps).max(axis=1, keepdims=True) / 20.0, maps.shape)
    ids = np.array([3, 8, 11, 20, 21, 40, 41, 57, 60, 99])
    return maps, ids, gabors


def test_unit_maps_recover_gabor_orientation_and_frequency_and_pick_gaussian_for_dog(
        session_maps):
    maps, ids, gabors = session_maps
    table = fit_unit_maps(maps, SHAPE, ids, pixel_size_deg=0.5)
    assert table.ids.tolist() == ids.tolist() and table.dims == 2
    assert (table.epoch == 0).all()
    for row, (theta, wavelength) in enumerate(gabors):
        errors = truth_errors(table.orientation[row], table.frequency[row], theta, wavelength)
        assert table.model[row] == "gabor" and table.well_fitted[row]
        assert errors["truth_gabor_orientation_error_deg"] < 10.0, (theta, table.orientation[row])
        assert abs(errors["truth_gabor_sf_relative_error"]) < 0.1
        assert table.null_r2[row] < table.r2[row]
    assert (table.model[6:] == "gaussian").all() and not table.well_fitted[6:].any()
    # cycles per degree: cycles per pixel over degrees per pixel
    np.testing.assert_allclose(table.frequency_deg, table.frequency / 0.5)
    np.testing.assert_allclose(table.aspect, table.sigma_y / table.sigma_x)
    np.testing.assert_allclose(table.n_x, table.sigma_x * table.frequency)


def test_bad_maps_are_flagged_and_the_others_fitted(session_maps):
    maps, ids, _ = session_maps
    bad = maps[:4].copy()
    bad[1] = 0.0               # a lasso fit that kept no weight
    bad[2, 17] = np.nan        # one NaN pixel
    bad[3] = np.nan            # a unit that was not fitted
    table = fit_unit_maps(bad, SHAPE, ids[:4])
    assert table.model.tolist() == ["gabor", "none", "none", "none"]
    assert table.why[0] == "" and "zero" in table.why[1] and "NaN" in table.why[2]
    assert table.why[3] == NO_MAP
    assert np.isnan(table.r2[1:]).all() and not table.well_fitted[1:].any()
    # a frame smaller than 3 x 3: every map flagged, nothing raised
    tiny = fit_unit_maps(np.ones((2, 4)) + np.arange(4), (2, 2), [5, 6])
    assert (tiny.model == "none").all() and all("3 x 3" in why for why in tiny.why)


def test_bars_get_the_1d_gabor_and_full_field_is_flagged():
    width = 30
    profile = _gabor(0.0, 6.0, row=0.0, col=14.0, sigma=3.0, shape=(1, width))
    flat = np.vstack([profile, np.zeros(width)])
    table = fit_unit_maps(flat, (1, width), [1, 2])
    assert table.dims == 1 and table.model[0] == "gabor"
    assert abs(table.frequency[0] * 6.0 - 1.0) < 0.1
    assert np.isnan(table.orientation).all() and np.isnan(table.n_y).all()
    assert table.n_x[0] == pytest.approx(table.sigma_x[0] * table.frequency[0])
    assert "zero" in table.why[1]
    full = fit_unit_maps(np.ones((3, 1)), (1, 1), [1, 2, 3])
    assert full.dims == 0 and (full.model == "none").all() and (full.why == FULL_FIELD).all()


def test_unit_maps_name_what_does_not_fit():
    with pytest.raises(InputError, match="spatial.*301 pixels per map"):
        fit_unit_maps(np.zeros((2, 301)), SHAPE, [1, 2])
    with pytest.raises(InputError, match="unit_ids"):
        fit_unit_maps(np.zeros((2, 300)), SHAPE, [1])
    with pytest.raises(InputError, match="r2_threshold"):
        fit_unit_maps(np.zeros((1, 300)), SHAPE, [1], r2_threshold=1.5)
    with pytest.raises(InputError, match="pixel_size_deg"):
        fit_unit_maps(np.zeros((1, 300)), SHAPE, [1], pixel_size_deg=0.0)


def test_table_round_trips_through_npz(session_maps, tmp_path):
    maps, ids, _ = session_maps
    table = fit_unit_maps(maps[:3], SHAPE, ids[:3], pixel_size_deg=0.25)
    np.savez(tmp_path / "gabor.npz", **table.to_npz_dict())
    with np.load(tmp_path / "gabor.npz", allow_pickle=False) as arrays:
        back = GaborTable.from_npz(arrays)
    assert back.frame_shape == SHAPE and back.pixel_size_deg == 0.25
    np.testing.assert_array_equal(back.model, table.model)
    np.testing.assert_array_equal(back.r2, table.r2)


@pytest.mark.parametrize("n_epochs, every, expected",
                         [(10, 10, [10]), (25, 10, [10, 20, 25]), (3, 0, [3]), (4, 1, [1, 2, 3, 4])])
def test_fitted_epochs(n_epochs, every, expected):
    assert fitted_epochs(n_epochs, every).tolist() == expected


def test_atoms_are_fitted_per_epoch_with_their_indices():
    rng = np.random.default_rng(1)
    gabor = _gabor(60.0, 5.0, row=7.5, col=7.5, sigma=2.0, shape=(16, 16))
    phi = rng.normal(size=(3, 256, 4))
    phi[:, :, 0] = gabor
    table = fit_atoms(phi, (16, 16), epochs_every=2)
    assert table.epoch.tolist() == [2] * 4 + [3] * 4
    assert table.ids.tolist() == [0, 1, 2, 3] * 2
    assert table.well_fitted.tolist() == [True, False, False, False] * 2
    summary = atom_gabor_summary(table)
    assert summary["gabor_epoch"] == 3 and summary["n_well_fitted"] == 1
    assert summary["fraction_well_fitted"] == 0.25
    assert len(last_epoch(table)) == 4


def test_truth_errors_wrap_orientation_and_columns_carry_them(session_maps):
    assert truth_errors(179.0, 0.2, 1.0, 5.0)["truth_gabor_orientation_error_deg"] == \
        pytest.approx(2.0)
    assert truth_errors(10.0, 0.22, 370.0, 5.0)["truth_gabor_sf_relative_error"] == \
        pytest.approx(0.1)
    maps, ids, gabors = session_maps
    table = fit_unit_maps(maps[[0, 6]], SHAPE, ids[[0, 6]])
    truth = {int(ids[0]): {"model_kind": np.str_("gabor"), "model_orientation": gabors[0][0],
                           "model_wavelength": gabors[0][1]},
             int(ids[6]): {"model_kind": np.str_("center_surround")}}
    columns = unit_columns(table, truth)
    assert columns[int(ids[0])]["truth_gabor_orientation_error_deg"] < 10.0
    assert "truth_gabor_orientation_error_deg" not in columns[int(ids[6])]
    assert columns[int(ids[6])]["gabor_model"] == "gaussian"
    assert np.isnan(columns[int(ids[6])]["gabor_sf_cpd"])  # no pixel size given


def test_energy_distance_v_statistic_is_scipy_s_squared_and_u_removes_self_pairs():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=40), rng.normal(0.7, 1.0, size=25)
    v = energy_distance(x[:, None], y[:, None], unbiased=False)
    assert v == pytest.approx(stats.energy_distance(x, y) ** 2)
    # V averages n zero self-distances into each within-sample mean: U = V - Wx/n - Wy/m
    wx = np.abs(x[:, None] - x[None, :]).sum() / (40 * 39)
    wy = np.abs(y[:, None] - y[None, :]).sum() / (25 * 24)
    assert energy_distance(x[:, None], y[:, None]) == pytest.approx(v - wx / 40 - wy / 25)
    points = rng.normal(size=(30, 2))
    assert energy_distance(points, points, unbiased=False) == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(energy_distance(np.zeros((0, 2)), points))


def test_energy_interval_is_seeded_and_separates_different_samples():
    rng = np.random.default_rng(3)
    same = energy_distance_interval(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)),
                                    n_bootstrap=200, seed=5)
    shifted = energy_distance_interval(rng.normal(size=(200, 2)),
                                       rng.normal(1.0, 1.0, size=(200, 2)), n_bootstrap=200, seed=5)
    assert same[0] < shifted[1] and shifted[1] <= shifted[0] <= shifted[2]
    x, y = rng.normal(size=(1, 2)), rng.normal(size=(50, 2))  # one unit: still a number
    assert energy_distance_interval(x, y, n_bootstrap=50, seed=1) == \
        energy_distance_interval(x, y, n_bootstrap=50, seed=1)
    assert np.isnan(energy_distance_interval(x, y, n_bootstrap=0)[1])


def _fake_table(n, rng, epoch=0):
    """A table of n well-fitted maps with random parameters (no fitting)."""
    sigma_x, sigma_y = rng.uniform(1, 3, n), rng.uniform(1, 3, n)
    frequency = rng.uniform(0.1, 0.3, n)
    columns = {name: rng.uniform(0, 1, n) for name in
               ("x0", "y0", "phase", "amplitude", "null_r2", "r2_gaussian")}
    return GaborTable(ids=np.arange(n), epoch=np.full(n, epoch), model=np.full(n, "gabor"),
                      why=np.full(n, ""), sigma_x=sigma_x, sigma_y=sigma_y,
                      orientation=rng.uniform(0, 180, n), frequency=frequency,
                      n_x=sigma_x * frequency, n_y=sigma_y * frequency,
                      aspect=sigma_y / sigma_x, r2=np.full(n, 0.9), well_fitted=np.ones(n, bool),
                      dims=2, frame_shape=(16, 16), r2_threshold=0.8, pixel_size_deg=float("nan"),
                      seed=0, **columns)


@pytest.mark.parametrize("n_units", [1, 300])
def test_comparison_rows_and_page_with_one_unit_and_with_300(n_units):
    from sparsefield.plots.gabor import gabor_comparison_figure

    rng = np.random.default_rng(n_units)
    measured = _fake_table(n_units, rng)
    learned = {"none-J1-fista": _fake_table(50, rng, epoch=10),
               "bdm-J4-fista": _fake_table(40, rng, epoch=10)}
    learned.update({f"{scheme}-J4-{solver}": _fake_table(256, rng, epoch=10)
                    for scheme in ("brm", "dense") for solver in ("fista", "admm")})
    rows = comparison_rows(measured, learned, n_bootstrap=100, seed=0)
    assert [row["run"] for row in rows] == list(learned)
    assert rows[1]["scheme"] == "bdm" and rows[0]["n_units_well_fitted"] == n_units
    assert rows[2]["n_atoms"] == 256
    for row in rows:
        assert row["energy_low"] <= row["energy_distance"] <= row["energy_high"]
        assert np.isfinite(row["energy_distance"])
    assert ringach_points(measured).shape == (n_units, 2)
    figure = assert_clean_layout(lambda: gabor_comparison_figure(measured, learned, rows,
                                                                 title="sim"))
    assert len(figure.axes) == 4 * len(learned)
    with pytest.raises(InputError, match="rows"):
        gabor_comparison_figure(measured, learned, rows[::-1])
