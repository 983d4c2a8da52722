r"""Temporal bases: raised cosines on a log-stretched time axis (Pillow et al. 2008).

A filter over ``n_lags`` frame lags is written as ``basis @ weights`` with a basis of
shape (n_lags, n_bases): a 120 Hz stimulus with 0-300 ms of lags (36 frames) then needs
about 8 parameters per pixel instead of 36.  The bases are those of Pillow et al.
(2008, Nature; ``makeBasis_StimKernel`` of GLMspiketools) and nemos
(``RaisedCosineLogEval``):

.. math::

    b_j(t) = \tfrac12\Big(\cos\big(\max(-\pi, \min(\pi,
        (\log(t + c) - \phi_j)\,\pi / (2\Delta)))\big) + 1\Big),

with the delay ``t = lag * frame_interval_s`` in seconds, the centres ``phi_j``
evenly spaced by ``Delta`` on the stretched axis ``log(t + c)``, and the stretch
``c > 0`` (seconds): a small ``c`` packs narrow bases at short delays and wide ones at
long delays, a large ``c`` makes them nearly even.

Placement (written once, :func:`raised_cosine_basis`): the first centre is at the
first lag's delay, and the last basis falls to zero exactly at ``span_s``, the end of
the window, so that every lag inside the window is covered and the filter can decay
to zero at its end (nemos' ``enforce_decay_to_zero``).  That fixes
``Delta = (log(span_s + c) - log(t_0 + c)) / (n_bases + 1)``.

Each basis covers four spacings (two on either side of its centre), so neighbouring
bases overlap by half: at every delay from the second centre to the second-to-last one
the bases sum to exactly 2 (partition of unity up to that factor; less near the two
ends).  :func:`raised_cosine_basis` returns these bumps as they are (peak 1, **not
orthogonal**: neighbours overlap), or, with ``orthogonalise=True``, an orthonormal
basis of the same column space (QR, the diagonal of ``R`` made positive).  The span of
the two is the same, so a maximum-likelihood filter ``basis @ weights`` is the same
with either; penalties (L1, L2) on the weights are not.

Lags: ``n_lags = ceil(span_s / frame_interval_s) - first_lag`` rows, row ``i`` being
lag ``first_lag + i`` (delay ``(first_lag + i) * frame_interval_s``); the stimulus
filter starts at lag 0, the post-spike (history) filter at lag 1
(:func:`sparsefield.rf.joint.joint_design`).
"""

import math

import numpy as np
from numpy.typing import NDArray

from sparsefield._checks import as_float, as_int
from sparsefield.errors import InputError

#: Default stretch ``c`` as a fraction of the span: 50 ms for a 300 ms window.
DEFAULT_STRETCH_FRACTION = 1.0 / 6.0

#: Relative tolerance on ``span_s / frame_interval_s`` being a whole number of frames.
_WHOLE_FRAMES = 1e-9


def n_lags_for_span(span_s: float, frame_interval_s: float, *, first_lag: int = 0,
                    key: str = "joint") -> int:
    """Frame lags a window of ``span_s`` seconds holds, from ``first_lag`` on.

    Parameters
    ----------
    span_s : float
        Length of the window of delays in seconds, > 0.
    frame_interval_s : float
        Seconds per frame, > 0.
    first_lag : int, default 0
        First lag of the window (1 for a post-spike filter).
    key : str, default "joint"
        Config section named in messages (``"joint.span_s"``).

    Returns
    -------
    n_lags : int
        ``ceil(span_s / frame_interval_s) - first_lag`` (a span within 1e-9 of a
        whole number of frames counts as that number): lags ``first_lag ..
        first_lag + n_lags - 1``, whose delays lie in ``[first_lag *
        frame_interval_s, span_s)``.

    Raises
    ------
    InputError
        A non-positive span or frame interval, or a window with no lag at or
        after ``first_lag``.
    """
    span_s = as_float(span_s, f"{key}.span_s", minimum=0.0, strict=True)
    frame_interval_s = as_float(frame_interval_s, f"{key}.frame_interval_s", minimum=0.0,
                                strict=True)
    first_lag = as_int(first_lag, f"{key}.first_lag", 0)
    frames = span_s / frame_interval_s
    n_frames = round(frames) if abs(frames - round(frames)) <= _WHOLE_FRAMES * frames \
        else math.ceil(frames)
    n_lags = n_frames - first_lag
    if n_lags < 1:
        raise InputError(f"{key}.span_s", f"{span_s:g} s holds {n_frames} frame(s) of "
                         f"{frame_interval_s:g} s: no lag from {first_lag} on; make it longer")
    return n_lags


def raised_cosine_basis(n_bases: int, span_s: float, frame_interval_s: float, *,
                        stretch: float | None = None, first_lag: int = 0,
                        orthogonalise: bool = False, n_frames: int | None = None,
                        key: str = "joint") -> NDArray[np.float64]:
    """Raised cosines on a log-stretched time axis, sampled at the frame lags of a window.

    See the module docstring for the formula and the placement of the centres.

    Parameters
    ----------
    n_bases : int
        Number of basis functions, ``1 <= n_bases <= n_lags``.
    span_s : float
        The window of delays in seconds (e.g. 0.3 for 0-300 ms), > 0.
    frame_interval_s : float
        Seconds per frame (e.g. ``1 / 120``), > 0.
    stretch : float, optional
        The offset ``c`` of ``log(t + c)`` in seconds, > 0; default
        ``span_s / 6``.  Smaller: finer bases at short delays.
    first_lag : int, default 0
        Lag of the first row (0 for a stimulus filter, 1 for a post-spike filter).
    orthogonalise : bool, default False
        False: the raised cosines themselves (not orthogonal; peak 1, sum 2
        inside the window).  True: an orthonormal basis of their span (QR).
    n_frames : int, optional
        Frames in the recording: a window with more lags than that is refused.
    key : str, default "joint"
        Config section named in messages (``"joint.n_bases"``,
        ``"joint.history.span_s"``).

    Returns
    -------
    basis : ndarray of shape (n_lags, n_bases)
        Row ``i`` is lag ``first_lag + i``;
        ``n_lags = n_lags_for_span(span_s, frame_interval_s, first_lag=first_lag)``.
        Bases in order of increasing centre.

    Raises
    ------
    InputError
        Naming ``<key>.span_s``, ``<key>.n_bases`` or ``<key>.stretch``: a
        non-positive span, frame interval or stretch; a span longer than the
        recording; more bases than lags; or bases too narrow to be told apart
        at the frame lags (a basis matrix without full column rank).
    """
    n_lags = n_lags_for_span(span_s, frame_interval_s, first_lag=first_lag, key=key)
    if n_frames is not None:
        n_frames = as_int(n_frames, "n_frames", 1)
        if first_lag + n_lags > n_frames:
            raise InputError(f"{key}.span_s", f"{span_s:g} s is {first_lag + n_lags} frames of "
                             f"{frame_interval_s:g} s, longer than the recording "
                             f"({n_frames} frames)")
    n_bases = as_int(n_bases, f"{key}.n_bases", 1)
    if n_bases > n_lags:
        raise InputError(f"{key}.n_bases", f"{n_bases} bases for {n_lags} lag(s) "
                         f"({span_s:g} s at {frame_interval_s:g} s per frame): use at most "
                         f"{n_lags}, or a longer span")
    if stretch is None:
        stretch = DEFAULT_STRETCH_FRACTION * span_s
    stretch = as_float(stretch, f"{key}.stretch", minimum=0.0, strict=True)
    delays = (first_lag + np.arange(n_lags)) * frame_interval_s
    basis = cosine_bumps(np.log(delays + stretch), math.log(first_lag * frame_interval_s
                                                            + stretch),
                         math.log(span_s + stretch), n_bases)
    rank = int(np.linalg.matrix_rank(basis))
    if rank < n_bases:
        raise InputError(f"{key}.n_bases", f"{n_bases} bases are not independent at the "
                         f"{n_lags} lags (rank {rank}): use fewer bases or a larger "
                         f"{key}.stretch")
    return orthonormal_columns(basis) if orthogonalise else basis


def cosine_bumps(axis: NDArray[np.float64], start: float, stop: float,
                 n_bases: int) -> NDArray[np.float64]:
    """Raised cosines on a given axis: first centre at ``start``, last falling to 0 at ``stop``.

    Parameters
    ----------
    axis : ndarray of shape (n_points,)
        Positions on the (stretched) axis, e.g. ``log(t + c)``.
    start, stop : float
        ``start < stop``.
    n_bases : int
        ``>= 1``.

    Returns
    -------
    bumps : ndarray of shape (n_points, n_bases)
        ``0.5 * (cos(clip((axis - centre_j) * pi / (2 * spacing), -pi, pi)) + 1)``
        with ``centre_j = start + j * spacing``,
        ``spacing = (stop - start) / (n_bases + 1)``.
    """
    spacing = (stop - start) / (n_bases + 1)
    centres = start + spacing * np.arange(n_bases)
    phase = np.clip((axis[:, None] - centres[None, :]) * np.pi / (2.0 * spacing), -np.pi, np.pi)
    return 0.5 * (np.cos(phase) + 1.0)


def orthonormal_columns(basis: NDArray[np.float64]) -> NDArray[np.float64]:
    """An orthonormal basis of the column space of ``basis`` (QR, ``diag(R) > 0``).

    Parameters
    ----------
    basis : ndarray of shape (n_lags, n_bases)
        Full column rank.

    Returns
    -------
    q : ndarray of shape (n_lags, n_bases)
        ``q.T @ q = I``; column ``j`` spans the same space as the first ``j + 1``
        columns of ``basis`` and points the same way (positive ``R`` diagonal).
    """
    q, r = np.linalg.qr(basis)
    return np.ascontiguousarray(q * np.sign(np.diag(r))[None, :])


def identity_basis(n_lags: int) -> NDArray[np.float64]:
    """The basis of one weight per lag (no temporal smoothing).

    Parameters
    ----------
    n_lags : int
        ``>= 1``.

    Returns
    -------
    basis : ndarray of shape (n_lags, n_lags)
        The identity.
    """
    return np.eye(as_int(n_lags, "n_lags", 1))


__all__ = ["DEFAULT_STRETCH_FRACTION", "cosine_bumps", "identity_basis", "n_lags_for_span",
           "orthonormal_columns", "raised_cosine_basis"]
