"""Lags and delays as text, and which lags a figure shows: written once for every figure module.

Delays are printed in ms by :func:`delay_text`, rounded to the precision of
the frame duration (:func:`delay_resolution`: two significant digits of it),
so that lag 2 of 5 Hz frames reads "≈400 ms", 24 frames of 1/60 s "400 ms"
and one frame at 120 Hz "8.3 ms".  Beyond a figure's number of panels, an
evenly spaced subset of lags through the peak lag is drawn
(:func:`lag_subset`), and its spacing named by :func:`every_text`.
"""

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DELAY_LABEL",
    "delay_resolution",
    "delay_text",
    "every_text",
    "lag_subset",
    "lag_title",
    "milliseconds",
]

#: Label of every delay axis.
DELAY_LABEL = "time before spike (ms)"


def lag_subset(n_lags: int, max_panels: int, keep: int | None = None
               ) -> tuple[NDArray[np.int_], int]:
    """Indices of an evenly spaced subset of at most ``max_panels`` lags (or delays).

    Parameters
    ----------
    n_lags : int
    max_panels : int
        Most lags kept (>= 1).
    keep : int or None
        Index that must be in the subset (the peak lag): the subset is then
        the evenly spaced grid through it, so that every panel shown,
        the peak's included, is ``step`` lags from the next.

    Returns
    -------
    indices : ndarray of int, increasing
        ``arange(n_lags)`` when ``n_lags <= max_panels``; otherwise every
        ``step``-th index, from 0 or through ``keep``.
    step : int
        The smallest spacing that keeps at most ``max_panels`` indices (1
        when all lags are kept).
    """
    start = 0 if keep is None else int(keep)
    step = 1
    while (n_lags - 1 - start % step) // step + 1 > max_panels:
        step += 1
    return np.arange(start % step, n_lags, step), step


def every_text(step: int) -> str:
    """``"every 3rd"``: English ordinal of a subset step.

    Parameters
    ----------
    step : int
        Spacing of the subset (>= 1).

    Returns
    -------
    str
    """
    suffix = "th" if 10 <= step % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(step % 10, "th")
    return f"every {step}{suffix}"


def delay_resolution(step: float | None) -> float:
    """The precision, in ms, of a delay among delays ``step`` s apart (a frame duration).

    Two significant digits of the step: 10 ms for 5 Hz frames (199.7 ms),
    1 ms for 60 Hz (16.7 ms), 0.1 ms for 120 Hz (8.3 ms).  Below 1 ms the
    precision is coarsened while the step is a whole multiple of the coarser
    one (5 ms steps: 1 ms, not 0.1 ms), so no decimal is printed that every
    delay has as 0.  Delays ``step`` apart always differ at this precision.

    Parameters
    ----------
    step : float or None
        Spacing of the delays shown together, s.  None, 0 or not finite:
        whole ms.

    Returns
    -------
    float
        A power of ten, ms.
    """
    step_ms = 1000.0 * abs(float(step)) if step is not None else 0.0
    if not (math.isfinite(step_ms) and step_ms > 0.0):
        return 1.0
    exponent = math.floor(math.log10(step_ms)) - 1
    while exponent < 0 and _is_multiple(step_ms, 10.0 ** (exponent + 1)):
        exponent += 1
    return 10.0**exponent


def _is_multiple(value: float, unit: float) -> bool:
    """True when ``value`` is a whole multiple (>= 1) of ``unit``, up to float noise."""
    ratio = value / unit
    return round(ratio) >= 1 and abs(ratio - round(ratio)) < 1e-6 * max(1.0, ratio)


def delay_text(seconds: float, step: float | None = None) -> str:
    """A delay in ms, rounded to the precision of the frame duration.

    The one place the figures turn a delay into text (titles of lag and tau
    panels, "peak at ...").

    Parameters
    ----------
    seconds : float
        The delay, s.
    step : float or None
        Spacing of the delays shown together (the frame duration, or the
        STA's delay step), s: the delay is rounded to
        :func:`delay_resolution` of it.  None: whole ms.

    Returns
    -------
    str
        e.g. ``"400 ms"`` for lag 2 of 199.7 ms frames (5 Hz) or lag 24 of
        1/60 s frames, ``"8.3 ms"`` for lag 1 at 120 Hz (float noise
        removed, halves rounded up, never ``"-0 ms"``).
    """
    resolution = delay_resolution(step)
    decimals = max(0, -round(math.log10(resolution)))
    delay_ms = round(1000.0 * float(seconds), 6)
    value = round(math.floor(delay_ms / resolution + 0.5) * resolution, decimals)
    return f"{value + 0.0:.{decimals}f} ms"


def lag_title(lag: float, frame_duration: float, stacked: bool = False) -> str:
    """A lag in frames and its delay (:func:`delay_text` at the frame duration).

    Parameters
    ----------
    lag : float
        Lag, frames.
    frame_duration : float
        Frame duration, s.
    stacked : bool
        Two lines, for narrow panels.

    Returns
    -------
    str
        ``"lag 2 (≈400 ms)"``, or stacked on two lines: ``"lag 2"`` above
        ``"≈400 ms"``.
    """
    delay = delay_text(lag * frame_duration, frame_duration)
    return f"lag {lag:g}\n≈{delay}" if stacked else f"lag {lag:g} (≈{delay})"


def milliseconds(seconds: ArrayLike) -> NDArray[np.float64]:
    """Times in s as a float array in ms.

    Parameters
    ----------
    seconds : array_like
        Any shape.

    Returns
    -------
    ndarray of float, same shape
    """
    return 1000.0 * np.asarray(seconds, dtype=float)
