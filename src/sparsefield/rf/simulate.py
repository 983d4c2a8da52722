"""Model neurons with known receptive fields, and recordings simulated from them.

A model neuron is a space-time separable linear-nonlinear-Poisson (LNP) cell
watching a white-noise stimulus of independent frames:

.. math::

    \\text{drive}(t) = \\int_0^\\infty k(\\tau)\\,
        \\sum_p f_p\\,c_p(t - \\tau)\\,d\\tau, \\qquad
    \\text{rate}(t) = r_0 \\exp\\bigl(g\\,\\text{drive}(t)\\bigr)

where ``c_p(t)`` is the zero-mean, unit-variance contrast of pixel ``p`` of the
frame on screen at time ``t`` (a grey screen, contrast 0, before the first
trigger and after the last frame), ``f`` the unit-norm spatial map, ``k`` the
temporal kernel in continuous time, ``r_0`` the baseline rate and ``g`` the
gain.  The stored stimulus value ``s`` maps to the contrast by its kind (see
:data:`CONTRASTS`):

* ``"binary"``: ``s`` in {0, 1} stored as uint8, ``c = 2 s - 1`` (the
  checkerboard of the real recording and of :func:`simulate_recording`);
* ``"pm1"``: ``s`` in {-1, +1} stored as int8, ``c = s``;
* ``"gaussian"``: ``s`` standard normal stored as float32, ``c = s / 1``
  (its standard deviation is 1, so the contrast is the stored value itself).

Frames are ``(height, width)`` pixels: ``(1, 1)`` is a full-field flicker,
``(1, width)`` a row of bars spanning the screen height, ``(height, width)`` a
checkerboard.  Along an axis of size 1 the stimulus is uniform, so the map
there is the model's field integrated along that axis (the model's centre on
it is ignored); a full-field unit's map is ``[1.0]`` (``[-1.0]`` for OFF).

The temporal kernel is biphasic: a positive gamma-shaped lobe that peaks at
``latency`` with standard deviation ``width``, minus a weaker negative lobe
(the rebound) that peaks at ``rebound_latency`` with standard deviation
``rebound_width`` and a peak ``rebound_ratio`` times that of the positive
lobe.  ``k`` is scaled so that the drive has unit variance under
unit-variance contrast with the mean frame duration (averaged over where in a
frame one looks), so ``gain`` is the standard deviation of the log rate and
the mean rate is about ``baseline_rate * exp(gain**2 / 2)``.

:func:`simulate_recording` returns one neuron's raw recording in the layout of
the real file (spike times, trigger times, a height x width x frames uint8
stimulus with more frames than triggers) and the ground truth as plain
arrays.  :func:`simulate_session` records many units at once under one
stimulus, like a multi-electrode array on a retina, and
:func:`session_models` builds the default population for it.
"""

from dataclasses import asdict, dataclass, fields

import numpy as np
from scipy.signal import oaconvolve

from sparsefield._checks import as_float, as_int
from sparsefield.errors import InputError

# Fields that must be > 0 and >= 0; the others only finite (surround_ratio > 1).
_POSITIVE = ("sigma", "wavelength", "latency", "width", "rebound_latency", "rebound_width",
             "baseline_rate")
_NON_NEGATIVE = ("rebound_ratio", "gain", "surround_weight")
#: Spatial kinds of :class:`NeuronModel`.
KINDS = ("gaussian", "gabor", "center_surround")
#: Fields that only ``center_surround`` models use (kept out of other models' truth).
_SURROUND_FIELDS = ("surround_ratio", "surround_weight")
#: Stimulus contrast kinds: the stored dtype of each.
CONTRASTS = {"binary": np.uint8, "pm1": np.int8, "gaussian": np.float32}


@dataclass(frozen=True)
class NeuronModel:
    """A space-time separable LNP neuron.

    Attributes
    ----------
    kind : {"gaussian", "gabor", "center_surround"}
        Shape of the spatial receptive field.  ``"center_surround"`` is a
        difference of Gaussians: a centre of SD ``sigma`` minus a surround of
        SD ``surround_ratio * sigma`` whose integral is ``surround_weight``
        times the centre's.
    center_row, center_col : float
        Centre of the receptive field in pixels (0-based; row 0 at the top).
    sigma : float
        Standard deviation of the Gaussian (envelope, or centre) in pixels.
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
        Standard deviation of the log firing rate under the stimulus.
    surround_ratio : float
        Centre-surround only: surround SD over centre SD (> 1).
    surround_weight : float
        Centre-surround only: integral of the surround over that of the centre
        (0: no surround; 1: balanced, no response to a uniform field).

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
    surround_ratio: float = 2.5
    surround_weight: float = 0.7

    def __post_init__(self):
        self._check("model")

    def _check(self, source):
        if self.kind not in KINDS:
            raise InputError(f"{source}.kind",
                             f"must be one of {list(KINDS)}, got {self.kind!r}")
        if self.polarity not in ("on", "off"):
            raise InputError(f"{source}.polarity", f"must be 'on' or 'off', got {self.polarity!r}")
        for name in (field.name for field in fields(self)):
            if name in ("kind", "polarity"):
                continue
            if name in _POSITIVE:
                bounds = {"minimum": 0.0, "strict": True}
            elif name in _NON_NEGATIVE:
                bounds = {"minimum": 0.0}
            elif name == "surround_ratio":
                bounds = {"minimum": 1.0, "strict": True}
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
            ``(height, width)`` in pixels.  Along an axis of size 1 (bars, full
            field) the stimulus is uniform: the map is the field integrated
            along that axis, and the centre on that axis is ignored.

        Returns
        -------
        spatial : ndarray of shape (height * width,)
            C order: pixel = row * width + col.  ``[+-1.0]`` on a ``(1, 1)``
            frame: the sign of the response to a uniform bright field.

        Raises
        ------
        InputError
            If the map is zero on this frame (e.g. a balanced surround, or a
            Gabor with phase 90, under a full field).
        """
        height, width = frame_shape
        rows, cols = np.meshgrid(np.arange(height, dtype=np.float64),
                                 np.arange(width, dtype=np.float64), indexing="ij")
        # A Gaussian integrated along an axis is the Gaussian at offset 0 on
        # it (up to a factor that the normalisation removes, and that the
        # difference of Gaussians keeps through n_axes).
        row_offset = rows - self.center_row if height > 1 else np.zeros_like(rows)
        col_offset = cols - self.center_col if width > 1 else np.zeros_like(cols)
        squared = row_offset**2 + col_offset**2
        envelope = np.exp(-squared / (2.0 * self.sigma**2))
        if self.kind == "gaussian":
            spatial = envelope
        elif self.kind == "gabor":
            angle = np.deg2rad(self.orientation)
            along = col_offset * np.cos(angle) - row_offset * np.sin(angle)
            spatial = envelope * np.cos(2.0 * np.pi * along / self.wavelength
                                        + np.deg2rad(self.phase))
        else:
            # Normalised Gaussians in n_axes dimensions: the surround's peak is
            # surround_weight / surround_ratio**n_axes times the centre's.
            n_axes = int(height > 1) + int(width > 1)
            surround = np.exp(-squared / (2.0 * (self.surround_ratio * self.sigma)**2))
            spatial = envelope - self.surround_weight / self.surround_ratio**n_axes * surround
        spatial = spatial.ravel()
        norm = np.linalg.norm(spatial)
        if not norm > 1e-12 * np.max(np.abs(envelope)):
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


def _frame_shape(frame_shape):
    """``(height, width)`` as two ints >= 1."""
    if len(frame_shape) != 2:
        raise InputError("frame_shape", f"must be (height, width), got {frame_shape!r}")
    return tuple(as_int(size, "frame_shape", 1) for size in frame_shape)


def _check_centre(model, frame_shape, source):
    """The centre lies inside the frame (on the axes longer than 1 pixel)."""
    height, width = frame_shape
    inside_rows = height == 1 or 0 <= model.center_row <= height - 1
    inside_cols = width == 1 or 0 <= model.center_col <= width - 1
    if not inside_rows or not inside_cols:
        raise InputError(source, f"centre ({model.center_row}, {model.center_col}) lies "
                         f"outside the {height} x {width} frame")


def _rate_grid(trigger_times, stop, dt):
    """The ``dt`` grid from 0 to ``stop``: the frame on screen in each bin.

    Returns
    -------
    frame_index : ndarray of shape (n_bins,) int
        Index of the shown frame whose hold covers the bin centre.
    grey : ndarray of shape (n_bins,) bool
        Bins whose centre lies after the last frame (contrast 0).
    """
    n_bins = int(np.ceil(stop / dt))
    centres = (np.arange(n_bins) + 0.5) * dt
    frame_of_bin = np.searchsorted(trigger_times, centres, side="right") - 1
    return np.minimum(frame_of_bin, trigger_times.size - 1), centres >= stop


def _draw_spikes(projection, frame_index, grey, kernel, dt, model, stop, rng):
    """Spike times of one unit from the spatially filtered contrast of each frame.

    The projection is held on the grid, convolved with the kernel, passed
    through the exponential; counts per bin are Poisson (``rng.poisson``, one
    call) and each spike is placed uniformly in its bin (``rng.random``).
    """
    held = projection[frame_index]
    held[grey] = 0.0
    n_bins = frame_index.size
    drive = oaconvolve(held, kernel * dt)[:n_bins]
    rate = model.baseline_rate * np.exp(model.gain * drive)
    spike_counts = rng.poisson(rate * dt)
    bins = np.repeat(np.arange(n_bins), spike_counts)
    spike_times = np.sort((bins + rng.random(bins.size)) * dt)
    return spike_times[spike_times < stop]


def _sta_step(mean_frame_duration):
    """10 ms, or the largest step below it that divides the frame duration."""
    frames_per_step = mean_frame_duration / 0.01
    if abs(frames_per_step - round(frames_per_step)) < 1e-9:
        return 0.01
    return mean_frame_duration / np.ceil(frames_per_step)


def _model_parameters(model):
    """``model_<name>`` truth entries (surround fields only for centre-surround)."""
    return {
        f"model_{name}": np.str_(value) if isinstance(value, str) else np.float64(value)
        for name, value in model.to_dict().items()
        if name not in _SURROUND_FIELDS or model.kind == "center_surround"
    }


def _truth(model, spatial, fine_taus, kernel, *, frame_shape, mean_frame_duration, dt, seed,
           n_frames, mean_rate):
    """The ground truth of one unit (see :func:`simulate_recording`)."""
    sign = 1.0 if spatial[np.argmax(np.abs(spatial))] > 0 else -1.0
    truth_kernel = sign * kernel
    n_truth_lags = max(5, int(np.ceil(fine_taus[-1] / mean_frame_duration)) + 2)
    lags = np.arange(n_truth_lags)
    temporal_lags = np.array([
        np.sum(truth_kernel * _triangle(fine_taus / mean_frame_duration - lag)) * dt
        for lag in lags
    ])
    sta_step = _sta_step(mean_frame_duration)
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
        "frame_shape": np.array(frame_shape),
        "mean_frame_duration": np.float64(mean_frame_duration),
        "dt": np.float64(dt),
        "seed": np.int64(seed),
        "n_frames": np.int64(n_frames),
        "mean_rate": np.float64(mean_rate),
    }
    truth.update(_model_parameters(model))
    return truth


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
        ``(height, width)`` of the checkerboard (``(1, width)`` bars and ``(1, 1)``
        full field work too; the centre on an axis of size 1 is then ignored).
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
        up to a common scale.  ``n_truth_lags = max(5, ceil(fine_taus[-1] / D) + 2)``
        covers the whole kernel at any frame rate.
        ``sta_taus`` (n_sta_taus,) s at 10 ms steps (at high frame rates, the
        largest step under 10 ms that divides ``D``) and ``sta_temporal``
        (n_sta_taus,): the temporal profile seen by a spike-triggered average
        of the frame on screen ``tau`` before each spike,
        ``integral k(a) max(0, 1 - |a - tau| / D) da``.  It is the kernel
        convolved with the autocorrelation of the frame-hold signal, which for
        frames of duration ``D`` seen at a random phase is that triangle (the
        frame-hold box of width ``D`` correlated with itself).  Note that
        ``sta_temporal`` at ``tau = lag * D`` equals ``temporal_lags[lag]``.
        Both are in units of the zero-mean contrast ``2 s - 1``.
        ``frame_shape`` (2,), ``mean_frame_duration``, ``dt``, ``seed``,
        ``n_frames``, ``mean_rate`` (realised spikes per second) and every model
        parameter as ``model_<name>`` (0-d arrays; strings as ``np.str_``; the
        surround parameters only for ``center_surround`` models).
    """
    if not isinstance(model, NeuronModel):
        model = NeuronModel.from_dict(model)
    n_frames = as_int(n_frames, "n_frames", 2)
    n_extra_frames = as_int(n_extra_frames, "n_extra_frames", 0)
    height, width = _frame_shape(frame_shape)
    _check_centre(model, (height, width), "model")
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
    projection = _contrast(frames[:n_frames], "binary") @ spatial
    frame_index, grey = _rate_grid(trigger_times, stop, dt)
    spike_times = _draw_spikes(projection, frame_index, grey, kernel, dt, model, stop, rng)

    stimulus_hwt = np.ascontiguousarray(
        frames.reshape(n_stored, height, width).transpose(1, 2, 0))
    raw = {
        "spike_times": spike_times,
        "trigger_times": trigger_times,
        "stimulus_hwt": stimulus_hwt,
    }
    truth = _truth(model, spatial, fine_taus, kernel, frame_shape=[height, width],
                   mean_frame_duration=mean_frame_duration, dt=dt, seed=seed,
                   n_frames=n_frames, mean_rate=spike_times.size / stop)
    return raw, truth


def _draw_frames(rng, contrast, n_stored, n_pixels):
    """``n_stored`` independent frames of ``n_pixels`` in the contrast's stored dtype.

    ``"pm1"`` is the ``"binary"`` draw stored as ``2 s - 1``: under one seed the two
    kinds show the same contrast (and give the same spikes).
    """
    if contrast == "binary":
        return rng.integers(0, 2, size=(n_stored, n_pixels), dtype=np.uint8)
    if contrast == "pm1":
        return (2 * rng.integers(0, 2, size=(n_stored, n_pixels), dtype=np.int8) - 1).astype(
            np.int8)
    return rng.standard_normal(size=(n_stored, n_pixels), dtype=np.float32)


def _contrast(frames, contrast):
    """The zero-mean, unit-variance float64 contrast of stored frames."""
    if contrast == "binary":
        return 2.0 * frames.astype(np.float64) - 1.0
    return frames.astype(np.float64)  # pm1: s; gaussian: s / 1 (standard normal)


def _unit_rng(seed, unit_id):
    """The generator of one unit's spikes: independent of the stimulus and other units."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, unit_id)))


def simulate_session(models, *, n_frames, frame_shape, mean_frame_duration,
                     sd_frame_duration=0.0, n_extra_frames=0, contrast="binary", dt=None,
                     seed=0):
    """Simulate many units recorded at once under one white-noise stimulus.

    One stimulus and one set of trigger times are drawn (frames as in
    :func:`simulate_recording`, of the given contrast kind; see the module
    docstring for the drive each kind gives); each unit's spikes are then
    drawn independently from its own LNP model, exactly as
    :func:`simulate_recording` draws one neuron's.

    Parameters
    ----------
    models : Mapping of int to NeuronModel or Mapping
        Unit id (an int >= 0) to its model (a mapping is passed to
        :meth:`NeuronModel.from_dict`).  At least one unit.
    n_frames : int
        Number of frames shown (= number of triggers), >= 2.
    frame_shape : tuple of int
        ``(height, width)``: ``(1, 1)`` full field, ``(1, width)`` bars,
        ``(height, width)`` a checkerboard.
    mean_frame_duration, sd_frame_duration : float
        Frame durations (s), as in :func:`simulate_recording` (default: no
        jitter).
    n_extra_frames : int
        Frames stored after the last shown frame.
    contrast : {"binary", "pm1", "gaussian"}
        Stimulus values: 0/1 uint8, +-1 int8 or standard normal float32.
        Under one seed, ``"pm1"`` is the ``"binary"`` stimulus stored as ``2 s - 1``.
    dt : float, optional
        Time step (s) of the rate grid, at most a tenth of a frame; default
        ``min(0.001, mean_frame_duration / 10)``.
    seed : int >= 0
        The stimulus and durations come from ``SeedSequence(seed, spawn_key=(0,))``,
        unit ``u``'s spikes from ``SeedSequence(seed, spawn_key=(1, u))``: a
        unit's train does not depend on which other units are simulated.

    Returns
    -------
    raw : dict
        ``unit_ids`` (n_units,) int64, ascending;
        ``spike_times``: list of n_units sorted float64 arrays (s), in the
        order of ``unit_ids``;
        ``trigger_times`` (n_frames,) float64 s, starting at 0;
        ``stimulus`` (n_frames + n_extra_frames, height, width) in the
        contrast's dtype (:data:`CONTRASTS`).
    truth : dict
        Unit id (int) to that unit's truth, the dict
        :func:`simulate_recording` returns (``seed`` is the session's), plus
        ``unit_id`` and ``contrast``.  ``temporal_lags`` and ``sta_temporal``
        are in units of the zero-mean contrast.

    Notes
    -----
    The stimulus is projected onto all spatial maps with one matrix product;
    each unit then costs one hold, one FFT convolution and one Poisson draw
    over the ``dt`` grid (about 50 ms per unit for 4000 frames of 0.2 s).
    """
    if not hasattr(models, "items") or len(models) == 0:
        raise InputError("models", "must be a non-empty mapping of unit id to model")
    units = {}
    for unit_id, model in models.items():
        if not isinstance(unit_id, (int, np.integer)) or isinstance(unit_id, (bool, np.bool_)) \
                or unit_id < 0:
            raise InputError("models", f"unit ids must be integers >= 0, got {unit_id!r}")
        source = f"models[{int(unit_id)}]"
        if not isinstance(model, NeuronModel):
            model = NeuronModel.from_dict(model, source=source)
        units[int(unit_id)] = (model, source)
    n_frames = as_int(n_frames, "n_frames", 2)
    n_extra_frames = as_int(n_extra_frames, "n_extra_frames", 0)
    height, width = _frame_shape(frame_shape)
    for model, source in units.values():
        _check_centre(model, (height, width), source)
    if contrast not in CONTRASTS:
        raise InputError("contrast", f"must be one of {list(CONTRASTS)}, got {contrast!r}")
    mean_frame_duration = as_float(mean_frame_duration, "mean_frame_duration", minimum=0.0,
                                   strict=True)
    sd_frame_duration = as_float(sd_frame_duration, "sd_frame_duration", minimum=0.0)
    if dt is None:
        dt = min(0.001, mean_frame_duration / 10)
    dt = as_float(dt, "dt", minimum=0.0, strict=True, maximum=mean_frame_duration / 10)
    seed = as_int(seed, "seed", 0)

    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    n_stored = n_frames + n_extra_frames
    frames = _draw_frames(rng, contrast, n_stored, height * width)
    durations = frame_durations(n_frames, mean_frame_duration, sd_frame_duration, rng)
    trigger_times = np.concatenate(([0.0], np.cumsum(durations[:-1])))
    stop = trigger_times[-1] + durations[-1]

    unit_ids = np.array(sorted(units), dtype=np.int64)
    spatials = np.stack([units[unit_id][0].spatial_map((height, width))
                         for unit_id in unit_ids.tolist()], axis=1)
    projections = _contrast(frames[:n_frames], contrast) @ spatials  # (n_frames, n_units)
    frame_index, grey = _rate_grid(trigger_times, stop, dt)

    spike_trains = []
    truth = {}
    for column, unit_id in enumerate(unit_ids.tolist()):
        model = units[unit_id][0]
        fine_taus, kernel = model.temporal_kernel(dt, mean_frame_duration)
        spike_times = _draw_spikes(np.ascontiguousarray(projections[:, column]), frame_index,
                                   grey, kernel, dt, model, stop, _unit_rng(seed, unit_id))
        spike_trains.append(spike_times)
        truth[unit_id] = _truth(model, spatials[:, column], fine_taus, kernel,
                                frame_shape=[height, width],
                                mean_frame_duration=mean_frame_duration, dt=dt, seed=seed,
                                n_frames=n_frames, mean_rate=spike_times.size / stop)
        truth[unit_id]["unit_id"] = np.int64(unit_id)
        truth[unit_id]["contrast"] = np.str_(contrast)
    raw = {
        "unit_ids": unit_ids,
        "spike_times": spike_trains,
        "trigger_times": trigger_times,
        "stimulus": frames.reshape(n_stored, height, width),
    }
    return raw, truth


def _mosaic(n_units, bounds, parity, rng):
    """``n_units`` centres on a jittered hexagonal lattice that fills ``bounds``.

    The spacing is the largest (in 3 % steps from the ideal one) whose
    lattice has at least ``n_units`` points inside ``bounds``; surplus points
    are dropped at random (cells not recorded), then every centre is jittered
    by a normal of SD 0.12 spacing and clipped back into ``bounds``.
    ``parity`` 1 shifts alternate rows the other way, so that a second
    mosaic interleaves with the first.

    Returns
    -------
    centres : ndarray of shape (n_units, 2)
        ``(row, col)`` in pixels.
    spacing : float
        Distance between neighbouring lattice points in pixels.
    """
    (top, bottom), (left, right) = bounds
    spacing = np.sqrt(2.0 * (bottom - top) * (right - left) / (np.sqrt(3.0) * n_units))
    while True:
        row_step = spacing * np.sqrt(3.0) / 2.0
        n_rows = int(np.floor((bottom - top) / row_step)) + 1
        first_row = top + 0.5 * (bottom - top - (n_rows - 1) * row_step)
        points = []
        for index in range(n_rows):
            offset = 0.5 * spacing * ((index + parity) % 2)
            n_cols = int(np.floor((right - left - offset) / spacing)) + 1
            first_col = left + offset + 0.5 * (right - left - offset - (n_cols - 1) * spacing)
            points.extend((first_row + index * row_step, first_col + col * spacing)
                          for col in range(n_cols))
        if len(points) >= n_units:
            break
        spacing *= 0.97
    points = np.array(points)
    points = points[np.sort(rng.choice(len(points), size=n_units, replace=False))]
    points = points + rng.normal(0.0, 0.12 * spacing, size=points.shape)
    points[:, 0] = np.clip(points[:, 0], top, bottom)
    points[:, 1] = np.clip(points[:, 1], left, right)
    return points, spacing


def session_models(frame_shape=(20, 15), *, n_units=36, n_sparse=3, n_frames=4000,
                   mean_frame_duration=0.2, seed=0):
    """The default population of a simulated retina recording (deterministic).

    About 3/8 ON and 3/8 OFF centre-surround units, each type on its own
    jittered hexagonal mosaic over the frame (centres at least 1 pixel from
    the border, centre SD 0.4 lattice spacing), and ``n_units // 4`` Gabor units
    with evenly spread orientations (+- 10 degrees) at random places.
    Latencies are spread evenly over 0.05-0.3 s (shuffled), so that with
    0.2 s frames some units peak at lag 0 and most at lag 1; gains (the SD
    of the log rate) are 1.0-1.4, as strong as the single default neurons'
    1.  Mean rates are log-uniform in 2-20 Hz except for ``n_sparse``
    units, whose expected spike counts over ``n_frames`` frames of
    ``mean_frame_duration`` are spread over 10-30 (units a workflow should
    flag as too sparse to fit).

    Parameters
    ----------
    frame_shape : tuple of int
        ``(height, width)``, both at least 5.
    n_units : int
        Number of units, >= 4.
    n_sparse : int
        Number of units with an expected count of 10-30 spikes.
    n_frames, mean_frame_duration : int, float
        The recording the sparse units' rates are planned for.
    seed : int
        Seed of the layout and of every parameter.

    Returns
    -------
    models : dict of int to NeuronModel
        Unit id to model.  Ids are distinct ascending ints with gaps,
        in ``[1, 10 n_units)`` (like a spike sorter's cluster ids); kinds are
        shuffled over the ids.
    """
    height, width = _frame_shape(frame_shape)
    if height < 5 or width < 5:
        raise InputError("frame_shape",
                         f"must be at least 5 x 5 for a mosaic, got {frame_shape!r}")
    n_units = as_int(n_units, "n_units", 4)
    n_sparse = as_int(n_sparse, "n_sparse", 0, n_units)
    n_frames = as_int(n_frames, "n_frames", 1)
    mean_frame_duration = as_float(mean_frame_duration, "mean_frame_duration", minimum=0.0,
                                   strict=True)
    duration = n_frames * mean_frame_duration
    rng = np.random.default_rng(seed)

    n_gabor = n_units // 4
    n_on = (n_units - n_gabor + 1) // 2
    n_off = n_units - n_gabor - n_on
    bounds = ((1.0, height - 2.0), (1.0, width - 2.0))
    spatial = []
    for polarity, count, parity in (("on", n_on, 0), ("off", n_off, 1)):
        centres, spacing = _mosaic(count, bounds, parity, rng)
        for row, col in centres:
            spatial.append({
                "kind": "center_surround", "polarity": polarity,
                "center_row": float(row), "center_col": float(col),
                "sigma": float(0.4 * spacing * rng.uniform(0.85, 1.15)),
                "surround_ratio": float(rng.uniform(2.0, 3.0)),
                "surround_weight": float(rng.uniform(0.5, 0.9)),
            })
    orientations = (np.arange(n_gabor) * 180.0 / max(n_gabor, 1)
                    + rng.uniform(-10.0, 10.0, n_gabor)) % 180.0
    for orientation in orientations:
        spatial.append({
            "kind": "gabor", "polarity": "on",
            "center_row": float(rng.uniform(1.5, height - 2.5)),
            "center_col": float(rng.uniform(1.5, width - 2.5)),
            "sigma": float(rng.uniform(1.5, 2.5)),
            "orientation": float(orientation),
            "wavelength": float(rng.uniform(5.0, 8.0)),
            "phase": float(rng.uniform(0.0, 360.0)),
        })

    latencies = rng.permutation(np.linspace(0.05, 0.3, n_units))
    gains = rng.uniform(1.0, 1.4, n_units)  # as strong as the single default neurons (gain 1)
    mean_rates = np.exp(rng.uniform(np.log(2.0), np.log(20.0), n_units))
    mean_rates[rng.choice(n_units, size=n_sparse, replace=False)] = \
        np.linspace(10.0, 30.0, n_sparse) / duration
    order = rng.permutation(n_units)
    unit_ids = np.sort(rng.choice(np.arange(1, 10 * n_units), size=n_units, replace=False))

    models = {}
    for unit_id, index in zip(unit_ids.tolist(), order.tolist()):
        latency = latencies[index]
        width_s = latency * rng.uniform(0.15, 0.3) + 0.005
        models[unit_id] = NeuronModel(
            **spatial[index],
            latency=float(latency),
            width=float(width_s),
            rebound_latency=float(latency * rng.uniform(1.7, 2.2)),
            rebound_width=float(width_s * rng.uniform(1.5, 2.0)),
            rebound_ratio=float(rng.uniform(0.15, 0.35)),
            baseline_rate=float(mean_rates[index] / np.exp(gains[index]**2 / 2.0)),
            gain=float(gains[index]),
        )
    return models
