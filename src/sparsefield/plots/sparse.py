"""Sparse-coding figures from plain arrays: learning, wiring and codes of several runs.

* :func:`loss_curves_figure`: loss per epoch, one line per run: one colour
  per compression scheme, the solver as line style (:func:`run_styles`);
* :func:`wiring_figure`: which pixels each compressed unit of a compression
  matrix reads, drawn as the matrix and on the patch grid;
* :func:`sparsity_histogram_figure`: the distribution of code values and of
  active atoms per patch, one step histogram per run (styled like the loss
  curves).

The atoms themselves (the atom grid and its animation over epochs) are drawn
by :mod:`sparsefield.plots.atoms`.  Like the other figure modules, nothing
here fits anything.  Save figures with
:func:`sparsefield.plots.style.save_figure`.
"""

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
from matplotlib.figure import Figure, SubFigure
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield.errors import InputError
from sparsefield.plots.layout import finite_plot_array
from sparsefield.plots.style import new_figure, styled, symmetric_limits
from sparsefield.sparse.atoms import code_sparsity, patch_shape_of
from sparsefield.sparse.dictionary import SOLVERS

__all__ = ["loss_curves_figure", "run_styles", "sparsity_histogram_figure", "wiring_figure"]

#: Colour map of unsigned magnitudes (|Φ|): white at 0, black at the largest.
_MAGNITUDE = "Greys"

#: Colours of the example rows in the wiring figure.
_EXAMPLE_COLOURS = ("C3", "C0", "C2", "C1", "C4", "C5")

#: Line styles cycled after every 10 colours of the default colour cycle, so
#: that up to 40 runs stay distinct in one loss plot (runs without a solver
#: in their label).
_LINE_STYLES = ("-", "--", ":", "-.")

#: Style of each solver of a run, in the order the solvers first appear among
#: the labels.  The first is a wide, light band and the others thin lines
#: drawn on top of it, so that two solvers that reach the same loss (FISTA
#: and ADMM solve the same problem) stay visible as a line inside a band.
_SOLVER_STYLES = (
    {"linestyle": "-", "linewidth": 3.2, "alpha": 0.4, "zorder": 2.0},
    {"linestyle": "--", "linewidth": 1.2, "alpha": 1.0, "zorder": 2.2},
    {"linestyle": ":", "linewidth": 1.5, "alpha": 1.0, "zorder": 2.3},
    {"linestyle": "-.", "linewidth": 1.2, "alpha": 1.0, "zorder": 2.4},
)

#: Markers that tell apart groups whose colours repeat (more than 10 groups).
_GROUP_MARKERS = (None, "o", "s", "^")

#: A run label that ends in a solver name: "bdm-J4-fista", "dense J=1 ADMM".
_SOLVER_SUFFIX = re.compile(
    rf"^(?P<group>.*\S)[\s_-]+(?P<solver>{'|'.join(map(re.escape, SOLVERS))})$", re.IGNORECASE)

#: Above this many runs, the loss legend moves outside the axes.
_LEGEND_INSIDE = 4


# --------------------------------------------------------------------------
# checks


def _mapping(value: Any, name: str) -> list[tuple[str, Any]]:
    """``value`` as a non-empty list of (str label, item) pairs."""
    if not isinstance(value, Mapping) or len(value) == 0:
        raise InputError(name, "expected a non-empty mapping label -> data, "
                               f"got {type(value).__name__}")
    return [(str(label), item) for label, item in value.items()]


# --------------------------------------------------------------------------
# figures


@styled
def loss_curves_figure(curves: Mapping[str, tuple[ArrayLike, ArrayLike]], ylabel: str, title: str,
                       log_y: bool = False, xlabel: str = "epoch") -> Figure:
    """Loss per epoch, one line per run.

    Parameters
    ----------
    curves : mapping of str to (epochs, values)
        One entry per run (e.g. ``"bdm J=4 FISTA"``): ``epochs`` of shape
        (n_epochs,) and ``values`` of the same shape.  NaN values are gaps.
    ylabel : str
        What the values are, e.g. "validation loss per patch (pixel space)".
    title : str
        Figure title.
    log_y : bool, default False
        Logarithmic value axis (every finite value must then be > 0).
    xlabel : str, default "epoch"
        Label of the horizontal axis.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one line per run, in the mapping's order, labelled in a
        legend (beside the axes, below the title, for more than 4 runs).
        Runs of one compression scheme share a colour and each solver has
        its own line style (:func:`run_styles`), so that FISTA and ADMM runs
        of the same scheme read as a pair and stay visible when they
        overlap.
    """
    entries = _mapping(curves, "curves")
    lines = []
    for label, pair in entries:
        source = f"curves[{label!r}]"
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InputError(source, "expected a pair (epochs, values)")
        epochs = as_float_array(pair[0], source, 1, allow_empty=False)
        values = as_float_array(pair[1], source, 1, length=epochs.size, finite=False)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            raise InputError(source, "has no finite values")
        if log_y and np.any(finite <= 0.0):
            raise InputError(source, f"log_y needs values > 0, got minimum {finite.min():g}")
        lines.append((label, epochs, values))
    figure = new_figure(6.5 if len(lines) > _LEGEND_INSIDE else 5.0, 3.4)
    axes = figure.subplots()
    styles = run_styles([label for label, _, _ in lines])
    for (label, epochs, values), style in zip(lines, styles, strict=True):
        axes.plot(epochs, values, label=label, **style)
    if log_y:
        axes.set_yscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if len(lines) > _LEGEND_INSIDE:
        # beside the axes, from their top down: below the figure title, and
        # inside the figure (constrained layout makes room for it)
        axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                    ncols=math.ceil(len(lines) / 20))
    else:
        axes.legend(loc="best")
    figure.suptitle(title)
    return figure


def run_styles(labels: Sequence[str]) -> list[dict[str, Any]]:
    """Line style of each run: one colour per group of runs, the solver as line style.

    A label that ends in a solver name (:data:`sparsefield.sparse.dictionary.SOLVERS`,
    any case, after ``-``, ``_`` or a space), like the workflow's run names
    ``"bdm-J4-fista"``, belongs to the group named by the rest
    (``"bdm-J4"``: the compression scheme and its localization).  Runs of one
    group share a colour; each solver has its own line style, the same in
    every group (:data:`_SOLVER_STYLES`: the first solver a wide light band,
    the others thin dashed or dotted lines on top, so runs that overlap
    exactly stay visible).  Without any solver in the labels, each run gets
    its own colour and the line style changes every 10 runs.

    Parameters
    ----------
    labels : sequence of str
        Run labels, in drawing order.

    Returns
    -------
    list of dict
        Keyword arguments for :meth:`matplotlib.axes.Axes.plot` (also valid
        for :meth:`~matplotlib.axes.Axes.stairs`), one per label: ``color``,
        ``linestyle``, ``linewidth``, ``alpha``, ``zorder`` and, beyond 10
        groups, ``marker``.
    """
    parsed = [_SOLVER_SUFFIX.match(label) for label in labels]
    if not any(parsed):
        return [{"color": f"C{index % 10}",
                 "linestyle": _LINE_STYLES[(index // 10) % len(_LINE_STYLES)]}
                for index in range(len(labels))]
    groups: dict[str, int] = {}
    solvers: dict[str, int] = {}
    styles: list[dict[str, Any]] = []
    for label, match in zip(labels, parsed, strict=True):
        group, solver = (match["group"], match["solver"].lower()) if match else (label, "")
        group_index = groups.setdefault(group, len(groups))
        solver_index = solvers.setdefault(solver, len(solvers))
        style = {"color": f"C{group_index % 10}",
                 **_SOLVER_STYLES[solver_index % len(_SOLVER_STYLES)]}
        marker = _GROUP_MARKERS[(group_index // 10) % len(_GROUP_MARKERS)]
        if marker is not None:
            style.update(marker=marker, markersize=3.0, markevery=0.1)
        styles.append(style)
    return styles


@styled
def wiring_figure(matrices: Sequence[ArrayLike], labels: Sequence[str],
                  patch_shape: int | Sequence[int] | None = None, n_examples: int = 3,
                  title: str | None = None) -> Figure:
    """Which pixels each compressed unit reads, for several compression matrices.

    Parameters
    ----------
    matrices : sequence of array_like of shape (M, N)
        Compression matrices Φ (compressed units x pixels), e.g. none
        (identity), dense, block diagonal, banded.  ``M`` may differ between
        them; with ``patch_shape``, ``N`` must fit it.
    labels : sequence of str
        One name per matrix.
    patch_shape : int or tuple of int, optional
        ``p`` or ``(height, width)`` of the patch whose pixels are Φ's
        columns (raster order).  Given, each matrix also gets
        ``n_examples`` maps of ``|Φ[row]|`` on the patch grid: the pixels one
        unit reads, which shows whether units read compact tiles (Hilbert
        order) or whole pixel rows (raster order).
    n_examples : int, default 3
        Example rows per matrix (with ``patch_shape``), at the middles of
        ``n_examples`` equal parts of the rows: ``floor((i + 0.5) M /
        n_examples)``: the matrix's y ticks, labelled in the colour of
        their map.
    title : str, optional
        Figure title; None gives a description of what is drawn.

    Returns
    -------
    matplotlib.figure.Figure
        One column per matrix: ``|Φ|`` as an image (white 0, black the
        matrix's largest ``|value|``; rows = compressed units, columns =
        pixels), titled with the label, the shape and the share of non-zero
        entries; below it, with ``patch_shape``, the example maps on the same
        scale.
    """
    if isinstance(matrices, np.ndarray) and matrices.ndim == 2:
        raise InputError("matrices",
                         "expected a sequence of matrices; wrap a single matrix in a list")
    arrays = [finite_plot_array(matrix, f"matrices[{index}]", 2)
              for index, matrix in enumerate(matrices)]
    if not arrays:
        raise InputError("matrices", "is empty")
    labels = [str(label) for label in labels]
    if len(labels) != len(arrays):
        raise InputError("labels",
                         f"expected {len(arrays)} labels, one per matrix, got {len(labels)}")
    shapes: list[tuple[int, int] | None] = [None] * len(arrays)
    if patch_shape is not None:
        n_examples = as_int(n_examples, "n_examples", minimum=0, maximum=len(_EXAMPLE_COLOURS))
        shapes = [patch_shape_of(patch_shape, m.shape[1], f"matrices[{i}]")
                  for i, m in enumerate(arrays)]
    else:
        n_examples = 0
    column_width = 2.4 if n_examples == 0 else max(2.4, 0.8 * n_examples)
    matrix_height = max(0.9, min(2.4, column_width * max(m.shape[0] / m.shape[1]
                                                          for m in arrays)))
    example_height = column_width / max(n_examples, 1) if n_examples else 0.0
    figure = new_figure(column_width * len(arrays) + 0.3, matrix_height + example_height + 1.0)
    columns = figure.subfigures(1, len(arrays), squeeze=False)[0]
    for column, matrix, label, shape in zip(columns, arrays, labels, shapes, strict=True):
        _draw_wiring(column, matrix, label, shape, n_examples)
    figure.suptitle(
        title
        if title is not None
        else "Wiring of the compression matrices: |Φ| (rows: compressed units, columns: pixels)"
        + ("\nbelow: the pixels that example rows read, on the patch grid" if n_examples else "")
    )
    return figure


def _draw_wiring(subfigure: SubFigure, matrix: NDArray[np.float64], label: str,
                 patch_shape: tuple[int, int] | None, n_examples: int) -> None:
    magnitude = np.abs(matrix)
    vmax = symmetric_limits(magnitude)
    n_units, n_pixels = matrix.shape
    rows = [int((index + 0.5) * n_units / n_examples) for index in range(n_examples)]
    top: SubFigure
    bottom: SubFigure | None
    if n_examples:
        top, bottom = cast(np.ndarray, subfigure.subfigures(2, 1, height_ratios=[2.0, 1.0]))
    else:
        top, bottom = subfigure, None
    matrix_axes = top.subplots()
    matrix_axes.imshow(magnitude, cmap=_MAGNITUDE, vmin=0.0, vmax=vmax, aspect="auto",
                       interpolation="nearest")
    matrix_axes.set_xlabel("pixel")
    matrix_axes.set_ylabel("compressed unit")
    density = np.count_nonzero(matrix) / matrix.size
    matrix_axes.set_title(f"{label}\n{n_units}×{n_pixels}, {100.0 * density:.1f} % non-zero")
    if not n_examples:
        return
    matrix_axes.set_yticks(rows)
    for tick, colour in zip(matrix_axes.get_yticklabels(), _EXAMPLE_COLOURS, strict=False):
        tick.set_color(colour)
    example_axes = cast(SubFigure, bottom).subplots(1, n_examples, squeeze=False)[0]
    for axes, row, colour in zip(example_axes, rows, _EXAMPLE_COLOURS, strict=False):
        axes.imshow(magnitude[row].reshape(patch_shape), cmap=_MAGNITUDE, vmin=0.0, vmax=vmax)
        axes.set_xticks([])
        axes.set_yticks([])
        axes.spines[:].set_visible(True)
        axes.spines[:].set_edgecolor(colour)
        axes.set_title(f"unit {row}", color=colour)


@styled
def sparsity_histogram_figure(codes_by_label: Mapping[str, ArrayLike], bins: int = 60,
                              title: str = "Sparsity of the codes",
                              tolerance: float = 0.0) -> Figure:
    """Distribution of code values and of active atoms per patch, one step histogram per run.

    Parameters
    ----------
    codes_by_label : mapping of str to array_like of shape (n_patches, n_atoms)
        Codes (coefficients) of each run; runs may differ in both sizes.
    bins : int, default 60
        Number of equal bins of code value, shared by all runs and symmetric
        around 0 (from -max to +max ``|b|`` over all runs).
    title : str
        Figure title.
    tolerance : float, default 0.0
        A coefficient is active (non-zero) when ``|b| > tolerance``.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes, one step histogram (:class:`matplotlib.patches.StepPatch`)
        per run in each, styled by :func:`run_styles`.  Left: the active
        coefficients' values, as a share of all the run's coefficients
        (zeros included) on a log axis, so runs
        with different numbers of patches or atoms compare.  Right: the
        number of active atoms per patch, as a share of patches.  The legend
        gives each run's share of active coefficients, mean number of active
        atoms and the kurtosis of all its values
        (:func:`sparsefield.sparse.atoms.code_sparsity`).
    """
    entries = _mapping(codes_by_label, "codes_by_label")
    bins = as_int(bins, "bins", minimum=1)
    tolerance = as_float(tolerance, "tolerance", minimum=0.0)
    runs = []
    for label, codes in entries:
        codes = finite_plot_array(codes, f"codes_by_label[{label!r}]", 2)
        runs.append((label, codes, code_sparsity(codes, tolerance)))
    active_values = [codes[np.abs(codes) > tolerance] for _, codes, _ in runs]
    vmax = symmetric_limits(*active_values)
    value_edges = np.linspace(-vmax, vmax, bins + 1)
    most_active = max(int(np.max(np.sum(np.abs(codes) > tolerance, axis=1)))
                      for _, codes, _ in runs)
    count_edges = np.arange(most_active + 2) - 0.5
    figure = new_figure(9.0, 3.6 + 0.17 * math.ceil(len(runs) / 2))
    value_axes, count_axes = figure.subplots(1, 2)
    styles = run_styles([label for label, _, _ in runs])
    for (label, codes, sparsity), values, style in zip(runs, active_values, styles, strict=True):
        style = {key: value for key, value in style.items() if not key.startswith("marker")}
        name = (
            f"{label}: {100.0 * sparsity.fraction_nonzero:.1f} % active, "
            f"{sparsity.mean_active:.1f} per patch, kurtosis {sparsity.kurtosis:.1f}"
        )
        counts, _ = np.histogram(values, value_edges)
        value_axes.stairs(counts / codes.size, value_edges, label=name, baseline=None, **style)
        active = np.sum(np.abs(codes) > tolerance, axis=1)
        per_patch, _ = np.histogram(active, count_edges)
        count_axes.stairs(per_patch / codes.shape[0], count_edges, label=name, baseline=None,
                          **style)
    value_axes.set_yscale("log")
    value_axes.set_xlabel("code value b (active coefficients)")
    value_axes.set_ylabel("share of all coefficients")
    value_axes.set_title("active code values (zeros left out)")
    count_axes.set_xlabel("active atoms per patch")
    count_axes.set_ylabel("share of patches")
    count_axes.set_title("active atoms per patch")
    figure.legend(
        handles=count_axes.patches, loc="outside lower center", ncols=min(len(runs), 2)
    )
    figure.suptitle(title)
    return figure
