"""The figure style and the deterministic save, each written once.

Every figure function in :mod:`sparsefield.plots` is wrapped in :func:`styled`,
which applies :data:`STYLE` with :func:`matplotlib.rc_context` while the figure
is built, and builds it with :func:`new_figure`: a plain
:class:`matplotlib.figure.Figure` attached to an Agg canvas.  Nothing here
imports :mod:`matplotlib.pyplot` or changes the user's backend or rcParams.

:func:`save_figure` writes PNG, PDF or SVG (chosen by the file extension) with
the same style, the resolution asked for (:data:`DPI` by default) and no
timestamps or version stamps that would change between runs, so that the same
inputs give the same bytes.
"""

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from sparsefield._checks import as_float
from sparsefield._files import atomic_write
from sparsefield._typing import StrPath
from sparsefield.errors import InputError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

_P = ParamSpec("_P")

#: Default resolution of saved raster output, dots per inch.
DPI = 150

#: Colormap for signed quantities (receptive fields, z-scores), centred at 0.
DIVERGING = "RdBu_r"

#: Colormap for stimulus intensities.
GREY = "gray"

#: Fixed salt for the ids matplotlib writes into SVG files.
SVG_HASHSALT = "sparsefield"

#: rcParams applied while a figure is built and while it is saved.  Fonts
#: are the DejaVu family that ships with matplotlib, so output does not depend
#: on the fonts installed on the machine.
STYLE: "dict[RcKeyType, Any]" = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "mathtext.fontset": "dejavusans",
    "font.size": 8.0,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8.0,
    "figure.titlesize": 10.0,
    "xtick.labelsize": 7.0,
    "ytick.labelsize": 7.0,
    "legend.fontsize": 7.0,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.2,
    "lines.markersize": 4.0,
    "image.interpolation": "nearest",
    "image.origin": "upper",
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.dpi": DPI,
    "svg.hashsalt": SVG_HASHSALT,
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}

#: Extension -> (matplotlib format, metadata that removes run-dependent stamps).
_FORMATS = {
    ".png": ("png", {"Software": None}),
    ".pdf": ("pdf", {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None}),
    ".svg": ("svg", {"Creator": None, "Date": None}),
}


def styled(function: Callable[_P, Figure]) -> Callable[_P, Figure]:
    """Build the figure returned by ``function`` under :data:`STYLE`.

    Lazily created artists (tick labels) are resolved inside the style by a
    draw without rendering, so the figure looks the same wherever it is
    drawn later.

    Parameters
    ----------
    function : callable
        A figure function returning a :class:`matplotlib.figure.Figure`.

    Returns
    -------
    callable
        The wrapped function.
    """

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Figure:
        with matplotlib.rc_context(STYLE):
            figure = function(*args, **kwargs)
            figure.draw_without_rendering()
        return figure

    return wrapper


def new_figure(width: float, height: float) -> Figure:
    """Return an empty figure with constrained layout on an Agg canvas.

    Parameters
    ----------
    width, height : float
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with :mod:`matplotlib.pyplot`.
    """
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def symmetric_limits(*arrays: ArrayLike) -> float:
    """Return ``vmax`` for a colour scale ``[-vmax, vmax]`` shared by all arrays.

    Parameters
    ----------
    *arrays : array_like
        Any shapes; non-finite values are ignored.

    Returns
    -------
    float
        The largest finite absolute value over all arrays, or 1.0 when there
        is none or it is 0 (so that the scale is never empty).
    """
    vmax = 0.0
    for array in arrays:
        values = np.abs(np.asarray(array, dtype=float))
        values = values[np.isfinite(values)]
        if values.size:
            vmax = max(vmax, float(values.max()))
    return vmax if vmax > 0.0 else 1.0


def save_figure(figure: Figure, path: StrPath, dpi: float | None = None) -> Path:
    """Write ``figure`` to ``path`` atomically and reproducibly, then close it.

    The format follows the extension: ``.png`` (at ``dpi``), ``.pdf`` or
    ``.svg``.  Metadata that changes between runs (software version,
    creation dates) is left out and SVG ids use a fixed salt, so the same
    figure gives the same bytes.  The file is written to a temporary name in
    the same folder and moved into place with :func:`os.replace`
    (:func:`sparsefield._files.atomic_write`); when anything fails, no file is
    left at ``path`` or beside it.  Missing parent folders are created.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure to save.  It is closed afterwards (removed from
        :mod:`matplotlib.pyplot` if pyplot manages it), also when saving fails.
    path : str or os.PathLike
        Destination file.
    dpi : float, optional
        Resolution in dots per inch (raster output and images embedded in
        PDF/SVG); None uses the style's :data:`DPI`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    sparsefield.errors.InputError
        When the extension is not one of ``.png``, ``.pdf``, ``.svg``, or
        ``dpi`` is not a positive number (a :class:`ValueError`).
    """
    path = Path(path)
    try:
        if path.suffix.lower() not in _FORMATS:
            raise InputError(path, f"unsupported figure format {path.suffix!r}; "
                             f"use one of {sorted(_FORMATS)}")
        dpi = DPI if dpi is None else as_float(dpi, "dpi", minimum=0.0, strict=True)
        file_format, metadata = _FORMATS[path.suffix.lower()]
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as handle, matplotlib.rc_context(STYLE):
            figure.savefig(handle, format=file_format, dpi=dpi, metadata=metadata)
    finally:
        _close(figure)
    return path


def _close(figure: Figure) -> None:
    """Close ``figure`` in pyplot if pyplot is in use; never import pyplot."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(figure)
