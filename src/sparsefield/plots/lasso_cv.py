"""The cross-validation curve of a lasso path: held-out log-likelihood against the penalty.

:func:`cv_curve_figure` draws the mean held-out log-likelihood over folds of
each penalty (one curve, or one per lag when each lag has its own grid), with
``lambda_min`` and ``lambda_1se`` marked; the penalties are those of
:func:`sparsefield.plots.lasso.lasso_grid_figure`.  Like the other figure
modules, nothing here fits anything.  Save with
:func:`sparsefield.plots.style.save_figure`.
"""

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from sparsefield.errors import InputError
from sparsefield.plots.layout import positive_values
from sparsefield.plots.style import new_figure, styled

__all__ = ["cv_curve_figure"]


@styled
def cv_curve_figure(
    lambdas: ArrayLike,
    mean_loglik: ArrayLike,
    se_loglik: ArrayLike,
    lambda_min: ArrayLike,
    lambda_1se: ArrayLike,
    title: str,
    labels: Sequence[str] | None = None,
    ylabel: str = "held-out log-likelihood (per frame)",
) -> Figure:
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
    curve_labels = _curve_labels(labels, n_curves)
    figure = new_figure(6.0, 3.8)
    axes = figure.subplots()
    for index in range(n_curves):
        colour = f"C{index % 10}" if n_curves > 1 else "0.2"
        axes.errorbar(
            lambdas[index], mean_loglik[index], yerr=se_loglik[index], fmt="o-", color=colour,
            capsize=2.0, markersize=3.0, label=curve_labels[index],
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


def _cv_arrays(lambdas: ArrayLike, mean_loglik: ArrayLike, se_loglik: ArrayLike
               ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(mean, se, lambdas)``, each of shape (n_curves, n_lambdas), checked."""
    mean_loglik = np.asarray(mean_loglik, dtype=float)
    if mean_loglik.ndim not in (1, 2) or mean_loglik.size == 0:
        raise InputError("mean_loglik",
                         f"expected a non-empty 1-d or 2-d array, got shape {mean_loglik.shape}")
    mean_loglik = np.atleast_2d(mean_loglik)
    se_loglik = np.atleast_2d(np.asarray(se_loglik, dtype=float))
    if se_loglik.shape != mean_loglik.shape:
        raise InputError("se_loglik", f"expected the shape of mean_loglik {mean_loglik.shape}, "
                                      f"got {se_loglik.shape}")
    if np.any(se_loglik < 0):
        raise InputError("se_loglik", "standard errors must be >= 0")
    lambdas = np.asarray(lambdas, dtype=float)
    if lambdas.ndim == 1:
        lambdas = np.broadcast_to(lambdas, (mean_loglik.shape[0], lambdas.size))
    if lambdas.shape != mean_loglik.shape:
        raise InputError(
            "lambdas", f"expected shape ({mean_loglik.shape[1]},) or {mean_loglik.shape}, "
                       f"got {lambdas.shape}"
        )
    positive_values("lambdas", lambdas)
    if not np.any(np.isfinite(mean_loglik)):
        raise InputError("mean_loglik", "has no finite values")
    return mean_loglik, se_loglik, lambdas


def _per_curve(name: str, values: ArrayLike, n_curves: int, lambdas: NDArray[np.float64]
               ) -> NDArray[np.float64]:
    """Return ``values`` as an array (n_curves,), each inside its curve's penalty range."""
    values = np.asarray(values, dtype=float)
    if values.ndim > 1 or (values.ndim == 1 and values.size != n_curves):
        raise InputError(name, f"expected one value or {n_curves} values (one per curve), "
                               f"got shape {values.shape}")
    values = positive_values(name, np.broadcast_to(values, (n_curves,)))
    low, high = lambdas.min(axis=1), lambdas.max(axis=1)
    outside = (values < low * (1 - 1e-9)) | (values > high * (1 + 1e-9))
    if np.any(outside):
        raise InputError(name,
                         f"{values[outside].tolist()} lies outside the penalties of its curve")
    return values


def _curve_labels(labels: Sequence[str] | None, n_curves: int) -> Sequence[str | None]:
    if labels is None:
        if n_curves > 1:
            raise InputError("labels", f"give one label per curve ({n_curves} curves)")
        return [None]
    labels = [str(label) for label in labels]
    if len(labels) != n_curves:
        raise InputError("labels", f"expected {n_curves} labels, got {len(labels)}")
    return labels


def _mark_choices(axes: Axes, lambda_min: float, lambda_1se: float, colour: str) -> None:
    axes.axvline(lambda_min, color=colour, linestyle="--", linewidth=0.9)
    axes.axvline(lambda_1se, color=colour, linestyle=":", linewidth=1.1)


def _choice_legend(axes: Axes, lambda_min: NDArray[np.float64], lambda_1se: NDArray[np.float64],
                   n_curves: int) -> None:
    """Legend of the curves (when labelled) and of the two vertical line styles."""
    colour = "C3" if n_curves == 1 else "0.3"
    if n_curves == 1:
        texts = (f"λ_min = {lambda_min[0]:.1e} (best mean)",
                 f"λ_1se = {lambda_1se[0]:.1e} (largest within 1 SE)")
    else:
        texts = ("λ_min (best mean)", "λ_1se (largest within 1 SE)")
    axes.plot([], [], color=colour, linestyle="--", linewidth=0.9, label=texts[0])
    axes.plot([], [], color=colour, linestyle=":", linewidth=1.1, label=texts[1])
    axes.legend(loc="best")
