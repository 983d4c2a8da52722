"""Measured receptive fields over learned atoms: the Gabor comparison page.

One column per sparse-coding run (uncompressed and each compressed scheme side by side),
one row per property of the well-fitted maps (:mod:`sparsefield.gabor_table`): the
orientation, the spatial frequency and the envelope aspect ratio as histograms (share of
each set's maps per bin, so that one unit and 300 atoms share an axis), and Ringach's
``(n_x, n_y)`` plane with the units over the atoms.  Each column's title gives the
energy distance between the two ``(n_x, n_y)`` samples with its bootstrap interval
(:func:`sparsefield.gabor_compare.comparison_rows`).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from numpy.typing import NDArray

from sparsefield.errors import InputError
from sparsefield.gabor_compare import last_epoch
from sparsefield.gabor_table import GaborTable
from sparsefield.plots.style import new_figure, styled

#: Colours of the measured units and of the learned atoms.
UNIT_COLOUR = "tab:red"
ATOM_COLOUR = "0.55"
#: Bins of the three histograms: orientation (degrees), spatial frequency (cycles per
#: pixel, up to Nyquist) and aspect ratio (sigma_y / sigma_x; larger values go in the
#: last bin).
ORIENTATION_BINS = np.linspace(0.0, 180.0, 13)
FREQUENCY_BINS = np.linspace(0.0, 0.5, 11)
ASPECT_BINS = np.linspace(0.0, 8.0, 17)
#: Smallest upper limit of the (n_x, n_y) axes.
RINGACH_LIMIT = 1.0


@styled
def gabor_comparison_figure(measured: GaborTable, learned: Mapping[str, GaborTable],
                            rows: Sequence[Mapping[str, Any]], title: str = "") -> Figure:
    """The comparison page of a session against every run.

    Parameters
    ----------
    measured : GaborTable
        The session's fits (2-D maps).
    learned : mapping of str to GaborTable
        Run name to its atoms' fits; the last epoch is drawn.
    rows : sequence of dict
        :func:`sparsefield.gabor_compare.comparison_rows` of the same tables, in the
        order of ``learned`` (the energy distances of the titles).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        When there is no run, or ``rows`` does not match ``learned``.
    """
    if not learned:
        raise InputError("learned", "needs at least one sparse-coding run")
    if [row["run"] for row in rows] != list(learned):
        raise InputError("rows", "must have one row per run of learned, in its order")
    units = measured.select(measured.well_fitted)
    atoms = {run: last_epoch(table) for run, table in learned.items()}
    atoms = {run: table.select(table.well_fitted) for run, table in atoms.items()}
    limit = _ringach_limit([units, *atoms.values()])
    n_columns = len(learned)
    figure = new_figure(1.0 + 1.9 * n_columns, 7.6)
    grid = figure.subplots(4, n_columns, squeeze=False)
    for column, (run, row) in enumerate(zip(atoms, rows, strict=True)):
        table = atoms[run]
        panels = grid[:, column]
        _histogram(panels[0], units.orientation, table.orientation, ORIENTATION_BINS)
        _histogram(panels[1], units.frequency, table.frequency, FREQUENCY_BINS)
        _histogram(panels[2], np.minimum(units.aspect, ASPECT_BINS[-1]),
                   np.minimum(table.aspect, ASPECT_BINS[-1]), ASPECT_BINS)
        _ringach(panels[3], units, table, limit)
        panels[0].set_title(f"{run}\n{row['n_atoms_well_fitted']}/{row['n_atoms']} atoms "
                            f"well fitted\n{_energy_text(row)}")
        panels[0].set_xlabel("orientation (deg)")
        panels[1].set_xlabel("spatial frequency (cycles/pixel)")
        panels[2].set_xlabel("aspect ratio σy/σx")
        panels[3].set_xlabel("n_x = σx·f")
        if column == 0:
            for axes in panels[:3]:
                axes.set_ylabel("share of maps")
            panels[3].set_ylabel("n_y = σy·f")
    handles = [Patch(color=ATOM_COLOUR, label="learned atoms (well fitted; dots)"),
               Line2D([], [], color=UNIT_COLOUR, marker="x", linewidth=1.5,
                      label="measured units (well fitted; crosses)")]
    figure.legend(handles=handles, loc="outside lower center", ncols=2)
    figure.suptitle(f"{title}\n{len(units)}/{len(measured)} units well fitted (red) "
                    "over each run's well-fitted atoms (grey); E: energy distance of "
                    "(n_x, n_y), 95 % bootstrap interval".lstrip())
    return figure


def _histogram(axes: Axes, units: NDArray[np.float64], atoms: NDArray[np.float64],
               bins: NDArray[np.float64]) -> None:
    """Shares of the atoms (bars) and of the units (steps) per bin."""
    for values, style in ((atoms, {"color": ATOM_COLOUR, "histtype": "stepfilled"}),
                          (units, {"color": UNIT_COLOUR, "histtype": "step",
                                   "linewidth": 1.5})):
        finite = values[np.isfinite(values)]
        if finite.size:
            axes.hist(finite, bins=bins.tolist(), weights=np.full(finite.size, 1.0 / finite.size),
                      **style)
    axes.set_xlim(bins[0], bins[-1])
    axes.set_ylim(bottom=0.0)


def _ringach(axes: Axes, units: GaborTable, atoms: GaborTable, limit: float) -> None:
    """The (n_x, n_y) plane: atoms as grey dots, units as red crosses on top."""
    axes.scatter(atoms.n_x, atoms.n_y, s=6, color=ATOM_COLOUR, linewidths=0)
    axes.scatter(units.n_x, units.n_y, s=18, color=UNIT_COLOUR, marker="x", linewidths=1.0)
    axes.set_xlim(0.0, limit)
    axes.set_ylim(0.0, limit)
    axes.set_aspect("equal")
    if len(units) == 0:
        axes.text(0.5, 0.9, "no well-fitted unit", transform=axes.transAxes, ha="center")


def _ringach_limit(tables: Sequence[GaborTable]) -> float:
    """Upper limit of the (n_x, n_y) axes: the largest value, in [:data:`RINGACH_LIMIT`, 3]."""
    values = np.concatenate([np.concatenate([table.n_x, table.n_y]) for table in tables])
    values = values[np.isfinite(values)]
    top = float(values.max()) * 1.05 if values.size else RINGACH_LIMIT
    return float(np.clip(top, RINGACH_LIMIT, 3.0))


def _energy_text(row: Mapping[str, Any]) -> str:
    """``E 0.12 [0.05, 0.30]``, the energy distance and its interval (``n/a`` without
    both samples).
    """
    distance = row["energy_distance"]
    if not np.isfinite(distance):
        return "E n/a"
    if np.isfinite(row["energy_low"]):
        return f"E {distance:.2f} [{row['energy_low']:.2f}, {row['energy_high']:.2f}]"
    return f"E {distance:.2f}"
