r"""Model cells that are not linear in the stimulus, simulated on 1-D bars, with known answers.

The stimulus is a row of ``n_bars`` bars whose contrasts are drawn independently every
frame (``"pm1"``: -1 or +1 with probability 1/2; ``"gaussian"``: standard normal), shown
for ``frame_duration`` seconds each from 0 s.  A filter spans ``n_lags`` frames x
``n_bars`` bars; its response at frame ``t`` is

.. math::

    g_t = \sum_{\mathrm{lag}, x} f[\mathrm{lag}, x]\, c[t - \mathrm{lag}, x]

(lag 0: the frame itself; a grey screen, contrast 0, before the first frame), and

* **complex cell** (the energy model, Adelson & Bergen 1985): two quadrature Gabor
  filters :math:`f_1, f_2` (:func:`quadrature_gabors`),
  :math:`\mathrm{rate}_t = \mathrm{offset} + \mathrm{scale}\,(g_{1,t}^2 + g_{2,t}^2)`
  in spikes/s: its response does not depend on the phase of a grating, so its STA is 0
  while the spike-triggered covariance has two excitatory axes spanning
  :math:`f_1, f_2`;
* **LN unit**: one filter (the first of the pair),
  :math:`\mathrm{rate}_t = \mathrm{softplus}(\mathrm{scale}\, g_t + \mathrm{offset})`
  or :math:`\exp(\mathrm{scale}\, g_t + \mathrm{offset})`.

Each frame's count is Poisson with mean ``rate_t * frame_duration``; each spike is
placed uniformly in the middle 90 % of its frame, so that
:func:`sparsefield.rf.binning.bin_spikes` of ``spike_times`` and ``trigger_times``
gives ``counts`` back.  The filters have unit norm, so with either contrast the
response of one filter has unit variance.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sparsefield._checks import as_float, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError

#: Output nonlinearities of :func:`simulate_ln_unit`.
LN_LINKS = ("softplus", "exp")
#: Contrast distributions of the bars.
BAR_CONTRASTS = ("pm1", "gaussian")


@dataclass(frozen=True)
class NonlinearCell(NpzMixin):
    """A simulated recording of a cell on 1-D bars, and its truth (module docstring).

    Attributes
    ----------
    stimulus : ndarray of shape (n_frames, n_bars)
        Contrast of each bar in each frame (zero mean, unit variance).
    counts : ndarray of shape (n_frames,)
        Spikes per frame.
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds.
    trigger_times : ndarray of shape (n_frames,)
        Frame onsets in seconds, from 0.
    spike_times : ndarray of shape (n_spikes,)
        Sorted, in seconds.
    rate : ndarray of shape (n_frames,)
        The true rate in spikes/s.
    filters : ndarray of shape (n_filters, n_lags, n_bars)
        The true filters, unit norm (2 for the complex cell, 1 for an LN unit).
    kind : str
        ``"complex"``, ``"softplus"`` or ``"exp"``.
    scale, offset : float
        The model's parameters (module docstring).
    """

    stimulus: np.ndarray
    counts: np.ndarray
    durations: np.ndarray
    trigger_times: np.ndarray
    spike_times: np.ndarray
    rate: np.ndarray
    filters: np.ndarray
    kind: str
    scale: float
    offset: float

    def expected_counts(self) -> NDArray[np.float64]:
        """The true expected count of every frame, ``rate * durations``."""
        return np.asarray(self.rate * self.durations, dtype=np.float64)


def quadrature_gabors(n_lags: int, n_bars: int, *, centre: float | None = None,
                      sigma: float = 3.0, wavelength: float = 8.0, latency: float = 4.0,
                      width: float = 1.5) -> NDArray[np.float64]:
    """Two space-time separable Gabor filters in quadrature, orthonormal.

    Each is a Gaussian temporal profile (peak at ``latency`` frames, SD ``width``
    frames) times a Gaussian envelope over the bars (centre ``centre``, SD ``sigma``
    bars) times a cosine (first) or sine (second) carrier of ``wavelength`` bars;
    the pair is then orthonormalised (the second made orthogonal to the first).

    Parameters
    ----------
    n_lags, n_bars : int
        ``>= 1`` and ``>= 2``.
    centre : float, optional
        Envelope centre in bars (0-based); the middle of the row by default.
    sigma, wavelength, latency, width : float
        ``> 0`` (``latency >= 0``).

    Returns
    -------
    filters : ndarray of shape (2, n_lags, n_bars)
        Unit norm, orthogonal.

    Raises
    ------
    InputError
        On bad arguments, or a pair that is not two independent filters on this grid.
    """
    n_lags = as_int(n_lags, "n_lags", 1)
    n_bars = as_int(n_bars, "n_bars", 2)
    centre = (n_bars - 1) / 2 if centre is None else as_float(centre, "centre")
    sigma = as_float(sigma, "sigma", minimum=0.0, strict=True)
    wavelength = as_float(wavelength, "wavelength", minimum=0.0, strict=True)
    latency = as_float(latency, "latency", minimum=0.0)
    width = as_float(width, "width", minimum=0.0, strict=True)
    lags = np.arange(n_lags, dtype=np.float64)
    bars = np.arange(n_bars, dtype=np.float64) - centre
    temporal = np.exp(-((lags - latency) ** 2) / (2 * width**2))
    envelope = np.exp(-(bars**2) / (2 * sigma**2))
    phase = 2 * np.pi * bars / wavelength
    pair = np.stack([np.outer(temporal, envelope * np.cos(phase)).ravel(),
                     np.outer(temporal, envelope * np.sin(phase)).ravel()], axis=1)
    orthonormal, triangular = np.linalg.qr(pair)
    if np.min(np.abs(np.diag(triangular))) < 1e-6 * np.max(np.abs(np.diag(triangular))):
        raise InputError("wavelength", "the cosine and sine filters are not independent on "
                         f"this grid of {n_lags} lags x {n_bars} bars")
    orthonormal *= np.sign(np.diag(triangular))  # the first is the cosine filter itself
    return np.asarray(orthonormal.T.reshape(2, n_lags, n_bars), dtype=np.float64)


def filter_responses(stimulus: NDArray[np.float64],
                     filters: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each filter's response at every frame, a grey screen before the first.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_bars)
    filters : ndarray of shape (n_filters, n_lags, n_bars)

    Returns
    -------
    responses : ndarray of shape (n_frames, n_filters)
    """
    n_frames = stimulus.shape[0]
    responses = np.zeros((n_frames, filters.shape[0]))
    for lag in range(min(filters.shape[1], n_frames)):
        responses[lag:] += stimulus[: n_frames - lag] @ filters[:, lag, :].T
    return responses


def _bars(rng: np.random.Generator, contrast: str, n_frames: int,
          n_bars: int) -> NDArray[np.float64]:
    """Contrasts of ``n_frames`` frames of ``n_bars`` bars."""
    if contrast == "pm1":
        return 2.0 * rng.integers(0, 2, size=(n_frames, n_bars)).astype(np.float64) - 1.0
    return rng.standard_normal((n_frames, n_bars))


def _recording(rate: NDArray[np.float64], frame_duration: float, rng: np.random.Generator
               ) -> tuple[NDArray[np.float64], ...]:
    """Counts, durations, trigger times and spike times from a rate per frame."""
    n_frames = rate.size
    durations = np.full(n_frames, frame_duration, dtype=np.float64)
    trigger_times = np.arange(n_frames, dtype=np.float64) * frame_duration
    counts: NDArray[np.float64] = rng.poisson(rate * durations).astype(np.float64)
    frames = np.repeat(np.arange(n_frames), counts.astype(np.int64))
    positions = rng.uniform(0.05, 0.95, size=frames.size)
    spike_times: NDArray[np.float64] = np.sort(trigger_times[frames] + positions * frame_duration)
    return counts, durations, trigger_times, spike_times


def _check_run(n_frames: int, frame_duration: float, contrast: str) -> tuple[int, float]:
    """Checked ``n_frames`` and ``frame_duration``; ``contrast`` one of the kinds."""
    if contrast not in BAR_CONTRASTS:
        raise InputError("contrast", f"must be one of {list(BAR_CONTRASTS)}, got {contrast!r}")
    return (as_int(n_frames, "n_frames", 2),
            as_float(frame_duration, "frame_duration", minimum=0.0, strict=True))


def simulate_complex_cell(n_frames: int, *, filters: NDArray[np.float64] | None = None,
                          scale: float = 10.0, offset: float = 2.0,
                          frame_duration: float = 1 / 60, contrast: str = "pm1",
                          seed: int = 0) -> NonlinearCell:
    """Simulate an energy-model complex cell on 1-D bars (module docstring).

    Parameters
    ----------
    n_frames : int
        ``>= 2``.
    filters : ndarray of shape (n_filters, n_lags, n_bars), optional
        The quadratic filters (orthonormal for a known STC answer); by default
        :func:`quadrature_gabors` of 16 lags x 24 bars.
    scale : float, default 10.0
        Spikes/s per unit of energy, ``>= 0``.
    offset : float, default 2.0
        Rate at zero energy in spikes/s, ``>= 0``.
    frame_duration : float, default 1/60
        Seconds.
    contrast : {"pm1", "gaussian"}, default "pm1"
    seed : int, default 0
        Seed of the generator (bars, then counts, then spike positions).

    Returns
    -------
    NonlinearCell
        ``kind = "complex"``; with the defaults the mean rate is about
        ``offset + 2 scale`` = 22 spikes/s.
    """
    n_frames, frame_duration = _check_run(n_frames, frame_duration, contrast)
    scale = as_float(scale, "scale", minimum=0.0)
    offset = as_float(offset, "offset", minimum=0.0)
    filters = quadrature_gabors(16, 24) if filters is None else np.asarray(filters, np.float64)
    if filters.ndim != 3 or not np.all(np.isfinite(filters)):
        raise InputError("filters", f"expected finite (n_filters, n_lags, n_bars), got shape "
                         f"{filters.shape}")
    rng = np.random.default_rng(seed)
    stimulus = _bars(rng, contrast, n_frames, filters.shape[2])
    rate = offset + scale * np.sum(filter_responses(stimulus, filters) ** 2, axis=1)
    counts, durations, trigger_times, spike_times = _recording(rate, frame_duration, rng)
    return NonlinearCell(stimulus=stimulus, counts=counts, durations=durations,
                         trigger_times=trigger_times, spike_times=spike_times, rate=rate,
                         filters=filters, kind="complex", scale=scale, offset=offset)


def simulate_ln_unit(n_frames: int, *, link: str = "softplus",
                     rf: NDArray[np.float64] | None = None, scale: float = 30.0,
                     offset: float = 0.0, frame_duration: float = 1 / 60,
                     contrast: str = "pm1", seed: int = 0) -> NonlinearCell:
    """Simulate a linear-nonlinear-Poisson unit with a softplus or exponential output.

    Parameters
    ----------
    n_frames : int
        ``>= 2``.
    link : {"softplus", "exp"}, default "softplus"
        ``rate = link(scale * g + offset)`` in spikes/s.
    rf : ndarray of shape (n_lags, n_bars), optional
        The filter (normalised to unit norm here); by default the first filter of
        :func:`quadrature_gabors` of 16 lags x 24 bars.
    scale, offset : float
        Of the link's argument; e.g. ``link="exp", scale=1, offset=log(20)`` (a mean
        rate of about 33 spikes/s), or the softplus defaults (about 12 spikes/s).
    frame_duration : float, default 1/60
    contrast : {"pm1", "gaussian"}, default "pm1"
    seed : int, default 0

    Returns
    -------
    NonlinearCell
        ``kind = link``, ``filters`` of shape (1, n_lags, n_bars).
    """
    n_frames, frame_duration = _check_run(n_frames, frame_duration, contrast)
    if link not in LN_LINKS:
        raise InputError("link", f"must be one of {list(LN_LINKS)}, got {link!r}")
    scale = as_float(scale, "scale")
    offset = as_float(offset, "offset")
    rf = quadrature_gabors(16, 24)[0] if rf is None else np.asarray(rf, np.float64)
    if rf.ndim != 2 or not np.all(np.isfinite(rf)) or not np.linalg.norm(rf) > 0:
        raise InputError("rf", f"expected a finite, non-zero (n_lags, n_bars) filter, got "
                         f"shape {rf.shape}")
    filters = (rf / np.linalg.norm(rf))[None]
    rng = np.random.default_rng(seed)
    stimulus = _bars(rng, contrast, n_frames, rf.shape[1])
    eta = scale * filter_responses(stimulus, filters)[:, 0] + offset
    rate = np.logaddexp(0.0, eta) if link == "softplus" else np.exp(eta)
    counts, durations, trigger_times, spike_times = _recording(rate, frame_duration, rng)
    return NonlinearCell(stimulus=stimulus, counts=counts, durations=durations,
                         trigger_times=trigger_times, spike_times=spike_times, rate=rate,
                         filters=filters, kind=link, scale=scale, offset=offset)


__all__ = ["BAR_CONTRASTS", "LN_LINKS", "NonlinearCell", "filter_responses", "quadrature_gabors",
           "simulate_complex_cell", "simulate_ln_unit"]
