r"""Simulated units with known joint-GLM answers: a 120 Hz LNP unit and a refractory unit.

Both units see ``n_pixels`` bars (1 for a full-field stimulus) of independent +-1
contrast per frame, shown at ``frame_rate_hz`` with slightly jittered frame
durations (:func:`sparsefield.rf.simulate.frame_durations`), and spike as

.. math::

    \mathrm{counts}_t \sim \mathrm{Poisson}(\mathrm{durations}_t\, e^{\eta_t}), \quad
    \eta_t = b + \sum_{k,p} \mathrm{stimulus}_{t-k,p}\, F_{kp}
        + \sum_{m \ge 1} h_m\, \mathrm{counts}_{t-m},

with a space-time separable filter ``F = temporal x spatial``: a biphasic temporal
filter (:func:`biphasic_filter`: a fast positive lobe peaking near 35 ms, a slower
negative one near 110 ms, back to zero within 300 ms, as a retinal ganglion cell's) and
a Gaussian spatial profile over the bars.  Frames before the first are taken as 0
contrast (the joint design leaves those rows out anyway).

:func:`simulate_lnp` has no history (``h = 0``: an LNP unit, counts drawn for all
frames at once); :func:`simulate_refractory` adds a post-spike filter
(:func:`refractory_filter`: strong suppression right after a spike, a small rebound,
nothing after 100 ms), drawn frame by frame
(:func:`sparsefield.rf._joint_kernels.simulate_with_history`), since each frame's rate
depends on the counts drawn before it.  The scale of ``F`` is set so that the
stimulus drive has standard deviation ``drive_sd``, and ``b`` so that the rate without
history is about ``rate_hz``.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import oaconvolve

from sparsefield._checks import as_float, as_int
from sparsefield._npz import NpzMixin
from sparsefield.rf import _joint_kernels
from sparsefield.rf.basis import n_lags_for_span
from sparsefield.rf.simulate import frame_durations

Floats = NDArray[np.float64]

#: Frame-duration jitter, relative to the frame interval.
FRAME_JITTER = 0.01

#: Cap on the log rate (spikes per second) in the frame-by-frame simulation.
MAX_LOG_RATE = float(np.log(1e4))


@dataclass(frozen=True)
class SimulatedGLM(NpzMixin):
    """A simulated unit and its true joint-GLM parameters.

    Attributes
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
        +-1 contrast.
    counts : ndarray of shape (n_frames,)
        Spikes per frame.
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds.
    filter : ndarray of shape (n_lags, n_pixels)
        True spatio-temporal filter, ``temporal[:, None] * spatial[None, :]``; row
        ``k`` = lag ``k``.
    temporal : ndarray of shape (n_lags,)
    spatial : ndarray of shape (n_pixels,)
        Unit norm.
    history_filter : ndarray of shape (n_history_lags,)
        True post-spike filter, entry ``m`` = lag ``m + 1``; empty for an LNP unit.
    intercept : float
        ``b``, log spikes per second.
    frame_interval_s : float
        Nominal seconds per frame.
    """

    stimulus: np.ndarray
    counts: np.ndarray
    durations: np.ndarray
    filter: np.ndarray
    temporal: np.ndarray
    spatial: np.ndarray
    history_filter: np.ndarray
    intercept: float
    frame_interval_s: float


def biphasic_filter(n_lags: int, frame_interval_s: float) -> Floats:
    """A biphasic temporal filter: a difference of two gamma bumps, peak 1.

    ``g(t, tau) = (t / tau)^3 exp(-t / tau)`` normalised to unit area, filter
    ``g(t, 12 ms) - 0.8 g(t, 27 ms)`` at ``t = lag * frame_interval_s``, scaled to
    a maximum of 1: positive peak near 35 ms, negative trough near 110 ms, 1 % of the
    peak at 300 ms.

    Parameters
    ----------
    n_lags : int
        ``>= 1``.
    frame_interval_s : float
        ``> 0``.

    Returns
    -------
    temporal : ndarray of shape (n_lags,)
    """
    n_lags = as_int(n_lags, "n_lags", 1)
    frame_interval_s = as_float(frame_interval_s, "frame_interval_s", minimum=0.0, strict=True)
    delays = np.arange(n_lags) * frame_interval_s

    def gamma_bump(tau: float) -> Floats:
        return (delays / tau) ** 3 * np.exp(-delays / tau) / (6.0 * tau)

    temporal = gamma_bump(0.012) - 0.8 * gamma_bump(0.027)
    return temporal / np.abs(temporal).max()


def refractory_filter(n_lags: int, frame_interval_s: float) -> Floats:
    """A post-spike filter: suppression decaying over ~10 ms, then a small rebound.

    ``h(t) = -3 exp(-(t - t_1) / 10 ms) + 0.5 exp(-((t - 40 ms) / 15 ms)^2)`` at the
    delays ``t = m * frame_interval_s`` of lags ``m = 1 .. n_lags`` (``t_1`` the first).

    Parameters
    ----------
    n_lags : int
        Lags ``1 .. n_lags``, ``>= 1``.
    frame_interval_s : float
        ``> 0``.

    Returns
    -------
    history_filter : ndarray of shape (n_lags,)
        Entry ``m - 1`` is lag ``m``.
    """
    n_lags = as_int(n_lags, "n_lags", 1)
    frame_interval_s = as_float(frame_interval_s, "frame_interval_s", minimum=0.0, strict=True)
    delays = np.arange(1, n_lags + 1) * frame_interval_s
    return (-3.0 * np.exp(-(delays - delays[0]) / 0.010)
            + 0.5 * np.exp(-(((delays - 0.040) / 0.015) ** 2)))


def gaussian_profile(n_pixels: int) -> Floats:
    """A Gaussian bump over ``n_pixels`` bars (sigma a sixth of them), unit norm.

    Parameters
    ----------
    n_pixels : int
        ``>= 1`` (1: full field).

    Returns
    -------
    spatial : ndarray of shape (n_pixels,)
    """
    n_pixels = as_int(n_pixels, "n_pixels", 1)
    positions = np.arange(n_pixels) - (n_pixels - 1) / 2.0
    profile = np.exp(-0.5 * (positions / max(n_pixels / 6.0, 0.5)) ** 2)
    return profile / np.linalg.norm(profile)


def _simulate(n_frames: int, n_pixels: int, frame_rate_hz: float, span_s: float,
              rate_hz: float, drive_sd: float, history_filter: Floats,
              rng: np.random.Generator) -> SimulatedGLM:
    """Draw stimulus, durations and counts (module docstring)."""
    frame_interval_s = 1.0 / frame_rate_hz
    n_lags = n_lags_for_span(span_s, frame_interval_s, key="span_s")
    stimulus = 2.0 * rng.integers(0, 2, size=(n_frames, n_pixels)).astype(np.float64) - 1.0
    durations = frame_durations(n_frames, frame_interval_s, FRAME_JITTER * frame_interval_s,
                                rng)
    temporal = biphasic_filter(n_lags, frame_interval_s)
    temporal *= drive_sd / np.linalg.norm(temporal)
    spatial = gaussian_profile(n_pixels)
    filter_ = temporal[:, None] * spatial[None, :]
    drive = oaconvolve(stimulus, filter_, mode="full", axes=0)[:n_frames].sum(axis=1)
    intercept = float(np.log(rate_hz) - 0.5 * drive_sd**2)
    counts = np.empty(n_frames)
    _joint_kernels.simulate_with_history(np.ascontiguousarray(drive + intercept), durations,
                                         history_filter, rng.random(n_frames), MAX_LOG_RATE,
                                         counts)
    return SimulatedGLM(stimulus=stimulus, counts=counts, durations=durations, filter=filter_,
                        temporal=temporal, spatial=spatial, history_filter=history_filter,
                        intercept=intercept, frame_interval_s=frame_interval_s)


def simulate_lnp(n_frames: int = 30_000, *, n_pixels: int = 8, frame_rate_hz: float = 120.0,
                 span_s: float = 0.3, rate_hz: float = 20.0, drive_sd: float = 0.8,
                 seed: int = 0) -> SimulatedGLM:
    """An LNP unit with a biphasic temporal filter (no spike history).

    Parameters
    ----------
    n_frames : int, default 30000
        Frames (250 s at 120 Hz).
    n_pixels : int, default 8
        Bars (1: full field).
    frame_rate_hz : float, default 120
    span_s : float, default 0.3
        The filter's window: ``n_lags = ceil(span_s * frame_rate_hz)`` lags.
    rate_hz : float, default 20
        About the mean rate.
    drive_sd : float, default 0.8
        Standard deviation of the stimulus drive (log-rate units).
    seed : int, default 0

    Returns
    -------
    SimulatedGLM
        ``history_filter`` empty.
    """
    n_frames, n_pixels, frame_rate_hz, span_s, rate_hz, drive_sd = _check_options(
        n_frames, n_pixels, frame_rate_hz, span_s, rate_hz, drive_sd)
    return _simulate(n_frames, n_pixels, frame_rate_hz, span_s, rate_hz, drive_sd,
                     np.zeros(0), np.random.default_rng(seed))


def simulate_refractory(n_frames: int = 30_000, *, n_pixels: int = 8,
                        frame_rate_hz: float = 120.0, span_s: float = 0.3,
                        history_span_s: float = 0.1, rate_hz: float = 30.0,
                        drive_sd: float = 0.8, seed: int = 0) -> SimulatedGLM:
    """A unit with the biphasic stimulus filter and a refractory post-spike filter.

    Parameters
    ----------
    n_frames : int, default 30000
    n_pixels : int, default 8
    frame_rate_hz : float, default 120
    span_s : float, default 0.3
        The stimulus filter's window.
    history_span_s : float, default 0.1
        The post-spike filter's window: lags ``1 .. ceil(history_span_s *
        frame_rate_hz) - 1`` (:func:`refractory_filter`).
    rate_hz : float, default 30
        About the rate before the history term (which lowers it).
    drive_sd : float, default 0.8
    seed : int, default 0

    Returns
    -------
    SimulatedGLM
    """
    n_frames, n_pixels, frame_rate_hz, span_s, rate_hz, drive_sd = _check_options(
        n_frames, n_pixels, frame_rate_hz, span_s, rate_hz, drive_sd)
    frame_interval_s = 1.0 / frame_rate_hz
    n_history_lags = n_lags_for_span(history_span_s, frame_interval_s, first_lag=1,
                                     key="history_span_s")
    return _simulate(n_frames, n_pixels, frame_rate_hz, span_s, rate_hz, drive_sd,
                     refractory_filter(n_history_lags, frame_interval_s),
                     np.random.default_rng(seed))


def _check_options(n_frames: int, n_pixels: int, frame_rate_hz: float, span_s: float,
                   rate_hz: float, drive_sd: float
                   ) -> tuple[int, int, float, float, float, float]:
    """The shared options, checked."""
    return (as_int(n_frames, "n_frames", 1), as_int(n_pixels, "n_pixels", 1),
            as_float(frame_rate_hz, "frame_rate_hz", minimum=0.0, strict=True),
            as_float(span_s, "span_s", minimum=0.0, strict=True),
            as_float(rate_hz, "rate_hz", minimum=0.0, strict=True),
            as_float(drive_sd, "drive_sd", minimum=0.0))


__all__ = ["FRAME_JITTER", "MAX_LOG_RATE", "SimulatedGLM", "biphasic_filter",
           "gaussian_profile", "refractory_filter", "simulate_lnp", "simulate_refractory"]
