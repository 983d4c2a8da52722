"""Sparse-coding figures from plain arrays: atoms, their learning, wiring and codes.

* :func:`atom_grid_figure`: every atom of a dictionary as one tile of a grid;
* :func:`write_atom_animation`: the same grid after each epoch, as a GIF
  built with numpy and Pillow (no matplotlib), the same bytes for the same
  input;
* :func:`loss_curves_figure`: loss per epoch, one line per run: one colour
  per compression scheme, the solver as line style (:func:`run_styles`);
* :func:`wiring_figure`: which pixels each compressed unit of a compression
  matrix reads, drawn as the matrix and on the patch grid;
* :func:`sparsity_histogram_figure`: the distribution of code values and of
  active atoms per patch, one step histogram per run (styled like the loss
  curves).

Like :mod:`sparsefield.plots.rf`, nothing here fits anything.  Atoms are the
columns of ``atoms`` (n_pixels, n_atoms), pixels of a patch in raster (C,
row-major) order.  Save figures with
:func:`sparsefield.plots.style.save_figure`.
"""

import functools
import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.colors import to_rgb

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield._files import atomic_write
from sparsefield.errors import InputError
from sparsefield.plots.style import GREY, new_figure, styled, symmetric_limits
from sparsefield.sparse.atoms import code_sparsity, patch_shape_of
from sparsefield.sparse.dictionary import SOLVERS

#: Colour of the gaps between atom tiles (and of empty grid cells): outside
#: the grey ramp of the tiles, so a gap never looks like a pixel value.
GAP_COLOUR = "#b7cde3"

#: Pixels of gap between tiles of the atom mosaic (before any upscaling).
_GAP = 1

#: Figure width of the atom grid, inches: per tile column, and the bounds.
_TILE_INCHES = 0.3
_GRID_WIDTH = (3.6, 7.5)

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
_SOLVER_SUFFIX = re.compile(rf"^(?P<group>.*\S)[\s_-]+(?P<solver>{'|'.join(map(re.escape, SOLVERS))})$", re.IGNORECASE)

#: Above this many runs, the loss legend moves outside the axes.
_LEGEND_INSIDE = 4

#: Largest frame rate of the animation: GIF delays are whole hundredths of a
#: second and viewers slow down delays below 0.02 s.
_MAX_FPS = 50.0

#: A 3 x 5 pixel font for the epoch number in the animation ("1" is drawn
#: as a stem with a foot, so every glyph differs from every other).
_DIGITS = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", "###", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", ".#.", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
}

#: Palette index of the gaps in the GIF; indices 0..254 are grey levels from
#: black (value -1) to white (value +1).
_GAP_INDEX = 255

#: Pixels of the animation (before ``scale``) per pixel of the 3 x 5 font.
_LABEL_SCALE = 2


# --------------------------------------------------------------------------
# checks


_plot_array = functools.partial(as_float_array, finite=True, allow_empty=False)


def _atom_stack(atoms, patch_shape, name):
    """Checked ``atoms`` (n_pixels, n_atoms) and ``(height, width)``."""
    atoms = _plot_array(atoms, name, 2)
    return atoms, patch_shape_of(patch_shape, atoms.shape[0], name)


def _order(order, n_atoms):
    """Atom indices to show: ``order`` checked, or all atoms in their order."""
    if order is None:
        return np.arange(n_atoms)
    order = np.asarray(order)
    if order.ndim != 1 or order.size == 0 or order.dtype.kind not in "iu":
        raise InputError("order", f"expected a non-empty 1-D array of atom indices, got {order!r:.80}")
    if order.min() < 0 or order.max() >= n_atoms:
        raise InputError("order", f"indices must lie in [0, {n_atoms - 1}], got {order.min()}..{order.max()}")
    if np.unique(order).size != order.size:
        raise InputError("order", "repeats an atom index")
    return order.astype(np.intp)


def _mapping(value, name):
    """``value`` as a non-empty list of (str label, item) pairs."""
    if not isinstance(value, Mapping) or len(value) == 0:
        raise InputError(name, f"expected a non-empty mapping label -> data, got {type(value).__name__}")
    return [(str(label), item) for label, item in value.items()]


# --------------------------------------------------------------------------
# the atom mosaic, shared by the figure and the animation


def atom_mosaic(atoms, patch_shape, order=None, n_columns=None):
    """All atoms as tiles of one image, each scaled to its own largest ``|value|``.

    Parameters
    ----------
    atoms : array_like of shape (n_pixels, n_atoms)
        One atom per column, pixels in raster order.
    patch_shape : int or tuple of int
        ``p`` or ``(height, width)`` with ``height * width == n_pixels``.
    order : array_like of int, optional
        Atom indices to show, in this order (a permutation or a subset, e.g.
        atoms sorted by usage); None shows all in column order.
    n_columns : int, optional
        Tiles per row; None gives ``ceil(sqrt(n_shown))``.

    Returns
    -------
    mosaic : ndarray of shape (rows * (height + 1) + 1, n_columns * (width + 1) + 1)
        Tile ``i`` (row-major over the grid) is atom ``order[i]`` divided by
        its largest ``|value|`` (an all-zero atom stays 0), so values lie in
        [-1, 1]; the one-pixel gaps around tiles and unused grid cells are NaN.
    """
    atoms, (height, width) = _atom_stack(atoms, patch_shape, "atoms")
    shown = atoms[:, _order(order, atoms.shape[1])]
    n_shown = shown.shape[1]
    n_columns = math.ceil(math.sqrt(n_shown)) if n_columns is None else as_int(n_columns, "n_columns", minimum=1)
    n_rows = math.ceil(n_shown / n_columns)
    scale = np.max(np.abs(shown), axis=0)
    tiles = shown / np.where(scale > 0.0, scale, 1.0)
    mosaic = np.full((n_rows * (height + _GAP) + _GAP, n_columns * (width + _GAP) + _GAP), np.nan)
    for index in range(n_shown):
        grid_row, grid_col = divmod(index, n_columns)
        top = _GAP + grid_row * (height + _GAP)
        left = _GAP + grid_col * (width + _GAP)
        mosaic[top : top + height, left : left + width] = tiles[:, index].reshape(height, width)
    return mosaic


def _grey_with_gaps():
    """The grey colour map with NaN (gaps) drawn in :data:`GAP_COLOUR`."""
    from matplotlib import colormaps

    return colormaps[GREY].with_extremes(bad=GAP_COLOUR)


# --------------------------------------------------------------------------
# figures


@styled
def atom_grid_figure(atoms, patch_shape, title, order=None):
    """Every atom of a dictionary as a small grey tile of one grid.

    Parameters
    ----------
    atoms : array_like of shape (n_pixels, n_atoms)
        One atom per column (e.g. 256 atoms of 16 x 16 pixels; up to a
        thousand or so stay legible), pixels in raster order.
    patch_shape : int or tuple of int
        ``p`` or ``(height, width)`` with ``height * width == n_pixels``.
    title : str
        Figure title (which run, which epoch).
    order : array_like of int, optional
        Atom indices in the order to show them (e.g. by decreasing usage);
        may be a subset.  None shows all atoms in column order.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one image: :func:`atom_mosaic`, tiles left to right,
        then top to bottom, each on its own symmetric scale (black = -max,
        mid-grey = 0, white = +max of that atom); gaps in :data:`GAP_COLOUR`.
    """
    atoms, (height, width) = _atom_stack(atoms, patch_shape, "atoms")
    mosaic = atom_mosaic(atoms, (height, width), order)
    n_shown = _order(order, atoms.shape[1]).size
    figure_width = float(np.clip(_TILE_INCHES * mosaic.shape[1] / (width + _GAP), *_GRID_WIDTH))
    figure = new_figure(figure_width, figure_width * mosaic.shape[0] / mosaic.shape[1] + 0.55)
    axes = figure.subplots()
    axes.imshow(mosaic, cmap=_grey_with_gaps(), vmin=-1.0, vmax=1.0, interpolation="nearest")
    axes.set_axis_off()
    shown = f"{n_shown} of {atoms.shape[1]} atoms" if n_shown < atoms.shape[1] else f"{n_shown} atoms"
    ordered = ", reordered" if order is not None else ""
    figure.suptitle(f"{title}\n{shown}{ordered}, {height}×{width} pixels\neach tile scaled to its own max |value|")
    return figure


@styled
def loss_curves_figure(curves, ylabel, title, log_y=False, xlabel="epoch"):
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
    for (label, epochs, values), style in zip(lines, styles):
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


def run_styles(labels):
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
        return [{"color": f"C{index % 10}", "linestyle": _LINE_STYLES[(index // 10) % len(_LINE_STYLES)]}
                for index in range(len(labels))]
    groups, solvers, styles = {}, {}, []
    for label, match in zip(labels, parsed):
        group, solver = (match["group"], match["solver"].lower()) if match else (label, "")
        group_index = groups.setdefault(group, len(groups))
        solver_index = solvers.setdefault(solver, len(solvers))
        style = {"color": f"C{group_index % 10}", **_SOLVER_STYLES[solver_index % len(_SOLVER_STYLES)]}
        marker = _GROUP_MARKERS[(group_index // 10) % len(_GROUP_MARKERS)]
        if marker is not None:
            style.update(marker=marker, markersize=3.0, markevery=0.1)
        styles.append(style)
    return styles


@styled
def wiring_figure(matrices, labels, patch_shape=None, n_examples=3, title=None):
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
        raise InputError("matrices", "expected a sequence of matrices; wrap a single matrix in a list")
    matrices = [_plot_array(matrix, f"matrices[{index}]", 2) for index, matrix in enumerate(matrices)]
    if not matrices:
        raise InputError("matrices", "is empty")
    labels = [str(label) for label in labels]
    if len(labels) != len(matrices):
        raise InputError("labels", f"expected {len(matrices)} labels, one per matrix, got {len(labels)}")
    shapes = [None] * len(matrices)
    if patch_shape is not None:
        n_examples = as_int(n_examples, "n_examples", minimum=0, maximum=len(_EXAMPLE_COLOURS))
        shapes = [patch_shape_of(patch_shape, m.shape[1], f"matrices[{i}]") for i, m in enumerate(matrices)]
    else:
        n_examples = 0
    column_width = 2.4 if n_examples == 0 else max(2.4, 0.8 * n_examples)
    matrix_height = max(0.9, min(2.4, column_width * max(m.shape[0] / m.shape[1] for m in matrices)))
    example_height = column_width / max(n_examples, 1) if n_examples else 0.0
    figure = new_figure(column_width * len(matrices) + 0.3, matrix_height + example_height + 1.0)
    columns = figure.subfigures(1, len(matrices), squeeze=False)[0]
    for column, matrix, label, shape in zip(columns, matrices, labels, shapes):
        _draw_wiring(column, matrix, label, shape, n_examples)
    figure.suptitle(
        title
        if title is not None
        else "Wiring of the compression matrices: |Φ| (rows: compressed units, columns: pixels)"
        + ("\nbelow: the pixels that example rows read, on the patch grid" if n_examples else "")
    )
    return figure


def _draw_wiring(subfigure, matrix, label, patch_shape, n_examples):
    magnitude = np.abs(matrix)
    vmax = symmetric_limits(magnitude)
    n_units, n_pixels = matrix.shape
    rows = [int((index + 0.5) * n_units / n_examples) for index in range(n_examples)]
    if n_examples:
        top, bottom = subfigure.subfigures(2, 1, height_ratios=[2.0, 1.0])
    else:
        top, bottom = subfigure, None
    matrix_axes = top.subplots()
    matrix_axes.imshow(magnitude, cmap=_MAGNITUDE, vmin=0.0, vmax=vmax, aspect="auto", interpolation="nearest")
    matrix_axes.set_xlabel("pixel")
    matrix_axes.set_ylabel("compressed unit")
    density = np.count_nonzero(matrix) / matrix.size
    matrix_axes.set_title(f"{label}\n{n_units}×{n_pixels}, {100.0 * density:.1f} % non-zero")
    if not n_examples:
        return
    matrix_axes.set_yticks(rows)
    for tick, colour in zip(matrix_axes.get_yticklabels(), _EXAMPLE_COLOURS):
        tick.set_color(colour)
    example_axes = bottom.subplots(1, n_examples, squeeze=False)[0]
    for axes, row, colour in zip(example_axes, rows, _EXAMPLE_COLOURS):
        axes.imshow(magnitude[row].reshape(patch_shape), cmap=_MAGNITUDE, vmin=0.0, vmax=vmax)
        axes.set_xticks([])
        axes.set_yticks([])
        axes.spines[:].set_visible(True)
        axes.spines[:].set_edgecolor(colour)
        axes.set_title(f"unit {row}", color=colour)


@styled
def sparsity_histogram_figure(codes_by_label, bins=60, title="Sparsity of the codes", tolerance=0.0):
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
        codes = _plot_array(codes, f"codes_by_label[{label!r}]", 2)
        runs.append((label, codes, code_sparsity(codes, tolerance)))
    active_values = [codes[np.abs(codes) > tolerance] for _, codes, _ in runs]
    vmax = symmetric_limits(*active_values)
    value_edges = np.linspace(-vmax, vmax, bins + 1)
    most_active = max(int(np.max(np.sum(np.abs(codes) > tolerance, axis=1))) for _, codes, _ in runs)
    count_edges = np.arange(most_active + 2) - 0.5
    figure = new_figure(9.0, 3.6 + 0.17 * math.ceil(len(runs) / 2))
    value_axes, count_axes = figure.subplots(1, 2)
    styles = run_styles([label for label, _, _ in runs])
    for (label, codes, sparsity), values, style in zip(runs, active_values, styles):
        style = {key: value for key, value in style.items() if not key.startswith("marker")}
        name = (
            f"{label}: {100.0 * sparsity.fraction_nonzero:.1f} % active, "
            f"{sparsity.mean_active:.1f} per patch, kurtosis {sparsity.kurtosis:.1f}"
        )
        counts, _ = np.histogram(values, value_edges)
        value_axes.stairs(counts / codes.size, value_edges, label=name, baseline=None, **style)
        active = np.sum(np.abs(codes) > tolerance, axis=1)
        per_patch, _ = np.histogram(active, count_edges)
        count_axes.stairs(per_patch / codes.shape[0], count_edges, label=name, baseline=None, **style)
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


# --------------------------------------------------------------------------
# the animation


def write_atom_animation(phi_history, patch_shape, path, fps=4.0, max_atoms=256, scale=2, order=None):
    """Write the atom grid after each epoch as an animated GIF, reproducibly.

    Each frame is built with numpy alone: the epoch number (1-based, a 3 x 5
    pixel font drawn 2 pixels per font pixel, black on the gap colour) above :func:`atom_mosaic` of that
    epoch's atoms, each atom scaled to its own largest ``|value|`` in that
    frame, quantised to 255 grey levels (palette index ``round((v + 1) / 2 *
    254)``; index 255 is :data:`GAP_COLOUR`) and upscaled by ``scale``
    (nearest neighbour).  Pillow writes the frames with a fixed palette,
    ``loop=0`` (repeat forever) and ``optimize=False``; GIF carries no
    timestamp or software version, so the same input gives the same bytes.
    Consecutive frames always differ (in their epoch number), so the file has
    one frame per epoch.  The file is written through
    :func:`sparsefield._files.atomic_write`; missing parent folders are
    created.

    Parameters
    ----------
    phi_history : array_like of shape (n_epochs, n_pixels, n_atoms)
        The dictionary after each epoch, one atom per column.
    patch_shape : int or tuple of int
        ``p`` or ``(height, width)`` with ``height * width == n_pixels``.
    path : str or os.PathLike
        Destination ``.gif`` file.
    fps : float, default 4.0
        Frames per second, in (0, 50]; GIF stores each frame's delay in
        whole hundredths of a second (``round(100 / fps)``).
    max_atoms : int, default 256
        Show at most this many atoms: the first ``max_atoms`` of ``order``
        (or of the columns).
    scale : int, default 2
        Screen pixels per atom pixel.
    order : array_like of int, optional
        Atom indices in the order to show them; see :func:`atom_mosaic`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        On a ``phi_history`` that is not 3-D, empty or finite, a
        ``patch_shape`` that does not fit, or a setting out of range.
    """
    from PIL import Image

    phi_history = _plot_array(phi_history, "phi_history", 3)
    n_epochs, n_pixels, n_atoms = phi_history.shape
    patch = patch_shape_of(patch_shape, n_pixels, "phi_history")
    fps = as_float(fps, "fps", minimum=0.0, strict=True, maximum=_MAX_FPS)
    max_atoms = as_int(max_atoms, "max_atoms", minimum=1)
    scale = as_int(scale, "scale", minimum=1, maximum=16)
    shown = _order(order, n_atoms)[:max_atoms]
    palette = _palette()
    frames = []
    for epoch in range(n_epochs):
        indices = _animation_frame(phi_history[epoch], patch, epoch + 1, shown, scale)
        frame = Image.frombytes("P", (indices.shape[1], indices.shape[0]), indices.tobytes())
        frame.putpalette(palette, "RGB")
        frames.append(frame)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        frames[0].save(
            handle,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=10 * round(100.0 / fps),
            loop=0,
            optimize=False,
        )
    return path


def _animation_frame(atoms, patch_shape, epoch, shown, scale):
    """Palette indices of one animation frame (see :func:`write_atom_animation`).

    Parameters
    ----------
    atoms : ndarray of shape (n_pixels, n_atoms)
        The dictionary at this epoch (checked by the caller).
    patch_shape : tuple of int
        ``(height, width)``.
    epoch : int
        Number written above the grid.
    shown : ndarray of int
        Atom indices to show, in order.
    scale : int
        Upscaling factor.

    Returns
    -------
    ndarray of uint8, shape (frame_height * scale, frame_width * scale)
        0..254 grey levels, 255 the gap colour.
    """
    mosaic = atom_mosaic(atoms, patch_shape, shown)
    tiles = np.full(mosaic.shape, _GAP_INDEX, dtype=np.uint8)
    inside = np.isfinite(mosaic)
    tiles[inside] = np.rint((mosaic[inside] + 1.0) * 127.0).astype(np.uint8)
    label = np.repeat(np.repeat(_render_number(epoch), _LABEL_SCALE, axis=0), _LABEL_SCALE, axis=1)
    width = max(tiles.shape[1], label.shape[1] + 2 * _GAP)
    strip = np.full((label.shape[0] + 2 * _GAP, width), _GAP_INDEX, dtype=np.uint8)
    strip[_GAP : _GAP + label.shape[0], _GAP : _GAP + label.shape[1]][label] = 0
    body = np.full((tiles.shape[0], width), _GAP_INDEX, dtype=np.uint8)
    body[:, : tiles.shape[1]] = tiles
    frame = np.vstack([strip, body])
    return np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)


def _render_number(number):
    """Boolean pixels (5, 4 * digits - 1) of ``number`` in the 3 x 5 font."""
    glyphs = []
    for digit in str(int(number)):
        glyph = np.array([[char == "#" for char in line] for line in _DIGITS[digit]])
        glyphs.extend([glyph, np.zeros((5, 1), dtype=bool)])
    return np.hstack(glyphs[:-1])


def _palette():
    """Flat RGB palette bytes: 255 grey levels, then :data:`GAP_COLOUR`."""
    greys = np.rint(np.arange(255) * 255.0 / 254.0).astype(np.uint8)
    palette = np.repeat(greys[:, None], 3, axis=1)
    gap = np.rint(np.array(to_rgb(GAP_COLOUR)) * 255.0).astype(np.uint8)
    return np.vstack([palette, gap[None, :]]).tobytes()

