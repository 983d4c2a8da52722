"""Lasso figures run on small arrays, save deterministically and check their input."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from sparsefield.errors import InputError
from sparsefield.plots.lasso import lasso_grid_figure, ml_vs_lasso_figure
from sparsefield.plots.lasso_cv import cv_curve_figure
from sparsefield.plots.style import save_figure

FRAME_SHAPE = (6, 5)
N_PIXELS = FRAME_SHAPE[0] * FRAME_SHAPE[1]
LAGS = np.arange(3)
LAMBDAS = 0.1 * np.logspace(0.0, -2.0, 4)
FRAME_DURATION = 0.2155
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _ml_weights(seed=0):
    """ML-like weights (n_lags, n_pixels): a planted pixel at row 3, col 1 plus noise."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 0.1, (LAGS.size, N_PIXELS))
    weights[:, 3 * FRAME_SHAPE[1] + 1] += [1.0, -0.4, 0.1]
    return weights


def _path_weights(seed=0):
    """Soft-thresholded ML weights (n_lambdas, n_lags, n_pixels): sparser at larger penalties."""
    weights = _ml_weights(seed)
    return np.stack([np.sign(weights) * np.maximum(np.abs(weights) - 2.0 * lam, 0.0) for lam in LAMBDAS])


def _grid(seed=0, chosen=None):
    return lasso_grid_figure(_path_weights(seed), LAMBDAS, LAGS, FRAME_SHAPE, FRAME_DURATION, "path", chosen=chosen)


def _cv(seed=0):
    mean = -1.2 - 0.01 * (np.log10(LAMBDAS) + 2.0 - seed) ** 2
    return cv_curve_figure(LAMBDAS, mean, np.full(LAMBDAS.size, 0.004), LAMBDAS[2], LAMBDAS[1], "cv")


def _cv_per_lag(seed=0):
    lambdas = np.outer([1.0, 0.5, 0.25], LAMBDAS)
    mean = -1.2 - 0.01 * (np.log10(lambdas) + 2.0 - seed) ** 2
    return cv_curve_figure(
        lambdas, mean, np.full(mean.shape, 0.004), lambdas[:, 2], lambdas[:, 1], "cv per lag",
        labels=[f"lag {lag}" for lag in LAGS], ylabel="held-out gain (nats per frame)",
    )


def _ml_vs_lasso(seed=0):
    return ml_vs_lasso_figure(
        _ml_weights(seed), _path_weights(seed)[1], LAGS, FRAME_SHAPE, FRAME_DURATION, LAMBDAS[1], "ml vs lasso"
    )


BUILDERS = {"grid": _grid, "cv": _cv, "cv_per_lag": _cv_per_lag, "ml_vs_lasso": _ml_vs_lasso}


def _png(figure, path):
    return save_figure(figure, path).read_bytes()


def _images(figure):
    return [image for axes in figure.axes for image in axes.get_images()]


def _colorbars(figure):
    return [axes for axes in figure.axes if axes.get_label() == "<colorbar>"]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_figure_saves_identical_png_for_identical_input(name, tmp_path):
    figure = BUILDERS[name]()
    assert isinstance(figure, Figure) and figure.get_suptitle()
    for axes in figure.axes:
        if axes.get_label() == "<colorbar>":
            assert axes.get_ylabel()
        elif not axes.get_images():  # the CV curve: title and both axis labels
            assert axes.get_title() and axes.get_xlabel() and axes.get_ylabel()
    first = _png(figure, tmp_path / "first.png")
    assert first.startswith(PNG_SIGNATURE)
    assert _png(BUILDERS[name](), tmp_path / "second.png") == first
    assert _png(BUILDERS[name](seed=1), tmp_path / "other.png") != first


def test_grid_shares_one_symmetric_colour_scale():
    figure = _grid()
    images = _images(figure)
    assert len(images) == LAMBDAS.size * LAGS.size
    limits = {image.get_clim() for image in images}
    assert len(limits) == 1
    (vmin, vmax), = limits
    assert -vmin == vmax == pytest.approx(np.abs(_path_weights()).max())
    assert len(_colorbars(figure)) == 1
    # images are C-order maps of the weights, row = lambda, column = lag
    np.testing.assert_array_equal(images[LAGS.size + 2].get_array(), _path_weights()[1, 2].reshape(FRAME_SHAPE))


def test_grid_labels_penalties_lags_and_non_zero_counts():
    figure = _grid()
    weights = _path_weights()
    panels = [axes for axes in figure.axes if axes.get_images()]
    titles = [axes.get_title() for axes in panels[: LAGS.size]]
    # 215.5 ms frames: delays to the frame duration's precision (10 ms), not "≈431 ms"
    assert titles == ["lag 0\n≈0 ms", "lag 1\n≈220 ms", "lag 2\n≈430 ms"]
    for row, axes in enumerate(panels[:: LAGS.size]):  # the first column carries the row labels
        expected = f"λ = {LAMBDAS[row]:.1e}\n{np.count_nonzero(weights[row])}/{weights[row].size} non-zero"
        assert axes.get_ylabel() == expected
    assert np.count_nonzero(weights[0]) < np.count_nonzero(weights[-1])  # the planted path gets denser


def test_grid_chosen_row_is_highlighted(tmp_path):
    plain = _png(_grid(), tmp_path / "plain.png")
    figure = _grid(chosen=2)
    panels = [axes for axes in figure.axes if axes.get_images()]
    assert panels[2 * LAGS.size].get_ylabel().startswith("▶ λ = ")
    assert "chosen λ = 4.6e-03" in figure.get_suptitle()
    widths = [axes.spines["top"].get_linewidth() for axes in panels]
    assert widths[2 * LAGS.size : 3 * LAGS.size] == [2.0] * LAGS.size
    assert max(widths[: 2 * LAGS.size] + widths[3 * LAGS.size :]) < 2.0
    assert _png(figure, tmp_path / "chosen.png") != plain
    assert _png(_grid(chosen=-1), tmp_path / "last.png") == _png(_grid(chosen=3), tmp_path / "three.png")


def test_cv_curve_axis_is_log_and_decreasing_to_the_right():
    axes = _cv().axes[0]
    assert axes.get_xscale() == "log"
    left, right = axes.get_xlim()
    assert left > right
    assert "decreasing to the right" in axes.get_xlabel()
    assert axes.get_ylabel() == "held-out log-likelihood (per frame)"
    vertical = [line.get_xdata()[0] for line in axes.get_lines() if line.get_linestyle() in ("--", ":")
                and len(line.get_xdata())]
    assert sorted(vertical) == sorted([LAMBDAS[2], LAMBDAS[1]])
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == ["λ_min = 4.6e-03 (best mean)", "λ_1se = 2.2e-02 (largest within 1 SE)"]


def test_cv_curve_draws_one_curve_per_row():
    axes = _cv_per_lag().axes[0]
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert {"lag 0", "lag 1", "lag 2"} <= set(legend)
    assert axes.get_ylabel() == "held-out gain (nats per frame)"
    assert len(axes.containers) == 3  # one error-bar container per curve


def test_ml_vs_lasso_rows_have_their_own_scales_and_count_non_zeros():
    figure = _ml_vs_lasso()
    images = _images(figure)
    ml, lasso = _ml_weights(), _path_weights()[1]
    assert len(images) == 2 * LAGS.size
    assert {image.get_clim() for image in images[: LAGS.size]} == {(-np.abs(ml).max(), np.abs(ml).max())}
    assert {image.get_clim() for image in images[LAGS.size :]} == {(-np.abs(lasso).max(), np.abs(lasso).max())}
    assert len(_colorbars(figure)) == 2
    panels = [axes for axes in figure.axes if axes.get_images()]
    assert panels[0].get_ylabel() == "maximum\nlikelihood"
    assert panels[LAGS.size].get_ylabel() == "lasso\nλ = 2.2e-02"
    titles = [axes.get_title() for axes in panels[LAGS.size :]]
    assert titles == [f"{np.count_nonzero(row)} / {N_PIXELS} non-zero" for row in lasso]


BAD_CALLS = {
    "weights": lambda: lasso_grid_figure(np.zeros((4, 3, N_PIXELS + 1)), LAMBDAS, LAGS, FRAME_SHAPE, 0.2, "t"),
    "weights ": lambda: lasso_grid_figure(np.zeros((3, N_PIXELS)), LAMBDAS, LAGS, FRAME_SHAPE, 0.2, "t"),
    "lambdas": lambda: lasso_grid_figure(_path_weights(), LAMBDAS[:3], LAGS, FRAME_SHAPE, 0.2, "t"),
    "lambdas ": lambda: lasso_grid_figure(_path_weights(), -LAMBDAS, LAGS, FRAME_SHAPE, 0.2, "t"),
    "lags": lambda: lasso_grid_figure(_path_weights(), LAMBDAS, np.arange(4), FRAME_SHAPE, 0.2, "t"),
    "chosen": lambda: lasso_grid_figure(_path_weights(), LAMBDAS, LAGS, FRAME_SHAPE, 0.2, "t", chosen=4),
    "chosen ": lambda: lasso_grid_figure(_path_weights(), LAMBDAS, LAGS, FRAME_SHAPE, 0.2, "t", chosen=1.5),
    "frame_duration": lambda: lasso_grid_figure(_path_weights(), LAMBDAS, LAGS, FRAME_SHAPE, 0.0, "t"),
    "mean_loglik": lambda: cv_curve_figure(LAMBDAS, np.zeros((2, 2, 4)), np.zeros((2, 2, 4)), 0.01, 0.01, "t"),
    "se_loglik": lambda: cv_curve_figure(LAMBDAS, np.zeros(4), np.zeros(3), 0.01, 0.01, "t"),
    "se_loglik ": lambda: cv_curve_figure(LAMBDAS, np.zeros(4), -np.ones(4), 0.01, 0.01, "t"),
    "lambdas  ": lambda: cv_curve_figure(LAMBDAS[:3], np.zeros(4), np.zeros(4), 0.01, 0.01, "t"),
    "lambda_min": lambda: cv_curve_figure(LAMBDAS, np.zeros(4), np.zeros(4), 1.0, 0.01, "t"),
    "lambda_1se": lambda: cv_curve_figure(LAMBDAS, np.zeros((2, 4)), np.zeros((2, 4)), 0.01, [0.01] * 3, "t",
                                          labels=["a", "b"]),
    "labels": lambda: cv_curve_figure(LAMBDAS, np.zeros((2, 4)), np.zeros((2, 4)), 0.01, 0.01, "t"),
    "ml_weights": lambda: ml_vs_lasso_figure(np.zeros((3, N_PIXELS + 1)), np.zeros((3, N_PIXELS + 1)), LAGS,
                                             FRAME_SHAPE, 0.2, 0.01, "t"),
    "lasso_weights": lambda: ml_vs_lasso_figure(np.zeros((3, N_PIXELS)), np.zeros((2, N_PIXELS)), LAGS,
                                                FRAME_SHAPE, 0.2, 0.01, "t"),
    "lambda_value": lambda: ml_vs_lasso_figure(np.zeros((3, N_PIXELS)), np.zeros((3, N_PIXELS)), LAGS,
                                               FRAME_SHAPE, 0.2, 0.0, "t"),
}


@pytest.mark.parametrize("argument", sorted(BAD_CALLS))
def test_bad_input_raises_input_error_naming_the_argument(argument):
    with pytest.raises(InputError) as raised:
        BAD_CALLS[argument]()
    assert raised.value.source == argument.strip()
