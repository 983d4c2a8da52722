"""Session figures (many units on one page): shapes checked, clean layout, readable panels,
deterministic bytes, for 1 and 60 units."""

import numpy as np
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.patches import Ellipse

from sparsefield.errors import InputError
from sparsefield.plots import kernel_heatmap_figure, mosaic_figure, rf_atlas_figure, save_figure
from sparsefield.plots.session import atlas_layout, atlas_page_size
from sparsefield.rf.shape import moment_fit
from test_plots_geometry import assert_clean_layout

GRID, BARS, FULL_FIELD = (20, 15), (1, 40), (1, 1)
N_LAGS = 30
DELAYS = np.arange(N_LAGS) / 60.0


def _ids(n_units):
    return [f"unit {index}" for index in range(n_units)]


def _grid_maps(n_units, seed=0):
    """ON and OFF Gaussian blobs at random places (n_units, 300), and their centres and signs."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(GRID)
    centres = rng.uniform([3.0, 3.0], [16.0, 11.0], (n_units, 2))
    signs = np.where(np.arange(n_units) % 3 == 0, -1.0, 1.0)
    maps = np.stack([sign * np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / 8.0).reshape(-1)
                     for (row, col), sign in zip(centres, signs)])
    return maps + rng.normal(0.0, 0.01, maps.shape), centres, signs


def _bars_maps(n_units, seed=0):
    rng = np.random.default_rng(seed)
    lag, position = np.arange(N_LAGS)[:, None], np.arange(BARS[1])[None, :]
    return np.stack([rng.choice([-1, 1]) * np.sin(lag / 4.0) * np.exp(-lag / 8.0)
                     * np.exp(-((position - rng.uniform(5, 35)) ** 2) / 8.0) for _ in range(n_units)])


def _kernels(n_units, seed=0):
    rng = np.random.default_rng(seed)
    lag = np.arange(N_LAGS)
    return np.stack([rng.uniform(0.2, 3.0) * np.sin(lag / rng.uniform(2.5, 4.0)) * np.exp(-lag / 8.0)
                     for _ in range(n_units)])


def _atlas_grid(n_units, seed=0):
    maps, centres, _ = _grid_maps(n_units, seed)
    return rf_atlas_figure(maps, GRID, _ids(n_units), order=np.lexsort((centres[:, 1], centres[:, 0])))


def _atlas_bars(n_units, seed=0):
    return rf_atlas_figure(_bars_maps(n_units, seed), BARS, _ids(n_units), delays=DELAYS)


def _atlas_full_field(n_units, seed=0):
    return rf_atlas_figure(_kernels(n_units, seed), FULL_FIELD, _ids(n_units), delays=DELAYS)


def _heatmap(n_units, seed=0):
    kernels = _kernels(n_units, seed)
    return kernel_heatmap_figure(kernels, DELAYS, _ids(n_units), order=np.argsort(np.argmax(kernels, axis=1)))


def _mosaic(n_units, seed=0):
    maps, _, _ = _grid_maps(n_units, seed)
    fits = [moment_fit(unit, GRID) for unit in maps]
    return mosaic_figure([fit.centre for fit in fits], [fit.ellipse for fit in fits], GRID, _ids(n_units),
                         polarity=[fit.polarity for fit in fits])


FIGURES = {
    "atlas_grid": _atlas_grid,
    "atlas_bars": _atlas_bars,
    "atlas_full_field": _atlas_full_field,
    "heatmap": _heatmap,
    "mosaic": _mosaic,
}


def _unit_panels(figure):
    return [axes for axes in figure.axes if axes.get_label() != "<colorbar>"]


@pytest.mark.parametrize("n_units", [1, 60])
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_layout_is_clean_and_panels_are_readable(name, n_units):
    figure = assert_clean_layout(lambda: FIGURES[name](n_units))
    assert f"{n_units} unit" in figure.get_suptitle() or f"of {n_units} units" in figure.get_suptitle()
    width, height = figure.get_size_inches()
    assert width <= 8.3 and height <= 12.5  # about one A4 page


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_same_arrays_give_same_bytes(name, tmp_path):
    first = save_figure(FIGURES[name](12), tmp_path / "first.png", dpi=40).read_bytes()
    second = save_figure(FIGURES[name](12), tmp_path / "second.png", dpi=40).read_bytes()
    other = save_figure(FIGURES[name](12, seed=1), tmp_path / "other.png", dpi=40).read_bytes()
    assert first == second != other


def test_atlas_labels_units_in_the_order_given_and_scales_each_unit():
    maps, _, _ = _grid_maps(5)
    maps[2] *= 40.0  # a strong unit does not wash out the others
    figure = rf_atlas_figure(maps, GRID, [10, 11, 12, 13, 14], order=[3, 1, 4, 0, 2])
    panels = _unit_panels(figure)
    assert [axes.get_title() for axes in panels] == ["13", "11", "14", "10", "12"]
    for axes, index in zip(panels, [3, 1, 4, 0, 2]):
        (image,) = axes.get_images()
        assert image.get_clim() == (-1.0, 1.0)
        np.testing.assert_allclose(image.get_array(), (maps[index] / np.abs(maps[index]).max()).reshape(GRID))
    assert len([axes for axes in figure.axes if axes.get_label() == "<colorbar>"]) == 1


def test_atlas_of_bars_is_x_t_maps_and_of_full_field_is_curves():
    bars = _atlas_bars(3)
    meshes = [artist for axes in _unit_panels(bars) for artist in axes.collections if isinstance(artist, QuadMesh)]
    assert len(meshes) == 3 and {mesh.get_clim() for mesh in meshes} == {(-1.0, 1.0)}
    assert "time before spike (ms)" in [axes.get_ylabel() for axes in _unit_panels(bars)]
    flicker = _atlas_full_field(3)
    assert not any(axes.get_images() or axes.collections for axes in flicker.axes)
    curve = _unit_panels(flicker)[0].get_lines()[-1]
    np.testing.assert_allclose(curve.get_xdata(), 1000.0 * DELAYS)
    assert np.abs(curve.get_ydata()).max() == pytest.approx(1.0)


def test_atlas_without_delays_counts_lags():
    figure = rf_atlas_figure(_kernels(2), FULL_FIELD, _ids(2))
    assert "lag (frames)" in [axes.get_xlabel() for axes in figure.axes]


def test_atlas_grid_page_stays_near_a4_for_200_units():
    n_rows, n_columns, panel_width, panel_height = atlas_layout(200, 20 / 15)
    assert n_rows * n_columns >= 200 and panel_height >= 0.5
    assert panel_width == pytest.approx(panel_height * 15 / 20)
    width, height = atlas_page_size(n_rows, n_columns, panel_width, panel_height)
    assert width <= 8.3 and height <= 12.0 and 1.2 < height / width < 1.6
    assert atlas_layout(1, 20 / 15)[:2] == (1, 1)


def test_heatmap_rows_are_units_normalised_to_one():
    kernels = _kernels(4)
    kernels[1] = 0.0  # an all-zero unit stays 0
    figure = kernel_heatmap_figure(kernels, DELAYS, ["a", "b", "c", "d"], order=[2, 0, 1, 3])
    (mesh,) = [artist for artist in figure.axes[0].collections if isinstance(artist, QuadMesh)]
    values = mesh.get_array().reshape(4, N_LAGS)
    expected = kernels[[2, 0, 1, 3]] / np.maximum(np.abs(kernels[[2, 0, 1, 3]]).max(axis=1, keepdims=True), 1e-300)
    expected[2] = 0.0
    np.testing.assert_allclose(values, expected)
    assert mesh.get_clim() == (-1.0, 1.0)
    assert [label.get_text() for label in figure.axes[0].get_yticklabels()] == ["c", "a", "b", "d"]
    assert figure.axes[0].get_xlabel() == "time before spike (ms)"


def test_heatmap_labels_a_subset_of_many_units():
    figure = _heatmap(200)
    labels = figure.axes[0].get_yticklabels()
    assert 40 <= len(labels) <= 60
    assert "every 4th labelled" in figure.axes[0].get_ylabel()


def test_mosaic_draws_on_and_off_ellipses_and_skips_missing_centres():
    centres = np.array([[5.0, 4.0], [12.0, 9.0], [np.nan, np.nan], [8.0, 7.0]])
    ellipses = np.array([[2.0, 1.0, 30.0], [1.5, 1.5, 0.0], [np.nan] * 3, [np.nan] * 3])
    figure = mosaic_figure(centres, ellipses, GRID, ["a", "b", "c", "d"], polarity=[1, -1, 1, -1])
    axes = figure.axes[0]
    drawn = [patch for patch in axes.patches if isinstance(patch, Ellipse)]
    assert len(drawn) == 2
    assert drawn[0].center == (4.0, 5.0) and drawn[0].width == 4.0 and drawn[0].height == 2.0
    assert drawn[0].angle == 30.0
    assert drawn[0].get_edgecolor() != drawn[1].get_edgecolor()
    assert [text.get_text() for text in axes.texts] == ["a", "b", "d"]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["ON (1)", "OFF (2)"]
    assert "3 of 4 units (1 without a centre)" in figure.get_suptitle()
    assert axes.get_ylim() == (19.5, -0.5)  # rows down, as the maps


def test_mosaic_recovers_moment_fit_centres():
    maps, centres, signs = _grid_maps(6)
    figure = _mosaic(6)
    markers = [line for line in figure.axes[0].get_lines() if line.get_marker() == "+" and len(line.get_xdata())]
    np.testing.assert_allclose([(line.get_ydata()[0], line.get_xdata()[0]) for line in markers], centres, atol=0.15)
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == [f"ON ({int(np.sum(signs > 0))})", f"OFF ({int(np.sum(signs < 0))})"]


BAD_CALLS = {
    "maps": lambda: rf_atlas_figure(np.zeros((3, 299)), GRID, _ids(3)),
    "maps ": lambda: rf_atlas_figure(np.zeros((3, 40)), BARS, _ids(3)),
    "maps  ": lambda: rf_atlas_figure(np.zeros((3, 5, 2)), FULL_FIELD, _ids(3)),
    "maps   ": lambda: rf_atlas_figure(np.zeros((3, 5, 300)), GRID, _ids(3)),
    "unit_ids": lambda: rf_atlas_figure(np.zeros((3, 300)), GRID, _ids(2)),
    "unit_ids ": lambda: kernel_heatmap_figure(np.zeros((3, 4)), np.arange(4.0), "abc"),
    "order": lambda: rf_atlas_figure(np.zeros((3, 300)), GRID, _ids(3), order=[0, 1, 1]),
    "order ": lambda: kernel_heatmap_figure(np.zeros((3, 4)), np.arange(4.0), _ids(3), order=[0.0, 1.0, 2.0]),
    "delays": lambda: rf_atlas_figure(np.zeros((3, 4)), FULL_FIELD, _ids(3), delays=np.arange(5.0)),
    "frame_shape": lambda: rf_atlas_figure(np.zeros((3, 4)), (0, 1), _ids(3)),
    "kernels": lambda: kernel_heatmap_figure(np.zeros(4), np.arange(4.0), _ids(1)),
    "delays_s": lambda: kernel_heatmap_figure(np.zeros((2, 4)), np.arange(3.0), _ids(2)),
    "delays_s ": lambda: kernel_heatmap_figure(np.zeros((2, 3)), np.array([0.0, 0.1, 0.1]), _ids(2)),
    "centres": lambda: mosaic_figure(np.zeros((2, 3)), np.zeros((2, 3)), GRID, _ids(2)),
    "ellipses": lambda: mosaic_figure(np.zeros((2, 2)), np.zeros((2, 2)), GRID, _ids(2)),
    "ellipses ": lambda: mosaic_figure(np.zeros((2, 2)), -np.ones((2, 3)), GRID, _ids(2)),
    "polarity": lambda: mosaic_figure(np.zeros((2, 2)), np.ones((2, 3)), GRID, _ids(2), polarity=[1]),
    "frame_shape ": lambda: mosaic_figure(np.zeros((2, 2)), np.ones((2, 3)), BARS, _ids(2)),
}


@pytest.mark.parametrize("argument", sorted(BAD_CALLS))
def test_bad_input_raises_input_error_naming_the_argument(argument):
    with pytest.raises(InputError) as raised:
        BAD_CALLS[argument]()
    assert raised.value.source == argument.strip()


def test_a_session_without_units_gives_a_page_that_says_so():
    empty = [
        rf_atlas_figure(np.zeros((0, 300)), GRID, []),
        rf_atlas_figure(np.zeros((0, N_LAGS, 40)), BARS, [], delays=DELAYS),
        rf_atlas_figure(np.zeros((0, N_LAGS)), FULL_FIELD, np.array([], dtype=int), delays=DELAYS),
        kernel_heatmap_figure(np.zeros((0, N_LAGS)), DELAYS, []),
    ]
    for figure in empty:
        assert "(0 units)" in figure.get_suptitle() and figure.texts[0].get_text() == "no units to show"
    mosaic = assert_clean_layout(lambda: mosaic_figure(np.zeros((0, 2)), np.zeros((0, 3)), GRID, []))
    assert "0 of 0 units" in mosaic.get_suptitle()
