"""Model neurons with known receptive fields, and recordings simulated from them.

A model neuron is a space-time separable linear-nonlinear-Poisson (LNP) cell
watching a binary checkerboard:

.. math::

    \\text{drive}(t) = \\int_0^\\infty k(\\tau)\\,
        \\sum_p f_p\\,\\bigl(2\\,s_p(t - \\tau) - 1\\bigr)\\,d\\tau, \\qquad
    \\text{rate}(t) = r_0 \\exp\\bigl(g\\,\\text{drive}(t)\\bigr)

where ``s_p(t)`` in {0, 1} is pixel ``p`` of the frame on screen at time
``t`` (a grey screen, contrast 0, before the first trigger and after the
last frame), ``f`` the unit-norm spatial map, ``k`` the temporal kernel in
continuous time, ``r_0`` the baseline rate and ``g`` the gain.

The temporal kernel is biphasic: a positive gamma-shaped lobe that peaks at
``latency`` with standard deviation ``width``, minus a weaker negative lobe
(the rebound) that peaks at ``rebound_latency`` with standard deviation
``rebound_width`` and a peak ``rebound_ratio`` times that of the positive
lobe.  ``k`` is scaled so that the drive has unit variance under a checkerboard
with the mean frame duration (averaged over where in a frame one looks), so
``gain`` is the standard deviation of the log rate and the mean rate is about
``baseline_rate * exp(gain**2 / 2)``.

:func:`simulate_recording` returns the raw recording in the layout of the
real file (spike times, trigger times, a height x width x frames uint8
stimulus with more frames than triggers) and the ground truth as plain
arrays.
"""

from dataclasses import asdict, dataclass, fields

import numpy as np
from scipy.signal import oaconvolve

from sparsefield._checks import as_float, as_int
from sparsefield.errors import InputError

# Fields that must be > 0 and >= 0; the others only finite.
_POSITIVE = ("sigma", "wavelength", "latency", "width", "rebound_latency", "rebound_width",
             "baseline_rate")
_NON_NEGATIVE = ("rebound_ratio", "gain")


@dataclass(frozen=True)
class NeuronModel:
    """A space-time separable LNP neuron.

    Attributes
    ----------
    kind : {"gaussian", "gabor"}
        Shape of the spatial receptive field.
    center_row, center_col : float
        Centre of the receptive field in pixels (0-based; row 0 at the top).
    sigma : float
        Standard deviation of the Gaussian (envelope) in pixels.
    polarity : {"on", "off"}
        ``"on"``: the cell is driven by bright pixels where the map is
        positive; ``"off"`` flips the sign of the whole map.
    orientation : float
        Gabor only: direction of the carrier's wave vector in degrees,
        counter-clockwise from the +column axis as displayed with row 0 at
        the top (0 gives vertical stripes, 90 horizontal ones).
    wavelength : float
        Gabor only: carrier wavelength in pixels.
    phase : float
        Gabor only: carrier phase in degrees (0: bright centre stripe).
    latency : float
        Time (s) after a stimulus at which the positive lobe of the temporal
        kernel peaks.
    width : float
        Standard deviation (s) of the positive lobe.
    rebound_latency : float
        Time (s) at which the negative (rebound) lobe peaks.
    rebound_width : float
        Standard deviation (s) of the negative lobe.
    rebound_ratio : float
        Peak of the negative lobe relative to the peak of the positive lobe
        (0 gives a monophasic kernel).
    baseline_rate : float
        Firing rate (Hz) at zero drive (a grey screen).
    gain : float
        Standard deviation of the log firing rate under the checkerboard.

    Notes
    -----
    The defaults are an ON-centre Gaussian like the real neuron; the
    workflow's model neurons are configured in ``config/config.yaml``
    (``simulation.neurons``) and built with :meth:`from_dict`.
    """

    kind: str = "gaussian"
    center_row: float = 12.0
    center_col: float = 4.0
    sigma: float = 1.5
    polarity: str = "on"
    orientation: float = 0.0
    wavelength: float = 6.0
    phase: float = 0.0
    latency: float = 0.09
    width: float = 0.03
    rebound_latency: float = 0.2
    rebound_width: float = 0.06
    rebound_ratio: float = 0.3
    baseline_rate: float = 10.0
    gain: float = 1.0

    def __post_init__(self):
        self._check("model")

    def _check(self, source):
        if self.kind not in ("gaussian", "gabor"):
            raise InputError(f"{source}.kind", f"must be 'gaussian' or 'gabor', got {self.kind!r}")
        if self.polarity not in ("on", "off"):
            raise InputError(f"{source}.polarity", f"must be 'on' or 'off', got {self.polarity!r}")
        for name in (field.name for field in fields(self)):
            if name in ("kind", "polarity"):
                continue
            if name in _POSITIVE:
                bounds = {"minimum": 0.0, "strict": True}
            elif name in _NON_NEGATIVE:
                bounds = {"minimum": 0.0}
            else:
                bounds = {}
            as_float(getattr(self, name), f"{source}.{name}", **bounds)

    @classmethod
    def from_dict(cls, parameters, source="model"):
        """Build a model from a mapping such as a YAML config entry.

        Parameters
        ----------
        parameters : Mapping
            Field names to values; missing fields take their defaults.
        source : str
            Where the mapping came from (e.g. ``"config.simulate.models.sim_gauss"``),
            used in error messages.

        Raises
        ------
        InputError
            (a ``ValueError``) naming unknown keys or bad values.
        """
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(parameters) - known)
        if unknown:
            raise InputError(source, f"unknown keys {unknown}; known keys are {sorted(known)}")
        values = {}
        for name, value in parameters.items():
            if name not in ("kind", "polarity") and isinstance(value, (int, np.integer)) \
                    and not isinstance(value, bool):
                value = float(value)
            values[name] = value
        try:
            return cls(**values)
        except InputError as error:  # re-raise naming the caller's source
            field = error.source.partition(".")[2]
            raise InputError(f"{source}.{field}" if field else source, error.problem) from None

    def to_dict(self):
        """The parameters as a plain dict (the inverse of :meth:`from_dict`)."""
        return asdict(self)

    def spatial_map(self, frame_shape):
        """The unit-norm spatial map including the polarity sign.

        Parameters
        ----------
        frame_shape : tuple of int
            ``(height, width)`` in pixels.

        Returns
        -------
        spatial : ndarray of shape (height * width,)
            C order: pixel = row * width + col.
        """
        height, width = frame_shape
        rows, cols = np.meshgrid(np.arange(height, dtype=np.float64),
                                 np.arange(width, dtype=np.float64), indexing="ij")
        row_offset = rows - self.center_row
        col_offset = cols - self.center_col
        envelope = np.exp(-(row_offset**2 + col_offset**2) / (2.0 * self.sigma**2))
        if self.kind == "gaussian":
            spatial = envelope
        else:
            angle = np.deg2rad(self.orientation)
            along = col_offset * np.cos(angle) - row_offset * np.sin(angle)
            spatial = envelope * np.cos(2.0 * np.pi * along / self.wavelength
                                        + np.deg2rad(self.phase))
        spatial = spatial.ravel()
        norm = np.linalg.norm(spatial)
        if norm == 0.0:
            raise InputError("model", "the spatial map is zero on this frame")
        sign = 1.0 if self.polarity == "on" else -1.0
        return sign * spatial / norm

    def temporal_kernel(self, dt, mean_frame_duration):
        """The temporal kernel on a grid of step ``dt`` from 0.

        Scaled so that, for a checkerboard of independent +-1 contrast frames
        of duration ``mean_frame_duration`` seen at a random phase, the
        filtered signal has unit variance (see the module docstring).

        Parameters
        ----------
        dt : float
            Grid step in seconds.
        mean_frame_duration : float
            Frame duration (s) used for the scaling.

        Returns
        -------
        taus : ndarray of shape (n_fine,)
            ``0, dt, 2 dt, ...`` up to where both lobes have decayed.
        kernel : ndarray of shape (n_fine,)
            Kernel values in 1/s (the drive is ``sum(kernel * contrast) * dt``).
        """
        stop = self.latency + 10.0 * self.width
        if self.rebound_ratio > 0:
            stop = max(stop, self.rebound_latency + 10.0 * self.rebound_width)
        taus = np.arange(int(np.ceil(stop / dt)) + 1) * dt
        kernel = (_gamma_lobe(taus, self.latency, self.width)
                  - self.rebound_ratio * _gamma_lobe(taus, self.rebound_latency,
                                                     self.rebound_width))
        autocorrelation = np.correlate(kernel, kernel, mode="full") * dt * dt
        shifts = np.arange(-(taus.size - 1), taus.size) * dt
        variance = np.sum(autocorrelation * _triangle(shifts / mean_frame_duration))
        return taus, kernel / np.sqrt(variance)


def _gamma_lobe(taus, peak, sd):
    """Gamma-density-shaped lobe with mode ``peak`` and SD ``sd``, scaled to peak 1."""
    scale = 0.5 * (np.sqrt(peak**2 + 4.0 * sd**2) - peak)
    shape = peak / scale + 1.0
    lobe = np.zeros_like(taus)
    positive = taus > 0
    ratio = taus[positive] / peak
    lobe[positive] = np.exp((shape - 1.0) * np.log(ratio) - (taus[positive] - peak) / scale)
    return lobe


def _triangle(x):
    """``max(0, 1 - |x|)``."""
    return np.maximum(0.0, 1.0 - np.abs(x))


def frame_durations(n_frames, mean_frame_duration, sd_frame_duration, rng):
    """Jittered frame durations: normal, clipped to mean +- 3 SD and to >= mean / 2.

    Returns
    -------
    durations : ndarray of shape (n_frames,)
    """
    durations = rng.normal(mean_frame_duration, sd_frame_duration, size=n_frames)
    low = max(mean_frame_duration - 3.0 * sd_frame_duration, 0.5 * mean_frame_duration)
    high = mean_frame_duration + 3.0 * sd_frame_duration
    return np.clip(durations, low, high)


def simulate_recording(model, *, n_frames, frame_shape=(20, 15), mean_frame_duration=0.2,
                       sd_frame_duration=0.024, n_extra_frames=11, dt=0.001, seed=0):
    """Simulate a checkerboard recording of a model neuron.

    Frames are independent binary checkerboards (each pixel 0 or 1 with
    probability 1/2).  Frame ``i`` is on screen from ``trigger_times[i]`` for
    a jittered duration; the first trigger is at 0 s.  Only the first
    ``n_frames`` frames are shown and triggered; the stimulus array holds
    ``n_extra_frames`` more, as the real file does.  The rate is evaluated on
    a grid of step ``dt`` from 0 to the end of the last frame; spike counts per
    grid bin are Poisson and each spike is placed uniformly inside its bin.

    Parameters
    ----------
    model : NeuronModel or Mapping
        The neuron (a mapping is passed to :meth:`NeuronModel.from_dict`).
    n_frames : int
        Number of frames shown (= number of triggers).
    frame_shape : tuple of int
        ``(height, width)`` of the checkerboard.
    mean_frame_duration, sd_frame_duration : float
        Frame durations in seconds are normal with these parameters, clipped
        to ``[max(mean - 3 sd, mean / 2), mean + 3 sd]``.
    n_extra_frames : int
        Frames stored in the stimulus after the last shown frame.
    dt : float
        Time step (s) of the rate grid; at most a tenth of a frame.
    seed : int
        Seed of the random generator (frames, durations, spikes).

    Returns
    -------
    raw : dict
        ``spike_times`` (n_spikes,) float64 s, sorted;
        ``trigger_times`` (n_frames,) float64 s, starting at 0;
        ``stimulus_hwt`` (height, width, n_frames + n_extra_frames) uint8 in {0, 1}.
    truth : dict of ndarray
        ``spatial`` (n_pixels,): unit-norm map, C order, sign fixed so that its
        largest-magnitude entry is positive (the polarity then sits in the
        temporal parts, as in :func:`sparsefield.rf.separation.separate`).
        ``fine_taus`` (n_fine,) s and ``temporal_fine`` (n_fine,): the
        continuous kernel (same sign convention), so that
        ``drive(t) = sum_j temporal_fine[j] * dt * spatial . contrast(t - fine_taus[j])``.
        ``lags`` (n_truth_lags,) and ``temporal_lags`` (n_truth_lags,): the
        effective weight of the frame ``lag`` frames back on the count in a
        frame, ``integral k(tau) max(0, 1 - |tau / D - lag|) dtau`` with ``D``
        the mean frame duration.  The triangle is the overlap of the counting
        frame with the frame ``lag`` frames earlier (a box correlated with a
        box), so these are what per-lag Poisson fits of frame counts estimate
        up to a common scale.
        ``sta_taus`` (n_sta_taus,) s at 10 ms steps and ``sta_temporal``
        (n_sta_taus,): the temporal profile seen by a spike-triggered average
        of the frame on screen ``tau`` before each spike,
        ``integral k(a) max(0, 1 - |a - tau| / D) da``.  It is the kernel
        convolved with the autocorrelation of the frame-hold signal, which for
        frames of duration ``D`` seen at a random phase is that triangle (the
        frame-hold box of width ``D`` correlated with itself).  Note that
        ``sta_temporal`` at ``tau = lag * D`` equals ``temporal_lags[lag]``.
        ``frame_shape`` (2,), ``mean_frame_duration``, ``dt``, ``seed``,
        ``n_frames``, ``mean_rate`` (realised spikes per second) and every model
        parameter as ``model_<name>`` (0-d arrays; strings as ``np.str_``).
    """
    if not isinstance(model, NeuronModel):
        model = NeuronModel.from_dict(model)
    n_frames = as_int(n_frames, "n_frames", 2)
    n_extra_frames = as_int(n_extra_frames, "n_extra_frames", 0)
    if len(frame_shape) != 2:
        raise InputError("frame_shape", f"must be (height, width), got {frame_shape!r}")
    height, width = (as_int(size, "frame_shape", 1) for size in frame_shape)
    if not 0 <= model.center_row <= height - 1 or not 0 <= model.center_col <= width - 1:
        raise InputError("model", f"centre ({model.center_row}, {model.center_col}) lies "
                         f"outside the {height} x {width} frame")
    mean_frame_duration = as_float(mean_frame_duration, "mean_frame_duration", minimum=0.0,
                                   strict=True)
    sd_frame_duration = as_float(sd_frame_duration, "sd_frame_duration", minimum=0.0)
    dt = as_float(dt, "dt", minimum=0.0, strict=True, maximum=mean_frame_duration / 10)

    rng = np.random.default_rng(seed)
    n_stored = n_frames + n_extra_frames
    frames = rng.integers(0, 2, size=(n_stored, height * width), dtype=np.uint8)
    durations = frame_durations(n_frames, mean_frame_duration, sd_frame_duration, rng)
    trigger_times = np.concatenate(([0.0], np.cumsum(durations[:-1])))
    stop = trigger_times[-1] + durations[-1]

    spatial = model.spatial_map((height, width))
    fine_taus, kernel = model.temporal_kernel(dt, mean_frame_duration)

    # Spatially filtered contrast of each shown frame, held on the dt grid.
    projection = (2.0 * frames[:n_frames].astype(np.float64) - 1.0) @ spatial
    n_bins = int(np.ceil(stop / dt))
    centres = (np.arange(n_bins) + 0.5) * dt
    frame_of_bin = np.searchsorted(trigger_times, centres, side="right") - 1
    held = projection[np.minimum(frame_of_bin, n_frames - 1)]
    held[centres >= stop] = 0.0
    drive = oaconvolve(held, kernel * dt)[:n_bins]
    rate = model.baseline_rate * np.exp(model.gain * drive)

    spike_counts = rng.poisson(rate * dt)
    bins = np.repeat(np.arange(n_bins), spike_counts)
    spike_times = np.sort((bins + rng.random(bins.size)) * dt)
    spike_times = spike_times[spike_times < stop]

    stimulus_hwt = np.ascontiguousarray(
        frames.reshape(n_stored, height, width).transpose(1, 2, 0))
    raw = {
        "spike_times": spike_times,
        "trigger_times": trigger_times,
        "stimulus_hwt": stimulus_hwt,
    }

    sign = 1.0 if spatial[np.argmax(np.abs(spatial))] > 0 else -1.0
    truth_kernel = sign * kernel
    n_truth_lags = max(5, int(np.ceil(fine_taus[-1] / mean_frame_duration)) + 2)
    lags = np.arange(n_truth_lags)
    temporal_lags = np.array([
        np.sum(truth_kernel * _triangle(fine_taus / mean_frame_duration - lag)) * dt
        for lag in lags
    ])
    sta_step = 0.01
    sta_taus = np.arange(int(np.ceil((fine_taus[-1] + mean_frame_duration) / sta_step)) + 1) \
        * sta_step
    sta_temporal = np.array([
        np.sum(truth_kernel * _triangle((fine_taus - tau) / mean_frame_duration)) * dt
        for tau in sta_taus
    ])
    truth = {
        "spatial": sign * spatial,
        "fine_taus": fine_taus,
        "temporal_fine": truth_kernel,
        "lags": lags,
        "temporal_lags": temporal_lags,
        "sta_taus": sta_taus,
        "sta_temporal": sta_temporal,
        "frame_shape": np.array([height, width]),
        "mean_frame_duration": np.float64(mean_frame_duration),
        "dt": np.float64(dt),
        "seed": np.int64(seed),
        "n_frames": np.int64(n_frames),
        "mean_rate": np.float64(spike_times.size / stop),
    }
    for name, value in model.to_dict().items():
        truth[f"model_{name}"] = np.str_(value) if isinstance(value, str) else np.float64(value)
    return raw, truth
