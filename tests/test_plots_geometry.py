"""Every receptive-field figure, for every stimulus geometry: clean layout, readable panels,
the right kind of panel (maps, x–t maps, curves), deterministic bytes.

``assert_clean_layout`` is the check the session figures' tests use too.
"""

import time
import warnings

import numpy as np
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure

from sparsefield.errors import InputError
from sparsefield.plots import (
    cv_curve_figure,
    lasso_grid_figure,
    ml_vs_lasso_figure,
    overview_figure,
    rf_lags_figure,
    save_figure,
    separation_figure,
    sta_figure,
    stimulus_geometry,
    truth_figure,
)
from sparsefield.plots.delays import delay_resolution, delay_text, lag_subset
from sparsefield.plots.overview import calibration_bins

#: Smallest panel height, pixels at 100 dpi.
MIN_PANEL_PX = 40

#: The three geometries at the numbers of lags labs use: (frame_shape, n_lags).
GEOMETRIES = {"grid": ((20, 15), 5), "bars": ((1, 40), 30), "full_field": ((1, 1), 36)}

FRAME_DURATION = 1.0 / 60.0
LAMBDAS = np.logspace(0.0, -2.0, 10)


def assert_clean_layout(build, min_px=MIN_PANEL_PX):
    """Build a figure and draw it at 100 dpi: no warning at all, every axes >= ``min_px`` high.

    Warnings are recorded while the figure is built (its styled draw runs the
    layout engine) and while it is drawn again at 100 dpi; the layout
    engine's "constrained_layout not applied" and any other UserWarning
    fail the test.  Returns the figure.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = build()
        figure.set_dpi(100)
        figure.canvas.draw()
    assert isinstance(figure, Figure)
    messages = [f"{warning.category.__name__}: {warning.message}" for warning in caught]
    assert not messages, messages
    heights = {axes.get_label() or axes.get_title() or str(index): axes.get_window_extent().height
               for index, axes in enumerate(figure.axes)}
    low = {name: height for name, height in heights.items() if height < min_px}
    assert not low, f"panels lower than {min_px} px at 100 dpi: {low}"
    return figure


def _weights(frame_shape, n_lags, seed=0):
    """A planted space-time receptive field (n_lags, n_pixels) plus noise; peak near the frame's middle."""
    rng = np.random.default_rng(seed)
    height, width = frame_shape
    rows, cols = np.indices(frame_shape)
    space = np.exp(-((rows - height // 2) ** 2 + (cols - width // 2) ** 2) / 6.0).reshape(-1)
    lag = np.arange(n_lags)
    temporal = np.sin(lag / 2.5) * np.exp(-lag / 6.0)
    return np.outer(temporal, space) + rng.normal(0.0, 0.03, (n_lags, height * width))


def _path(weights):
    return np.stack([np.sign(weights) * np.maximum(np.abs(weights) - 0.3 * penalty, 0.0) for penalty in LAMBDAS])


def _overview(frame_shape, n_lags, seed=0, with_prediction=True):
    rng = np.random.default_rng(seed)
    n_frames = 400
    edges = np.concatenate([[0.0], np.cumsum(rng.uniform(0.95, 1.05, n_frames) * FRAME_DURATION)])
    predicted = rng.uniform(0.2, 4.0, n_frames)
    predicted[:n_lags] = np.nan
    counts = rng.poisson(np.nan_to_num(predicted, nan=1.0))
    frame = rng.integers(0, 2, frame_shape).astype(float)
    return overview_figure(frame, edges, counts, predicted if with_prediction else None, window=3.0, label="unit 1")


def _rf_lags(frame_shape, n_lags, seed=0):
    return rf_lags_figure(_weights(frame_shape, n_lags, seed), np.arange(n_lags), frame_shape, FRAME_DURATION, "ML")


def _separation(frame_shape, n_lags, seed=0):
    weights = _weights(frame_shape, n_lags, seed)
    pixel = int(np.argmax(np.abs(weights).max(axis=0)))
    return separation_figure(weights[2], weights[:, pixel], np.arange(n_lags) * FRAME_DURATION, frame_shape,
                             "rank 1", 0.71)


def _sta(frame_shape, n_lags, seed=0):
    zscore = 6.0 * _weights(frame_shape, n_lags, seed)
    return sta_figure(np.arange(n_lags) * FRAME_DURATION, 0.5 + 0.01 * zscore, zscore, frame_shape, n_panels=6)


def _truth(frame_shape, n_lags, seed=0):
    truth, estimate = _weights(frame_shape, n_lags, 0), _weights(frame_shape, n_lags, seed + 1)
    return truth_figure(truth[2], estimate[2], truth[:, 0], estimate[:, 0], np.arange(n_lags) * FRAME_DURATION,
                        frame_shape, 0.93, 0.88, "model neuron")


def _lasso_grid(frame_shape, n_lags, seed=0, chosen=4):
    return lasso_grid_figure(_path(_weights(frame_shape, n_lags, seed)), LAMBDAS, np.arange(n_lags), frame_shape,
                             FRAME_DURATION, "lasso path", chosen=chosen)


def _ml_vs_lasso(frame_shape, n_lags, seed=0):
    weights = _weights(frame_shape, n_lags, seed)
    return ml_vs_lasso_figure(weights, _path(weights)[4], np.arange(n_lags), frame_shape, FRAME_DURATION,
                              LAMBDAS[4], "ML vs lasso")


def _cv_curve(frame_shape, n_lags, seed=0):
    mean = -1.0 - 0.01 * (np.log10(LAMBDAS) + 1.0 + 0.1 * seed) ** 2
    return cv_curve_figure(LAMBDAS, mean, np.full(LAMBDAS.size, 0.002), LAMBDAS[5], LAMBDAS[4], "cv")


FIGURES = {
    "overview": _overview,
    "overview_counts_only": lambda shape, n, seed=0: _overview(shape, n, seed, with_prediction=False),
    "rf_lags": _rf_lags,
    "separation": _separation,
    "sta": _sta,
    "truth": _truth,
    "lasso_grid": _lasso_grid,
    "lasso_grid_unchosen": lambda shape, n, seed=0: _lasso_grid(shape, n, seed, chosen=None),
    "ml_vs_lasso": _ml_vs_lasso,
    "cv_curve": _cv_curve,
}


def _images(figure):
    return [image for axes in figure.axes for image in axes.get_images()]


def _meshes(figure):
    """x–t maps (a colour bar draws its colours as a QuadMesh too: left out)."""
    return [artist for axes in _panels(figure) for artist in axes.collections if isinstance(artist, QuadMesh)]


def _panels(figure):
    return [axes for axes in figure.axes if axes.get_label() != "<colorbar>"]


@pytest.mark.parametrize("geometry", sorted(GEOMETRIES))
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_layout_is_clean_and_panels_are_readable(name, geometry):
    figure = assert_clean_layout(lambda: FIGURES[name](*GEOMETRIES[geometry]))
    assert figure.get_suptitle()
    plots = [axes for axes in _panels(figure) if not axes.get_images()]
    for axes in figure.axes:
        if axes.get_label() == "<colorbar>":
            assert axes.get_ylabel()
    for axes in plots:  # curves and x–t maps have titles; both axes are named (small multiples: outer panels)
        assert axes.get_title(), name
        assert axes.get_xlabel() or axes.xaxis.get_ticklabels() == [] or any(
            other.get_xlabel() for other in plots), name
    assert all(any(axes.get_xlabel() for axes in group) and any(axes.get_ylabel() for axes in group)
               for group in ([plots] if plots else []))
    if geometry == "full_field":  # curves over delay, never 1x1 images
        assert not _images(figure) and not _meshes(figure)
    if geometry == "bars":  # no images of a 1-pixel-high strip (the overview's stretched frame aside)
        assert all(image.get_array().shape[0] > 1 or name.startswith("overview") for image in _images(figure))


@pytest.mark.parametrize(("frame_shape", "n_lags"), [((20, 15), 36), ((40, 1), 30), ((7, 60), 14)])
@pytest.mark.parametrize("name", ["rf_lags", "sta", "lasso_grid", "lasso_grid_unchosen", "ml_vs_lasso"])
def test_many_lags_and_other_shapes_stay_readable(name, frame_shape, n_lags):
    figure = assert_clean_layout(lambda: FIGURES[name](frame_shape, n_lags))
    assert len(_images(figure)) <= 16  # a readable subset, never one tile per lag and penalty


@pytest.mark.parametrize("geometry", ["bars", "full_field"])  # grids: tests/test_plots.py, test_plots_lasso.py
@pytest.mark.parametrize("name", ["rf_lags", "sta", "overview", "lasso_grid", "ml_vs_lasso"])
def test_same_arrays_give_same_bytes(name, geometry, tmp_path):
    shape = GEOMETRIES[geometry]
    first = save_figure(FIGURES[name](*shape), tmp_path / "first.png", dpi=50).read_bytes()
    second = save_figure(FIGURES[name](*shape), tmp_path / "second.png", dpi=50).read_bytes()
    other = save_figure(FIGURES[name](*shape, seed=3), tmp_path / "other.png", dpi=50).read_bytes()
    assert first == second != other


@pytest.mark.parametrize("extension", [".svg", ".pdf"])
def test_x_t_maps_save_identical_vector_files(extension, tmp_path):
    first = save_figure(_sta(*GEOMETRIES["bars"]), tmp_path / f"a{extension}", dpi=50).read_bytes()
    second = save_figure(_sta(*GEOMETRIES["bars"]), tmp_path / f"b{extension}", dpi=50).read_bytes()
    assert first == second


# --------------------------------------------------------------------------
# the geometry rule and what each geometry draws


def test_geometry_rule_is_the_library_one():
    from sparsefield.rf import shape

    assert stimulus_geometry is shape.stimulus_geometry
    assert [stimulus_geometry(shape) for shape, _ in GEOMETRIES.values()] == list(GEOMETRIES)


def test_bars_rf_lags_is_one_x_t_map_on_a_symmetric_scale():
    weights = _weights((1, 40), 30)
    figure = rf_lags_figure(weights, np.arange(30), (1, 40), FRAME_DURATION, "bars")
    (mesh,) = _meshes(figure)
    vmax = np.abs(weights).max()
    assert mesh.get_clim() == (-vmax, vmax)
    np.testing.assert_array_equal(mesh.get_array().reshape(30, 40), weights)  # rows are lags, in order
    xt = mesh.axes
    assert xt.get_ylabel() == "time before spike (ms)" and xt.get_xlabel() == "bar position (column)"
    top, bottom = xt.get_ylim()
    assert top > bottom  # time runs down
    assert bottom == pytest.approx(-0.5 * 1000 * FRAME_DURATION) and top == pytest.approx(29.5 * 1000 * FRAME_DURATION)


def test_bars_lasso_path_is_one_x_t_map_per_penalty_on_one_scale():
    weights = _path(_weights((1, 40), 30))
    figure = _lasso_grid((1, 40), 30)
    meshes = _meshes(figure)
    assert len(meshes) == LAMBDAS.size
    assert {mesh.get_clim() for mesh in meshes} == {(-np.abs(weights).max(), np.abs(weights).max())}
    titles = [mesh.axes.get_title() for mesh in meshes]
    assert titles[4].startswith("▶ λ = ") and f"{np.count_nonzero(weights[4])}/1200 non-zero" in titles[4]


def test_missing_lags_are_gaps_in_the_x_t_map():
    lags = np.array([0, 1, 2, 5, 6])
    weights = _weights((1, 40), lags.size)
    (mesh,) = _meshes(rf_lags_figure(weights, lags, (1, 40), FRAME_DURATION, "gaps"))
    rows = np.ma.getmaskarray(mesh.get_array()).reshape(-1, 40).all(axis=1)
    assert rows.tolist() == [False, False, False, True, False, False]  # one gap row for lags 3-4
    with pytest.raises(InputError, match="lags: has repeated values"):
        rf_lags_figure(_weights((1, 40), 3), np.array([0, 1, 1]), (1, 40), FRAME_DURATION, "repeated")


def test_full_field_rf_lags_is_a_curve_over_delay():
    weights = _weights((1, 1), 36)
    figure = rf_lags_figure(weights, np.arange(36), (1, 1), FRAME_DURATION, "flicker")
    (axes,) = figure.axes
    curve = axes.get_lines()[1]  # after the zero line
    np.testing.assert_allclose(curve.get_xdata(), np.arange(36) * 1000 * FRAME_DURATION)
    np.testing.assert_array_equal(curve.get_ydata(), weights[:, 0])
    assert axes.get_xlabel() == "time before spike (ms)"


def test_grid_at_many_lags_shows_a_subset_with_the_peak_lag_and_the_whole_time_course():
    weights = _weights((20, 15), 36)
    weights[13, 150] = 5.0  # the peak, at a lag that every 3rd lag from 0 would skip
    figure = rf_lags_figure(weights, np.arange(36), (20, 15), FRAME_DURATION, "many lags")
    titles = [axes.get_title() for axes in figure.axes if axes.get_images()]
    assert len(titles) == 12
    # every 3rd lag through the peak: 1, 4, ..., 13, ..., 34
    assert titles == [f"lag {lag} (≈{delay_text(lag / 60, 1 / 60)})" for lag in range(1, 36, 3)]
    assert "lag 13 (≈217 ms)" in titles and "lag 25 (≈417 ms)" in titles
    course = [axes for axes in figure.axes if not axes.get_images() and axes.get_label() != "<colorbar>"]
    assert len(course) == 1 and len(course[0].get_lines()[1].get_xdata()) == 36
    assert "every 3rd of 36 lags" in figure.get_suptitle()


def test_grid_lasso_at_many_lags_is_the_chosen_maps_and_a_path_summary():
    weights = _path(_weights((20, 15), 36))
    figure = _lasso_grid((20, 15), 36, chosen=4)
    images = _images(figure)
    assert len(images) == 12 and {image.get_clim() for image in images} == {(-np.abs(weights).max(),
                                                                              np.abs(weights).max())}
    shown, step = lag_subset(36, 12, int(np.argmax(np.abs(weights[4]).max(axis=1))))
    assert step == 3 and shown.size == 12
    np.testing.assert_array_equal(images[0].get_array(), weights[4, shown[0]].reshape(20, 15))
    np.testing.assert_array_equal(images[-1].get_array(), weights[4, shown[-1]].reshape(20, 15))
    summary = [axes for axes in _panels(figure) if not axes.get_images()]
    assert len(summary) == 2
    counts = summary[0].get_lines()[0]
    assert counts.get_ydata().tolist() == [np.count_nonzero(row) for row in weights]  # lambdas are decreasing
    assert all(axes.get_xscale() == "log" for axes in summary)


def test_lasso_grid_is_fast_at_many_lags(tmp_path):
    """The whole-path grid of 36 lags x 10 penalties was 360 panels (minutes); now a few panels."""
    for frame_shape in ((20, 15), (1, 40)):
        start = time.perf_counter()
        figure = _lasso_grid(frame_shape, 36)
        assert len(figure.axes) <= 20
        save_figure(figure, tmp_path / "grid.png", dpi=60)
        assert time.perf_counter() - start < 15.0  # about 1 s here; generous for a busy machine


def test_overview_calibration_plots_observed_against_predicted_in_spikes_per_frame():
    predicted = np.repeat([0.5, 2.0, 6.0], 100)  # three distinct values
    counts = np.tile(np.arange(5.0), 60)  # mean 2 in every group
    counts[200:] += 3.0  # the last group observes more than predicted
    edges = np.arange(301) * FRAME_DURATION
    figure = overview_figure(np.ones((1, 1)), edges, counts, predicted)
    axes = figure.axes[-1]
    (container,) = axes.containers
    points = container.lines[0]
    np.testing.assert_allclose(points.get_xdata(), [0.5, 2.0, 6.0])
    np.testing.assert_allclose(points.get_ydata(), [2.0, 2.0, 5.0])
    assert axes.get_xlim() == axes.get_ylim()
    # predicted and observed in one unit, spikes per frame (not spikes/s on one axis)
    assert axes.get_xlabel() == "predicted spikes per frame (mean of bin)"
    assert axes.get_ylabel() == "observed spikes per frame (mean of bin)"
    assert all("/s" not in label and "rate" not in label and "Hz" not in label
               for label in (axes.get_xlabel(), axes.get_ylabel()))
    middle = figure.axes[-2]  # the time course: observed and predicted counts, the same unit
    assert middle.get_ylabel() == "spikes per frame"
    assert axes.get_title() == "calibration (3 predicted values)"


def test_calibration_bins():
    assert [group.tolist() for group in calibration_bins(np.array([2.0, 1.0, 2.0, 1.0]))] == [[1, 3], [0, 2]]
    groups = calibration_bins(np.linspace(0.0, 40.0, 1000))  # a high, continuous rate: ten equal bins
    assert len(groups) == 10 and {group.size for group in groups} == {100}


def test_count_histogram_at_high_rates_keeps_few_bins():
    rng = np.random.default_rng(0)
    counts = rng.poisson(300.0, 200).astype(float)
    figure = overview_figure(np.ones((20, 15)), np.arange(201) * 0.01, counts)
    histogram = figure.axes[2]
    assert histogram.get_title() == "count distribution" and len(histogram.patches) <= 50
    assert "bins of" in histogram.get_xlabel()


def test_delay_text_rounds_to_the_frame_durations_precision():
    # 5 Hz as measured in the default run (199.737 ms frames): "≈399 ms" was printed for lag 2
    frame = 0.199737
    assert delay_resolution(frame) == 10.0
    assert [delay_text(lag * frame, frame) for lag in range(5)] == ["0 ms", "200 ms", "400 ms", "600 ms", "800 ms"]
    assert delay_text(2 * 0.2, 0.2) == "400 ms"  # exactly 5 Hz
    # 60 Hz: whole ms
    assert delay_resolution(1 / 60) == 1.0
    assert delay_text(24 / 60, 1 / 60) == "400 ms"
    assert delay_text(24 * 0.0166666, 0.0166666) == "400 ms"
    assert [delay_text(lag / 60, 1 / 60) for lag in range(4)] == ["0 ms", "17 ms", "33 ms", "50 ms"]
    # 120 Hz: 8.3 ms steps, one decimal
    assert delay_resolution(1 / 120) == pytest.approx(0.1)
    assert [delay_text(lag / 120, 1 / 120) for lag in range(4)] == ["0.0 ms", "8.3 ms", "16.7 ms", "25.0 ms"]
    assert delay_text(48 / 120, 1 / 120) == "400.0 ms"
    # the STA's delay grids: no decimal that every delay has as 0
    assert delay_text(0.27, 0.01) == "270 ms" and delay_text(0.27, 0.005) == "270 ms"
    assert delay_text(3 * 0.0025, 0.0025) == "7.5 ms"
    assert delay_text(3 * 0.00125, 0.00125) == "3.8 ms"  # 800 Hz: 0.1 ms, halves up
    assert delay_text(0.2155, 0.2155) == "220 ms"
    assert delay_text(-1e-12, 0.01) == "0 ms"
    assert delay_text(0.4) == "400 ms" and delay_text(0.3994) == "399 ms"  # no step: whole ms


@pytest.mark.parametrize("rate", [5.0, 60.0, 120.0, 7.3, 1000.0])
def test_delays_a_frame_apart_stay_distinct(rate):
    texts = [delay_text(lag / rate, 1.0 / rate) for lag in range(40)]
    assert len(set(texts)) == 40


def test_lag_titles_use_the_frame_durations_precision():
    frame = 0.199737
    figure = _ml_vs_lasso_at(frame)
    titles = [axes.get_title() for axes in figure.axes if axes.get_title().startswith("lag")]
    assert titles == ["lag 0\n≈0 ms", "lag 1\n≈200 ms", "lag 2\n≈400 ms", "lag 3\n≈600 ms", "lag 4\n≈800 ms"]
    figure = rf_lags_figure(_weights((20, 15), 5), np.arange(5), (20, 15), 1 / 120, "120 Hz")
    titles = [axes.get_title() for axes in figure.axes if axes.get_images()]
    assert titles == ["lag 0 (≈0.0 ms)", "lag 1 (≈8.3 ms)", "lag 2 (≈16.7 ms)", "lag 3 (≈25.0 ms)",
                      "lag 4 (≈33.3 ms)"]


def _ml_vs_lasso_at(frame_duration):
    weights = _weights((20, 15), 5)
    return ml_vs_lasso_figure(weights, _path(weights)[4], np.arange(5), (20, 15), frame_duration, LAMBDAS[4], "ml")


def test_lag_subset_keeps_the_peak():
    indices, step = lag_subset(36, 12, keep=13)
    assert step == 3 and indices.size == 12 and 13 in indices and np.all(np.diff(indices) == 3)
    indices, step = lag_subset(5, 12, keep=2)
    assert step == 1 and indices.tolist() == [0, 1, 2, 3, 4]
    assert lag_subset(36, 12)[0].tolist() == list(range(0, 36, 3))
    for n_lags, most in ((51, 10), (36, 6), (7, 1), (100, 7)):
        for keep in range(n_lags):
            indices, step = lag_subset(n_lags, most, keep)
            assert keep in indices and indices.size <= most and np.all(np.diff(indices) == step)
            assert indices[0] < step and indices[-1] >= n_lags - step  # the grid spans all lags


def test_bad_input_names_the_argument():
    with pytest.raises(InputError, match="frame_shape"):
        rf_lags_figure(np.zeros((2, 4)), np.arange(2), (0, 4), FRAME_DURATION, "bad")
    with pytest.raises(InputError, match="max_panels"):
        rf_lags_figure(np.zeros((2, 4)), np.arange(2), (2, 2), FRAME_DURATION, "bad", max_panels=0)
    with pytest.raises(InputError, match="frame_duration"):
        rf_lags_figure(np.zeros((2, 4)), np.arange(2), (2, 2), 0.0, "bad")
    with pytest.raises(InputError, match="max_lags"):
        lasso_grid_figure(np.zeros((2, 2, 4)), [1.0, 0.5], np.arange(2), (2, 2), FRAME_DURATION, "bad", max_lags=0)


def test_sta_maps_include_the_peak_tau():
    zscore = np.random.default_rng(0).normal(0.0, 1.0, (36, 300))
    zscore[13, 150] = 9.0  # a tau that six evenly spread maps would miss
    taus = np.arange(36) * FRAME_DURATION
    figure = sta_figure(taus, 0.5 + 0.01 * zscore, zscore, (20, 15), n_panels=6)
    titles = [axes.get_title() for axes in figure.axes if axes.get_images() and axes.get_title()[0].isdigit()]
    assert "217 ms" in titles and len(titles) == 6
    assert "217 ms before the spike (row 10, col 0)" in figure.get_suptitle()
