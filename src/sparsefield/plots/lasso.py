"""Lasso (L1) receptive-field figures from plain arrays.

Three figures for a lasso path fitted per frame lag over penalties
``lambda_1 > ... > lambda_K`` and scored by cross-validation:

* :func:`lasso_grid_figure`: the maps of the whole path, one row per penalty,
  one column per lag, on one shared symmetric colour scale;
* :func:`cv_curve_figure`: the held-out log-likelihood against the penalty,
  with ``lambda_min`` and ``lambda_1se`` marked;
* :func:`ml_vs_lasso_figure`: the maximum-likelihood maps above the lasso
  maps at the chosen penalty, each row on its own scale.

Like :mod:`sparsefield.plots.rf`, nothing here fits anything; the map
drawing, colour bars and input checks are those of that module.  Save with
:func:`sparsefield.plots.style.save_figure`.
"""

import operator

import numpy as np

from sparsefield.errors import InputError
from sparsefield.plots.rf import _colorbar, _frame_shape, _plot_array, _show_map, _to_image
from sparsefield.plots.style import new_figure, styled, symmetric_limits

#: Width of one map panel in the lasso grid, inches (height follows the frame
#: shape); smaller than a single row of maps so that ten penalties fit a page.
_GRID_PANEL = 0.62

#: Width of one map panel in the ML-versus-lasso figure, inches.
_PAIR_PANEL = 1.1

#: Colour that marks the chosen penalty (grid row, and its label).
_CHOSEN_COLOUR = "C3"


# --------------------------------------------------------------------------
# checks and small helpers


def _positive(name, values):
    """Raise InputError unless all ``values`` are finite and > 0."""
    values = np.asarray(values, dtype=float)
    bad = ~(np.isfinite(values) & (values > 0))
    if np.any(bad):
        raise InputError(name, f"must be finite and > 0, got {values[bad][:5].tolist()}")
    return values


def _frame_duration(frame_duration):
    if not (np.isscalar(frame_duration) and np.isfinite(frame_duration) and frame_duration > 0):
        raise InputError("frame_duration", f"must be a finite number > 0 (s), got {frame_duration!r}")
    return float(frame_duration)


def _lag_title(lag, frame_duration):
    return f"lag {lag:g}\n≈{lag * frame_duration * 1000:.0f} ms"


def _lambda_text(value):
    return f"λ = {value:.1e}"


def _row_label(axes, text, colour="black", bold=False):
    """Write ``text`` left of ``axes`` as a horizontal y label (kept by constrained layout)."""
    axes.set_ylabel(
        text, rotation=0, ha="right", va="center", labelpad=4.0, color=colour, fontweight="bold" if bold else "normal"
    )


def _frame_axes(axes, colour, linewidth):
    for spine in axes.spines.values():
        spine.set_edgecolor(colour)
        spine.set_linewidth(linewidth)


# --------------------------------------------------------------------------
# the whole path as a grid of maps


@styled
def lasso_grid_figure(weights, lambdas, lags, frame_shape, frame_duration, title, chosen=None):
    """Lasso maps over the regularisation path: rows are penalties, columns lags.

    Parameters
    ----------
    weights : array_like of shape (n_lambdas, n_lags, n_pixels)
        Lasso weights at each penalty and lag, pixels in C order.
    lambdas : array_like of shape (n_lambdas,)
        Penalty of each row (usually decreasing, as fitted: sparsest on top).
    lags : array_like of shape (n_lags,)
        Lag of each column in frames.
    frame_shape : tuple of int
        ``(height, width)`` with ``height * width == n_pixels``.
    frame_duration : float
        Typical frame duration in s, to give each lag in ms.
    title : str
        Figure title.
    chosen : int or None
        Index into ``lambdas`` of the chosen penalty (e.g. ``lambda_1se``);
        its row is framed and its label drawn in red (C3).

    Returns
    -------
    matplotlib.figure.Figure
        ``n_lambdas`` by ``n_lags`` maps without ticks on ONE colour scale
        ``[-vmax, vmax]`` (``vmax`` the largest ``|weight|`` of the whole
        path; exact zeros are white) and one colour bar.  Each row is labelled
        with its penalty and its number of non-zero weights over all lags
        (of ``n_lags * n_pixels``).
    """
    weights = _plot_array(weights, "weights", 3)
    lambdas = _positive("lambdas", _plot_array(lambdas, "lambdas", 1, length=weights.shape[0]))
    lags = _plot_array(lags, "lags", 1, length=weights.shape[1])
    frame_shape = _frame_shape(frame_shape, weights.shape[2], "weights")
    frame_duration = _frame_duration(frame_duration)
    chosen = _chosen_index(chosen, lambdas.size)
    vmax = symmetric_limits(weights)
    figure = new_figure(*_grid_size(frame_shape, *weights.shape[:2]))
    grid = figure.subplots(*weights.shape[:2], squeeze=False, sharex=True, sharey=True)
    for row, axes_row in enumerate(grid):
        for column, axes in enumerate(axes_row):
            shown = _show_map(axes, _to_image(weights[row, column], frame_shape), vmax)
        _label_penalty_row(axes_row, lambdas[row], np.count_nonzero(weights[row]), weights[row].size, row == chosen)
    for column, axes in enumerate(grid[0]):
        axes.set_title(_lag_title(lags[column], frame_duration))
    _slim_colorbar(figure, shown, grid.ravel().tolist(), "weight (one scale, all panels)", lambdas.size)
    figure.suptitle(_grid_title(title, lambdas, chosen))
    return figure


def _chosen_index(chosen, n_lambdas):
    if chosen is None:
        return None
    try:
        index = operator.index(chosen)
    except TypeError:
        raise InputError("chosen", f"expected an integer index into lambdas, got {chosen!r}") from None
    if isinstance(chosen, (bool, np.bool_)) or not -n_lambdas <= index < n_lambdas:
        raise InputError("chosen", f"expected an index into {n_lambdas} lambdas, got {chosen!r}")
    return index % n_lambdas


def _grid_size(frame_shape, n_rows, n_columns):
    """Figure size (width, height) for the grid, its row labels, titles and colour bar."""
    height, width = frame_shape
    panel_height = _GRID_PANEL * height / width
    return _GRID_PANEL * n_columns + 2.4, panel_height * n_rows + 0.95


def _label_penalty_row(axes_row, penalty, n_nonzero, n_weights, is_chosen):
    text = f"{_lambda_text(penalty)}\n{n_nonzero}/{n_weights} non-zero"
    if is_chosen:
        _row_label(axes_row[0], f"▶ {text}", _CHOSEN_COLOUR, bold=True)
        for axes in axes_row:
            _frame_axes(axes, _CHOSEN_COLOUR, 2.0)
    else:
        _row_label(axes_row[0], text)


def _slim_colorbar(figure, shown, axes, label, n_rows):
    """One narrow colour bar beside a grid of ``n_rows``: about three rows tall, at least half the grid."""
    shrink = float(np.clip(3.0 / n_rows, 0.5, 0.9))
    bar = figure.colorbar(shown, ax=axes, shrink=shrink, aspect=20, pad=0.02)
    bar.set_label(label)
    return bar


def _grid_title(title, lambdas, chosen):
    lines = [title, f"rows: penalty λ from {lambdas[0]:.1e} (top) to {lambdas[-1]:.1e} (bottom)"]
    if chosen is not None:
        lines.append(f"framed: chosen {_lambda_text(lambdas[chosen])}")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# cross-validation curve


@styled
def cv_curve_figure(
    lambdas,
    mean_loglik,
    se_loglik,
    lambda_min,
    lambda_1se,
    title,
    labels=None,
    ylabel="held-out log-likelihood (per frame)",
):
    """Cross-validated held-out log-likelihood against the penalty.

    The penalty axis is logarithmic and INVERTED, as in glmnet: the penalty
    decreases (the model gets denser) to the right.

    Parameters
    ----------
    lambdas : array_like of shape (n_lambdas,) or (n_curves, n_lambdas)
        Penalties; 2-D when each curve has its own grid (e.g. one
        ``lambda_max`` per lag).
    mean_loglik : array_like of shape (n_lambdas,) or (n_curves, n_lambdas)
        Mean over folds of the held-out log-likelihood (or its gain over a
        constant-rate model; say which in ``ylabel``).  NaN entries are not
        drawn.
    se_loglik : array_like, same shape as ``mean_loglik``
        Standard error over folds, >= 0; drawn as error bars.
    lambda_min, lambda_1se : float or array_like of shape (n_curves,)
        The penalty of the best mean and the largest penalty within one
        standard error of it, one per curve or one for all; drawn as
        vertical lines (dashed and dotted).
    title : str
        Figure title.
    labels : sequence of str or None
        One legend label per curve (required with more than one curve).
    ylabel : str
        Y-axis label, with its unit.

    Returns
    -------
    matplotlib.figure.Figure
    """
    mean_loglik, se_loglik, lambdas = _cv_arrays(lambdas, mean_loglik, se_loglik)
    n_curves = mean_loglik.shape[0]
    lambda_min = _per_curve("lambda_min", lambda_min, n_curves, lambdas)
    lambda_1se = _per_curve("lambda_1se", lambda_1se, n_curves, lambdas)
    labels = _curve_labels(labels, n_curves)
    figure = new_figure(6.0, 3.8)
    axes = figure.subplots()
    for index in range(n_curves):
        colour = f"C{index % 10}" if n_curves > 1 else "0.2"
        axes.errorbar(
            lambdas[index], mean_loglik[index], yerr=se_loglik[index], fmt="o-", color=colour,
            capsize=2.0, markersize=3.0, label=labels[index],
        )
        _mark_choices(axes, lambda_min[index], lambda_1se[index], "C3" if n_curves == 1 else colour)
    _choice_legend(axes, lambda_min, lambda_1se, n_curves)
    axes.set_xscale("log")
    axes.invert_xaxis()
    axes.set_xlabel("penalty λ (log scale, decreasing to the right)")
    axes.set_ylabel(ylabel)
    axes.set_title("mean over folds ± standard error")
    figure.suptitle(title)
    return figure


def _cv_arrays(lambdas, mean_loglik, se_loglik):
    """Return ``(mean, se, lambdas)``, each of shape (n_curves, n_lambdas), checked."""
    mean_loglik = np.asarray(mean_loglik, dtype=float)
    if mean_loglik.ndim not in (1, 2) or mean_loglik.size == 0:
        raise InputError("mean_loglik", f"expected a non-empty 1-d or 2-d array, got shape {mean_loglik.shape}")
    mean_loglik = np.atleast_2d(mean_loglik)
    se_loglik = np.atleast_2d(np.asarray(se_loglik, dtype=float))
    if se_loglik.shape != mean_loglik.shape:
        raise InputError("se_loglik", f"expected the shape of mean_loglik {mean_loglik.shape}, got {se_loglik.shape}")
    if np.any(se_loglik < 0):
        raise InputError("se_loglik", "standard errors must be >= 0")
    lambdas = np.asarray(lambdas, dtype=float)
    if lambdas.ndim == 1:
        lambdas = np.broadcast_to(lambdas, (mean_loglik.shape[0], lambdas.size))
    if lambdas.shape != mean_loglik.shape:
        raise InputError(
            "lambdas", f"expected shape ({mean_loglik.shape[1]},) or {mean_loglik.shape}, got {lambdas.shape}"
        )
    _positive("lambdas", lambdas)
    if not np.any(np.isfinite(mean_loglik)):
        raise InputError("mean_loglik", "has no finite values")
    return mean_loglik, se_loglik, lambdas


def _per_curve(name, values, n_curves, lambdas):
    """Return ``values`` as an array (n_curves,), each inside its curve's penalty range."""
    values = np.asarray(values, dtype=float)
    if values.ndim > 1 or (values.ndim == 1 and values.size != n_curves):
        raise InputError(name, f"expected one value or {n_curves} values (one per curve), got shape {values.shape}")
    values = _positive(name, np.broadcast_to(values, (n_curves,)))
    low, high = lambdas.min(axis=1), lambdas.max(axis=1)
    outside = (values < low * (1 - 1e-9)) | (values > high * (1 + 1e-9))
    if np.any(outside):
        raise InputError(name, f"{values[outside].tolist()} lies outside the penalties of its curve")
    return values


def _curve_labels(labels, n_curves):
    if labels is None:
        if n_curves > 1:
            raise InputError("labels", f"give one label per curve ({n_curves} curves)")
        return [None]
    labels = [str(label) for label in labels]
    if len(labels) != n_curves:
        raise InputError("labels", f"expected {n_curves} labels, got {len(labels)}")
    return labels


def _mark_choices(axes, lambda_min, lambda_1se, colour):
    axes.axvline(lambda_min, color=colour, linestyle="--", linewidth=0.9)
    axes.axvline(lambda_1se, color=colour, linestyle=":", linewidth=1.1)


def _choice_legend(axes, lambda_min, lambda_1se, n_curves):
    """Legend of the curves (when labelled) and of the two vertical line styles."""
    colour = "C3" if n_curves == 1 else "0.3"
    if n_curves == 1:
        texts = (f"λ_min = {lambda_min[0]:.1e} (best mean)", f"λ_1se = {lambda_1se[0]:.1e} (largest within 1 SE)")
    else:
        texts = ("λ_min (best mean)", "λ_1se (largest within 1 SE)")
    axes.plot([], [], color=colour, linestyle="--", linewidth=0.9, label=texts[0])
    axes.plot([], [], color=colour, linestyle=":", linewidth=1.1, label=texts[1])
    axes.legend(loc="best")


# --------------------------------------------------------------------------
# maximum likelihood versus lasso


@styled
def ml_vs_lasso_figure(ml_weights, lasso_weights, lags, frame_shape, frame_duration, lambda_value, title):
    """Maximum-likelihood maps above the lasso maps at one penalty.

    Parameters
    ----------
    ml_weights : array_like of shape (n_lags, n_pixels)
        Unpenalised Poisson weights per lag, pixels in C order.
    lasso_weights : array_like of shape (n_lags, n_pixels)
        Lasso weights per lag at ``lambda_value``.
    lags : array_like of shape (n_lags,)
        Lag of each column in frames.
    frame_shape : tuple of int
        ``(height, width)`` with ``height * width == n_pixels``.
    frame_duration : float
        Typical frame duration in s, to give each lag in ms.
    lambda_value : float
        Penalty of the lasso fit (> 0).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Top row ML, bottom row lasso, one column per lag.  Each row has its
        own symmetric colour scale and colour bar (the lasso shrinks the
        weights); the lasso panels give the number of non-zero weights.
    """
    ml_weights = _plot_array(ml_weights, "ml_weights", 2)
    lasso_weights = _plot_array(lasso_weights, "lasso_weights", 2)
    if lasso_weights.shape != ml_weights.shape:
        raise InputError(
            "lasso_weights", f"expected the shape of ml_weights {ml_weights.shape}, got {lasso_weights.shape}"
        )
    lags = _plot_array(lags, "lags", 1, length=ml_weights.shape[0])
    frame_shape = _frame_shape(frame_shape, ml_weights.shape[1], "ml_weights")
    frame_duration = _frame_duration(frame_duration)
    lambda_value = float(_positive("lambda_value", lambda_value))
    figure = new_figure(*_pair_size(frame_shape, lags.size))
    ml_row, lasso_row = figure.subplots(2, lags.size, squeeze=False, sharex=True, sharey=True)
    _draw_weight_row(figure, ml_row, ml_weights, frame_shape, "ML weight")
    _draw_weight_row(figure, lasso_row, lasso_weights, frame_shape, "lasso weight")
    _row_label(ml_row[0], "maximum\nlikelihood")
    _row_label(lasso_row[0], f"lasso\n{_lambda_text(lambda_value)}")
    n_pixels = ml_weights.shape[1]
    for position, lag in enumerate(lags):
        ml_row[position].set_title(_lag_title(lag, frame_duration))
        lasso_row[position].set_title(f"{np.count_nonzero(lasso_weights[position])} / {n_pixels} non-zero")
    figure.suptitle(f"{title}\neach row on its own colour scale (the lasso shrinks the weights)")
    return figure


def _pair_size(frame_shape, n_columns):
    height, width = frame_shape
    return _PAIR_PANEL * n_columns + 2.3, 2 * _PAIR_PANEL * height / width + 1.5


def _draw_weight_row(figure, axes_row, weights, frame_shape, label):
    vmax = symmetric_limits(weights)
    for axes, vector in zip(axes_row, weights):
        shown = _show_map(axes, _to_image(vector, frame_shape), vmax)
    _colorbar(figure, shown, list(axes_row), label)
