"""Model comparison of a session: held-out bits per spike of every estimate of every unit.

:func:`models_figure` draws two panels from the scores of
:mod:`sparsefield.rf.units_scores`: a units x estimates heat map (each unit's best
estimate marked in red; the values written in the cells up to 40 units), and the spread over
units of each estimate (every unit a dot, the median a bar), so that it reads for one
unit and for hundreds.  With a truth (simulated units) the true model's score is one
more column, drawn apart.  Like the other figure modules, nothing here fits anything.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float_array
from sparsefield.errors import InputError
from sparsefield.plots.delays import every_text
from sparsefield.plots.style import new_figure, styled

__all__ = ["models_figure"]

#: Most unit labels on the heat map's unit axis; most units whose values are written.
_MAX_UNIT_LABELS = 60
_MAX_ANNOTATED = 40


def _columns(bits: NDArray[np.float64], estimates: Sequence[str],
             truth: ArrayLike | None) -> tuple[NDArray[np.float64], list[str]]:
    """The heat map's columns: the estimates, then the truth when any unit has one."""
    names = [str(name) for name in estimates]
    if truth is None:
        return bits, names
    truth = as_float_array(truth, "truth", 1, length=bits.shape[0], finite=False,
                           allow_empty=True)
    if not np.any(np.isfinite(truth)):
        return bits, names
    return np.column_stack([bits, truth]), [*names, "truth"]


def _heat_map(axes: Axes, values: NDArray[np.float64], names: list[str],
              labels: list[str], best: NDArray[np.intp]) -> Any:
    """Units x columns of bits per spike, the best estimate of each unit outlined."""
    n_units, n_columns = values.shape
    finite = values[np.isfinite(values)]
    vmax = max(float(finite.max()), 1e-3) if finite.size else 1.0
    vmin = min(float(finite.min()), 0.0) if finite.size else 0.0
    shown = axes.pcolormesh(np.arange(n_columns + 1) - 0.5, np.arange(n_units + 1) - 0.5,
                            np.ma.masked_invalid(values), cmap="viridis", vmin=vmin, vmax=vmax,
                            shading="flat", rasterized=n_units > _MAX_ANNOTATED)
    rows = np.flatnonzero(best >= 0)
    if n_units <= _MAX_ANNOTATED:
        for row in rows.tolist():
            axes.add_patch(Rectangle((best[row] - 0.5, row - 0.5), 1.0, 1.0, fill=False,
                                     edgecolor="red", linewidth=1.5))
    else:  # outlines of hundreds of rows would stripe the map: a dot per row instead
        axes.scatter(best[rows], rows, s=4.0, color="red", linewidths=0)
    if n_units <= _MAX_ANNOTATED:
        middle = (vmin + vmax) / 2
        for (row, column), value in np.ndenumerate(values):
            if np.isfinite(value):
                axes.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=6.0,
                          color="black" if value > middle else "white")
    axes.set_xlim(-0.5, n_columns - 0.5)
    axes.set_ylim(n_units - 0.5, -0.5)
    axes.set_xticks(np.arange(n_columns), names, rotation=30, ha="right")
    step = max(1, -(-n_units // _MAX_UNIT_LABELS))
    ticks = np.arange(0, n_units, step)
    axes.set_yticks(ticks, [labels[index] for index in ticks],
                    fontsize=7.0 if n_units <= 30 else 5.5)
    axes.set_ylabel("unit" if step == 1 else f"unit ({every_text(step)} labelled)")
    axes.spines[:].set_visible(True)
    axes.set_title("per unit (red: best estimate)")
    return shown


def _spread(axes: Axes, values: NDArray[np.float64], names: list[str]) -> None:
    """Each column's values over units: a dot per unit (spread sideways), the median a bar."""
    n_units = values.shape[0]
    offsets = (np.linspace(-0.25, 0.25, n_units) if n_units > 1 else np.zeros(1))
    for column, name in enumerate(names):
        column_values = values[:, column]
        finite = np.isfinite(column_values)
        colour = "0.35" if name == "truth" else f"C{column}"
        axes.scatter(column + offsets[finite], column_values[finite], s=8.0 if n_units > 50
                     else 14.0, color=colour, alpha=0.5 if n_units > 50 else 0.9, linewidths=0)
        if finite.any():
            median = float(np.median(column_values[finite]))
            axes.plot([column - 0.35, column + 0.35], [median, median], color="black",
                      linewidth=1.5)
    axes.axhline(0.0, color="0.6", linewidth=0.8, linestyle="--")
    axes.set_xlim(-0.6, len(names) - 0.4)
    axes.set_xticks(np.arange(len(names)), names, rotation=30, ha="right")
    axes.set_ylabel("held-out bits per spike")
    axes.set_title("over units (bar: median; dashed: baseline)")


@styled
def models_figure(bits_per_spike: ArrayLike, estimates: Sequence[str], unit_ids: Sequence[Any],
                  *, truth: ArrayLike | None = None,
                  title: str = "Held-out bits per spike") -> Figure:
    """Held-out bits per spike of every estimate of every unit (module docstring).

    Parameters
    ----------
    bits_per_spike : array_like of shape (n_units, n_estimates)
        Pooled held-out bits per spike (:attr:`UnitsScores.bits_per_spike`); NaN is
        a gap.
    estimates : sequence of str of length n_estimates
        Their names.
    unit_ids : sequence of length n_units
        Label of each unit.
    truth : array_like of shape (n_units,), optional, keyword-only
        The true model's bits per spike (NaN where unknown); drawn as one more column.
    title : str, keyword-only
        Figure title; the number of units is appended.

    Returns
    -------
    matplotlib.figure.Figure
    """
    bits = as_float_array(bits_per_spike, "bits_per_spike", 2, finite=False, allow_empty=True)
    if len(estimates) != bits.shape[1]:
        raise InputError("estimates", f"has {len(estimates)} names for {bits.shape[1]} columns "
                         "of bits_per_spike")
    labels = [str(unit) for unit in unit_ids]
    if len(labels) != bits.shape[0]:
        raise InputError("unit_ids", f"has {len(labels)} ids for {bits.shape[0]} units")
    values, names = _columns(bits, estimates, truth)
    n_units = values.shape[0]
    units_text = f"{n_units} unit{'s' if n_units != 1 else ''}"
    figure = new_figure(7.0, min(max(0.12 * n_units + 2.2, 3.2), 11.0))
    if n_units == 0:
        figure.text(0.5, 0.5, "no unit was scored", ha="center", va="center")
        figure.suptitle(f"{title} (0 units)")
        return figure
    heat, spread = figure.subplots(1, 2, width_ratios=[1.2, 1.0])
    scored = bits.copy()
    scored[~np.isfinite(scored)] = -np.inf
    best = np.where(np.isfinite(bits).any(axis=1), np.argmax(scored, axis=1), -1)
    shown = _heat_map(heat, values, names, labels, best.astype(np.intp))
    bar = figure.colorbar(shown, ax=heat, shrink=min(0.9, 3.0 / figure.get_figheight() + 0.3),
                          aspect=20, pad=0.02)
    bar.set_label("bits per spike")
    _spread(spread, values, names)
    figure.suptitle(f"{title} ({units_text})")
    return figure
