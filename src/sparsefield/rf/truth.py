"""The ground truth of a simulated recording, read and checked before any fit.

A truth archive (``truth_file`` in the sheet) is an .npz written by the simulation
rules: either one neuron's arrays (:data:`TRUTH_ARRAYS`) or a session's, ``unit_ids``
plus each unit's arrays under ``u<id>_<name>``.  The summary compares every estimate with
it, so a truth that lacks an array, or whose shapes or lags do not fit the recording,
is an error at load time, not a traceback after the fits.
"""

from collections.abc import Iterable, Mapping

import numpy as np
from numpy.typing import ArrayLike

from sparsefield._typing import StrPath
from sparsefield.errors import InputError

#: Arrays of one unit's truth that the recovery metrics read: the spatial map
#: (n_pixels,), the frame lags and the temporal kernel at them (n_truth_lags,), and the
#: delays and values of the STA's temporal kernel (n_sta_taus,).
TRUTH_ARRAYS = ("spatial", "lags", "temporal_lags", "sta_taus", "sta_temporal")


def read_truth(path: StrPath) -> dict[str, np.ndarray]:
    """Read a truth archive as a dict of arrays (no pickles).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    dict of str to ndarray

    Raises
    ------
    InputError
        Naming ``path`` when it cannot be read as an .npz file.
    """
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return dict(arrays)
    except (OSError, ValueError) as error:
        raise InputError(path, f"cannot be read as a truth archive (.npz): {error}") from None


def check_truth(path: StrPath, truth: Mapping[str, ArrayLike], unit_ids: Iterable[int],
                n_pixels: int, lags: ArrayLike = ()) -> None:
    """Check that ``truth`` holds what the summary needs for every unit of a session.

    Parameters
    ----------
    path : str or os.PathLike
        The truth file (named in messages).
    truth : mapping of str to ndarray
        From :func:`read_truth`.
    unit_ids : array_like of shape (n_units,)
        The session's unit ids; a session truth must have every one.
    n_pixels : int
        Pixels per stimulus frame; each unit's ``spatial`` must have this many.
    lags : array_like of int, optional
        Frame lags that will be fitted; each must be among the truth's ``lags``.

    Raises
    ------
    InputError
        Naming ``path``, the unit and the missing or mismatched array.
    """
    if "unit_ids" in truth:
        known = {int(unit) for unit in np.asarray(truth["unit_ids"]).ravel()}
        units: list[tuple[int | None, str, str]] = [
            (int(unit), f"u{int(unit)}_", f"unit {int(unit)}: ") for unit in unit_ids]
        missing = [unit for unit, _, _ in units if unit not in known]
        if missing:
            raise InputError(path, f"has no truth for units {missing[:10]} "
                             f"(its unit_ids: {sorted(known)[:20]})")
    else:
        units = [(None, "", "")]
    wanted = sorted({int(lag) for lag in np.asarray(lags, dtype=np.int64).ravel()})
    for _, prefix, who in units:
        absent = [name for name in TRUTH_ARRAYS if prefix + name not in truth]
        if absent:
            raise InputError(path, f"{who}has no array "
                             f"{', '.join(prefix + name for name in absent)}"
                             f" (a truth archive holds {', '.join(TRUTH_ARRAYS)} per unit)")
        spatial = np.asarray(truth[prefix + "spatial"])
        if spatial.size != n_pixels:
            raise InputError(path, f"{who}{prefix}spatial has {spatial.size} values but the "
                             f"stimulus has {n_pixels} pixels per frame")
        truth_lags = np.asarray(truth[prefix + "lags"]).ravel()
        kernel = np.asarray(truth[prefix + "temporal_lags"]).ravel()
        if truth_lags.size != kernel.size:
            raise InputError(path, f"{who}{prefix}lags has {truth_lags.size} values but "
                             f"{prefix}temporal_lags has {kernel.size}")
        beyond = sorted(set(wanted) - {int(lag) for lag in truth_lags})
        if beyond:
            span = (f"{int(truth_lags.min())}..{int(truth_lags.max())}" if truth_lags.size
                    else "none")
            raise InputError(path, f"{who}the fitted lags {beyond[:10]} are not in the truth's "
                             f"lags ({span}); simulate longer kernels or fit fewer lags")
