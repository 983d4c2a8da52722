r"""Model neurons with known receptive fields, and the ground truth they give.

A model neuron is a space-time separable linear-nonlinear-Poisson (LNP) cell
watching a white-noise stimulus of independent frames:

.. math::

    \text{drive}(t) = \int_0^\infty k(\tau)\,
        \sum_p f_p\,c_p(t - \tau)\,d\tau, \qquad
    \text{rate}(t) = r_0 \exp\bigl(g\,\text{drive}(t)\bigr)

where ``c_p(t)`` is the zero-mean, unit-variance contrast of pixel ``p`` of the
frame on screen at time ``t`` (a grey screen, contrast 0, before the first
trigger and after the last frame), ``f`` the unit-norm spatial map, ``k`` the
temporal kernel in continuous time, ``r_0`` the baseline rate and ``g`` the
gain.  The stored stimulus value ``s`` maps to the contrast by its kind (see
:data:`sparsefield.rf.simulate.CONTRASTS`):

* ``"binary"``: ``s`` in {0, 1} stored as uint8, ``c = 2 s - 1`` (the
  checkerboard of the real recording and of
  :func:`sparsefield.rf.simulate.simulate_recording`);
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

Recordings are simulated from these models by :mod:`sparsefield.rf.simulate` (one
neuron) and :mod:`sparsefield.rf.simulate_session` (many units under one stimulus);
:func:`unit_truth` is what each unit's ground truth holds.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float
from sparsefield.errors import InputError

# Fields that must be > 0 and >= 0; the others only finite (surround_ratio > 1).
_POSITIVE = ("sigma", "wavelength", "latency", "width", "rebound_latency", "rebound_width",
             "baseline_rate")
_NON_NEGATIVE = ("rebound_ratio", "gain", "surround_weight")
#: Spatial kinds of :class:`NeuronModel`.
KINDS = ("gaussian", "gabor", "center_surround")
#: Fields that only ``center_surround`` models use (kept out of other models' truth).
_SURROUND_FIELDS = ("surround_ratio", "surround_weight")


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

    def __post_init__(self) -> None:
        self._check("model")

    def _check(self, source: str) -> None:
        if self.kind not in KINDS:
            raise InputError(f"{source}.kind",
                             f"must be one of {list(KINDS)}, got {self.kind!r}")
        if self.polarity not in ("on", "off"):
            raise InputError(f"{source}.polarity", f"must be 'on' or 'off', got {self.polarity!r}")
        for name in (field.name for field in fields(self)):
            if name in ("kind", "polarity"):
                continue
            bounds: dict[str, Any]
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
    def from_dict(cls, parameters: Mapping[str, Any], source: str = "model") -> Self:
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
        values: dict[str, Any] = {}
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

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict (the inverse of :meth:`from_dict`)."""
        return asdict(self)

    def spatial_map(self, frame_shape: Sequence[int]) -> NDArray[np.float64]:
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

    def temporal_kernel(self, dt: float, mean_frame_duration: float
                        ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
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
        taus = np.arange(int(np.ceil(stop / dt)) + 1, dtype=np.float64) * dt
        kernel = (_gamma_lobe(taus, self.latency, self.width)
                  - self.rebound_ratio * _gamma_lobe(taus, self.rebound_latency,
                                                     self.rebound_width))
        autocorrelation = np.correlate(kernel, kernel, mode="full") * dt * dt
        shifts = np.arange(-(taus.size - 1), taus.size) * dt
        variance = np.sum(autocorrelation * _triangle(shifts / mean_frame_duration))
        return taus, kernel / np.sqrt(variance)


def _gamma_lobe(taus: NDArray[np.float64], peak: float, sd: float) -> NDArray[np.float64]:
    """Gamma-density-shaped lobe with mode ``peak`` and SD ``sd``, scaled to peak 1."""
    scale = 0.5 * (np.sqrt(peak**2 + 4.0 * sd**2) - peak)
    shape = peak / scale + 1.0
    lobe = np.zeros_like(taus)
    positive = taus > 0
    ratio = taus[positive] / peak
    lobe[positive] = np.exp((shape - 1.0) * np.log(ratio) - (taus[positive] - peak) / scale)
    return lobe


def _triangle(x: ArrayLike) -> NDArray[np.float64]:
    """``max(0, 1 - |x|)``."""
    return np.maximum(0.0, 1.0 - np.abs(x))


def check_centre(model: NeuronModel, frame_shape: Sequence[int], source: str) -> None:
    """The centre lies inside the frame (on the axes longer than 1 pixel).

    Parameters
    ----------
    model : NeuronModel
    frame_shape : tuple of int
        ``(height, width)``.
    source : str
        What messages call the model (e.g. ``"models[3]"``).

    Raises
    ------
    InputError
        Naming ``source`` when the centre lies outside the frame.
    """
    height, width = frame_shape
    inside_rows = height == 1 or 0 <= model.center_row <= height - 1
    inside_cols = width == 1 or 0 <= model.center_col <= width - 1
    if not inside_rows or not inside_cols:
        raise InputError(source, f"centre ({model.center_row}, {model.center_col}) lies "
                         f"outside the {height} x {width} frame")


def _sta_step(mean_frame_duration: float) -> float:
    """10 ms, or the largest step below it that divides the frame duration."""
    frames_per_step = mean_frame_duration / 0.01
    if abs(frames_per_step - round(frames_per_step)) < 1e-9:
        return 0.01
    return mean_frame_duration / np.ceil(frames_per_step)


def _model_parameters(model: NeuronModel) -> dict[str, np.str_ | np.float64]:
    """``model_<name>`` truth entries (surround fields only for centre-surround)."""
    return {
        f"model_{name}": np.str_(value) if isinstance(value, str) else np.float64(value)
        for name, value in model.to_dict().items()
        if name not in _SURROUND_FIELDS or model.kind == "center_surround"
    }


def unit_truth(model: NeuronModel, spatial: NDArray[np.float64], fine_taus: NDArray[np.float64],
               kernel: NDArray[np.float64], *, frame_shape: Sequence[int],
               mean_frame_duration: float, dt: float, seed: int, n_frames: int,
               mean_rate: float) -> dict[str, np.ndarray | np.generic]:
    """The ground truth of one simulated unit, as the simulations return it.

    Parameters
    ----------
    model : NeuronModel
    spatial : ndarray of shape (n_pixels,)
        ``model.spatial_map(frame_shape)``.
    fine_taus, kernel : ndarray of shape (n_fine,)
        ``model.temporal_kernel(dt, mean_frame_duration)``.
    frame_shape : list of int
        ``[height, width]``.
    mean_frame_duration, dt : float
        Seconds: the frames' mean duration (``D`` below) and the rate grid's step.
    seed : int
        The simulation's seed.
    n_frames : int
        Frames shown.
    mean_rate : float
        Realised spikes per second.

    Returns
    -------
    truth : dict of str to ndarray
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
        Both are in units of the zero-mean contrast ``c`` (``2 s - 1`` for binary
        frames; module docstring).
        ``frame_shape`` (2,), ``mean_frame_duration``, ``dt``, ``seed``,
        ``n_frames``, ``mean_rate`` (realised spikes per second) and every model
        parameter as ``model_<name>`` (0-d arrays; strings as ``np.str_``; the
        surround parameters only for ``center_surround`` models).
    """
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
    truth: dict[str, np.ndarray | np.generic] = {
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
