"""Figures of a dictionary's atoms: the atom grid and its animation over epochs.

* :func:`atom_mosaic`: every atom as one tile of one image, shared by both;
* :func:`atom_grid_figure`: that mosaic as a figure;
* :func:`write_atom_animation`: the mosaic after each epoch, as a GIF built
  with numpy and Pillow (no matplotlib), the same bytes for the same input.

Like the other figure modules, nothing here fits anything.  Atoms are the
columns of ``atoms`` (n_pixels, n_atoms), pixels of a patch in raster (C,
row-major) order.  Save the figure with
:func:`sparsefield.plots.style.save_figure`.
"""

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import Colormap, to_rgb
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_int
from sparsefield._files import atomic_write
from sparsefield._typing import StrPath
from sparsefield.errors import InputError
from sparsefield.plots.layout import finite_plot_array
from sparsefield.plots.style import GREY, new_figure, styled
from sparsefield.sparse.atoms import patch_shape_of

__all__ = ["DIGITS", "GAP_COLOUR", "atom_grid_figure", "atom_mosaic", "write_atom_animation"]

#: Colour of the gaps between atom tiles (and of empty grid cells): outside
#: the grey ramp of the tiles, so a gap never looks like a pixel value.
GAP_COLOUR = "#b7cde3"

#: Pixels of gap between tiles of the atom mosaic (before any upscaling).
_GAP = 1

#: Figure width of the atom grid, inches: per tile column, and the bounds.
_TILE_INCHES = 0.3
_GRID_WIDTH = (3.6, 7.5)

#: Largest frame rate of the animation: GIF delays are whole hundredths of a
#: second and viewers slow down delays below 0.02 s.
_MAX_FPS = 50.0

#: A 3 x 5 pixel font for the epoch number in the animation ("1" is drawn
#: as a stem with a foot, so every glyph differs from every other).
DIGITS = {
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


def _atom_stack(atoms: ArrayLike, patch_shape: int | Sequence[int], name: str
                ) -> tuple[NDArray[np.float64], tuple[int, int]]:
    """Checked ``atoms`` (n_pixels, n_atoms) and ``(height, width)``."""
    atoms = finite_plot_array(atoms, name, 2)
    return atoms, patch_shape_of(patch_shape, atoms.shape[0], name)


def _order(order: ArrayLike | None, n_atoms: int) -> NDArray[np.intp]:
    """Atom indices to show: ``order`` checked, or all atoms in their order."""
    if order is None:
        return np.arange(n_atoms)
    order = np.asarray(order)
    if order.ndim != 1 or order.size == 0 or order.dtype.kind not in "iu":
        raise InputError("order",
                         f"expected a non-empty 1-D array of atom indices, got {order!r:.80}")
    if order.min() < 0 or order.max() >= n_atoms:
        raise InputError("order", f"indices must lie in [0, {n_atoms - 1}], "
                                  f"got {order.min()}..{order.max()}")
    if np.unique(order).size != order.size:
        raise InputError("order", "repeats an atom index")
    return order.astype(np.intp)


# --------------------------------------------------------------------------
# the atom mosaic, shared by the figure and the animation


def atom_mosaic(atoms: ArrayLike, patch_shape: int | Sequence[int], order: ArrayLike | None = None,
                n_columns: int | None = None) -> NDArray[np.float64]:
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
    n_columns = math.ceil(math.sqrt(n_shown)) if n_columns is None \
        else as_int(n_columns, "n_columns", minimum=1)
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


def _grey_with_gaps() -> Colormap:
    """The grey colour map with NaN (gaps) drawn in :data:`GAP_COLOUR`."""
    from matplotlib import colormaps

    return colormaps[GREY].with_extremes(bad=GAP_COLOUR)


# --------------------------------------------------------------------------
# the atom grid


@styled
def atom_grid_figure(atoms: ArrayLike, patch_shape: int | Sequence[int], title: str,
                     order: ArrayLike | None = None) -> Figure:
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
    shown = f"{n_shown} of {atoms.shape[1]} atoms" if n_shown < atoms.shape[1] \
        else f"{n_shown} atoms"
    ordered = ", reordered" if order is not None else ""
    figure.suptitle(f"{title}\n{shown}{ordered}, {height}×{width} pixels\n"
                    "each tile scaled to its own max |value|")
    return figure


# --------------------------------------------------------------------------
# the animation


def write_atom_animation(phi_history: ArrayLike, patch_shape: int | Sequence[int], path: StrPath,
                         fps: float = 4.0, max_atoms: int = 256, scale: int = 2,
                         order: ArrayLike | None = None) -> Path:
    """Write the atom grid after each epoch as an animated GIF, reproducibly.

    Each frame is built with numpy alone: the epoch number (1-based, a 3 x 5
    pixel font drawn 2 pixels per font pixel, black on the gap colour) above
    :func:`atom_mosaic` of that epoch's atoms, each atom scaled to its own
    largest ``|value|`` in that frame, quantised to 255 grey levels (palette
    index ``round((v + 1) / 2 * 254)``; index 255 is :data:`GAP_COLOUR`) and
    upscaled by ``scale`` (nearest neighbour).  Pillow writes the frames with
    a fixed palette, ``loop=0`` (repeat forever) and ``optimize=False``; GIF carries no
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

    phi_history = finite_plot_array(phi_history, "phi_history", 3)
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


def _animation_frame(atoms: NDArray[np.float64], patch_shape: tuple[int, int], epoch: int,
                     shown: NDArray[np.intp], scale: int) -> NDArray[np.uint8]:
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
    tiles: NDArray[np.uint8] = np.full(mosaic.shape, _GAP_INDEX, dtype=np.uint8)
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


def _render_number(number: int) -> NDArray[np.bool_]:
    """Boolean pixels (5, 4 * digits - 1) of ``number`` in the 3 x 5 font."""
    glyphs = []
    for digit in str(int(number)):
        glyph = np.array([[char == "#" for char in line] for line in DIGITS[digit]])
        glyphs.extend([glyph, np.zeros((5, 1), dtype=bool)])
    return np.hstack(glyphs[:-1])


def _palette() -> bytes:
    """Flat RGB palette bytes: 255 grey levels, then :data:`GAP_COLOUR`."""
    greys = np.rint(np.arange(255) * 255.0 / 254.0).astype(np.uint8)
    palette = np.repeat(greys[:, None], 3, axis=1)
    gap = np.rint(np.array(to_rgb(GAP_COLOUR)) * 255.0).astype(np.uint8)
    return np.vstack([palette, gap[None, :]]).tobytes()
