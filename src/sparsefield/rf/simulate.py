"""Recordings simulated from model neurons: frames, their timing, and spikes.

Frames are independent white noise of one contrast kind (:data:`CONTRASTS`; the model
and the contrast each kind gives: :mod:`sparsefield.rf.neuron`), each shown for a
jittered duration (:func:`frame_durations`) from trigger times that start at 0 s.  A
unit's rate is evaluated on a grid of step ``dt`` from 0 to the end of the last frame
(:func:`rate_grid`); spike counts per grid bin are Poisson and each spike is placed
uniformly inside its bin (:func:`draw_spikes`).

:func:`simulate_recording` returns one neuron's raw recording in the layout of the
real file (spike times, trigger times, a height x width x frames uint8 stimulus with
more frames than triggers) and the ground truth as plain arrays;
:func:`sparsefield.rf.simulate_session.simulate_session` records many units at once
under one stimulus from the same pieces.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import oaconvolve

from sparsefield._checks import as_float, as_int
from sparsefield.errors import InputError
from sparsefield.rf.neuron import NeuronModel, check_centre, unit_truth

#: Stimulus contrast kinds: the stored dtype of each.
CONTRASTS = {"binary": np.uint8, "pm1": np.int8, "gaussian": np.float32}


def frame_durations(n_frames: int, mean_frame_duration: float, sd_frame_duration: float,
                    rng: np.random.Generator) -> NDArray[np.float64]:
    """Jittered frame durations: normal, clipped to mean +- 3 SD and to >= mean / 2.

    Parameters
    ----------
    n_frames : int
    mean_frame_duration, sd_frame_duration : float
        Seconds.
    rng : numpy.random.Generator
        Draws ``n_frames`` normals.

    Returns
    -------
    durations : ndarray of shape (n_frames,)
    """
    durations = rng.normal(mean_frame_duration, sd_frame_duration, size=n_frames)
    low = max(mean_frame_duration - 3.0 * sd_frame_duration, 0.5 * mean_frame_duration)
    high = mean_frame_duration + 3.0 * sd_frame_duration
    return np.clip(durations, low, high)


def check_frame_shape(frame_shape: Sequence[Any]) -> tuple[int, ...]:
    """``(height, width)`` as two ints >= 1.

    Parameters
    ----------
    frame_shape : sequence of int

    Returns
    -------
    frame_shape : tuple of int

    Raises
    ------
    InputError
        Naming ``frame_shape``.
    """
    if len(frame_shape) != 2:
        raise InputError("frame_shape", f"must be (height, width), got {frame_shape!r}")
    return tuple(as_int(size, "frame_shape", 1) for size in frame_shape)


def draw_frames(rng: np.random.Generator, contrast: str, n_stored: int, n_pixels: int
                ) -> NDArray[np.uint8 | np.int8 | np.float32]:
    """``n_stored`` independent frames of ``n_pixels`` in the contrast's stored dtype.

    ``"pm1"`` is the ``"binary"`` draw stored as ``2 s - 1``: under one seed the two
    kinds show the same contrast (and give the same spikes).

    Parameters
    ----------
    rng : numpy.random.Generator
    contrast : str
        One of :data:`CONTRASTS`.
    n_stored, n_pixels : int

    Returns
    -------
    frames : ndarray of shape (n_stored, n_pixels)
        In ``CONTRASTS[contrast]``.
    """
    if contrast == "binary":
        return rng.integers(0, 2, size=(n_stored, n_pixels), dtype=np.uint8)
    if contrast == "pm1":
        return (2 * rng.integers(0, 2, size=(n_stored, n_pixels), dtype=np.int8) - 1).astype(
            np.int8)
    return rng.standard_normal(size=(n_stored, n_pixels), dtype=np.float32)


def draw_stimulus(rng: np.random.Generator, contrast: str, n_frames: int, n_extra_frames: int,
                  n_pixels: int, mean_frame_duration: float, sd_frame_duration: float
                  ) -> tuple[NDArray[np.uint8 | np.int8 | np.float32], NDArray[np.float64], float]:
    """The frames and their timing: frames first, then durations, from one generator.

    Parameters
    ----------
    rng : numpy.random.Generator
    contrast : str
        One of :data:`CONTRASTS`.
    n_frames : int
        Frames shown (= triggers).
    n_extra_frames : int
        Frames stored after the last shown one.
    n_pixels : int
    mean_frame_duration, sd_frame_duration : float
        Seconds (:func:`frame_durations`).

    Returns
    -------
    frames : ndarray of shape (n_frames + n_extra_frames, n_pixels)
        :func:`draw_frames`.
    trigger_times : ndarray of shape (n_frames,)
        Seconds, from 0.
    stop : float
        End of the last shown frame in seconds.
    """
    frames = draw_frames(rng, contrast, n_frames + n_extra_frames, n_pixels)
    durations = frame_durations(n_frames, mean_frame_duration, sd_frame_duration, rng)
    trigger_times = np.concatenate(([0.0], np.cumsum(durations[:-1])))
    return frames, trigger_times, trigger_times[-1] + durations[-1]


def contrast_values(frames: np.ndarray, contrast: str) -> NDArray[np.float64]:
    """The zero-mean, unit-variance float64 contrast of stored frames.

    Parameters
    ----------
    frames : ndarray of shape (n_frames, n_pixels)
        As :func:`draw_frames` stores them.
    contrast : str
        One of :data:`CONTRASTS`.

    Returns
    -------
    values : ndarray of shape (n_frames, n_pixels), float64
    """
    if contrast == "binary":
        return 2.0 * frames.astype(np.float64) - 1.0
    return frames.astype(np.float64)  # pm1: s; gaussian: s / 1 (standard normal)


def rate_grid(trigger_times: NDArray[np.float64], stop: float, dt: float
              ) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """The ``dt`` grid from 0 to ``stop``: the frame on screen in each bin.

    Parameters
    ----------
    trigger_times : ndarray of shape (n_frames,)
    stop : float
        End of the last frame (s).
    dt : float

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


def grid_rate(projection: NDArray[np.float64], frame_index: NDArray[np.intp],
              grey: NDArray[np.bool_], kernel: NDArray[np.float64], dt: float,
              baseline_rate: float, gain: float) -> NDArray[np.float64]:
    """A unit's rate on the ``dt`` grid (the one place the model's rate is written).

    The projection is held on the grid (0 on grey bins), convolved with the kernel and
    passed through the exponential: ``baseline_rate * exp(gain * drive)``.

    Parameters
    ----------
    projection : ndarray of shape (n_frames,)
        The contrast of each shown frame projected on the unit's spatial map.
    frame_index, grey : ndarray of shape (n_bins,)
        From :func:`rate_grid`.
    kernel : ndarray of shape (n_fine,)
        The temporal kernel on the ``dt`` grid, 1/s.
    dt : float
    baseline_rate, gain : float
        The model's (:class:`~sparsefield.rf.neuron.NeuronModel`).

    Returns
    -------
    rate : ndarray of shape (n_bins,)
        Spikes per second in each bin.
    """
    held = projection[frame_index]
    held[grey] = 0.0
    drive = oaconvolve(held, kernel * dt)[:frame_index.size]
    return np.asarray(baseline_rate * np.exp(gain * drive), dtype=np.float64)


def expected_frame_counts(truths: Sequence[Mapping[str, Any]], stimulus: NDArray[np.float64],
                          edges: NDArray[np.float64]) -> NDArray[np.float64]:
    """The true models' expected spike count in each frame of a simulated recording.

    Each unit's rate of :func:`grid_rate` on the simulation's ``dt`` grid (from
    ``edges[0]``: the simulations start at their first trigger), integrated over each
    frame ``[edges[i], edges[i + 1])``: spikes are Poisson per grid bin and placed
    uniformly in it, so this is the exact mean of the frame's count.  After the last
    frame the screen is grey.

    Parameters
    ----------
    truths : sequence of mapping of str to ndarray
        One truth per unit (:func:`sparsefield.rf.neuron.unit_truth`), of one
        simulation (the same ``dt`` and ``contrast``): ``spatial``, ``temporal_fine``,
        ``dt``, ``model_baseline_rate``, ``model_gain`` and, for a session,
        ``contrast`` (default ``"binary"``).
    stimulus : ndarray of shape (n_frames, n_pixels)
        The stored frame values (:data:`CONTRASTS`), e.g. ``Session.stimulus``.
    edges : ndarray of shape (n_frames + 1,)
        Frame edges in seconds (``UnitCounts.edges``).

    Returns
    -------
    expected : ndarray of shape (n_frames, n_units)
    """
    expected = np.empty((edges.size - 1, len(truths)))
    if not truths:
        return expected
    contrast = str(truths[0].get("contrast", "binary"))
    dt = float(truths[0]["dt"])
    values = contrast_values(np.asarray(stimulus), contrast)
    stop = float(edges[-1] - edges[0])
    frame_index, grey = rate_grid(np.asarray(edges[:-1]) - edges[0], stop, dt)
    grid = np.arange(frame_index.size + 1) * dt
    for column, truth in enumerate(truths):
        # one product per unit: a unit's numbers do not depend on the others given
        projection = values @ np.asarray(truth["spatial"], dtype=np.float64)
        rate = grid_rate(projection, frame_index, grey,
                         np.asarray(truth["temporal_fine"]), dt,
                         float(truth["model_baseline_rate"]), float(truth["model_gain"]))
        cumulative = np.concatenate([[0.0], np.cumsum(rate * dt)])
        expected[:, column] = np.diff(np.interp(edges - edges[0], grid, cumulative))
    return expected


def draw_spikes(projection: NDArray[np.float64], frame_index: NDArray[np.intp],
                grey: NDArray[np.bool_], kernel: NDArray[np.float64], dt: float,
                model: NeuronModel, stop: float, rng: np.random.Generator
                ) -> NDArray[np.float64]:
    """Spike times of one unit from the spatially filtered contrast of each frame.

    The projection is held on the grid, convolved with the kernel, passed
    through the exponential; counts per bin are Poisson (``rng.poisson``, one
    call) and each spike is placed uniformly in its bin (``rng.random``).

    Parameters
    ----------
    projection : ndarray of shape (n_frames,)
        The contrast of each shown frame projected on the unit's spatial map.
    frame_index, grey : ndarray of shape (n_bins,)
        From :func:`rate_grid`.
    kernel : ndarray of shape (n_fine,)
        The unit's temporal kernel on the ``dt`` grid
        (:meth:`~sparsefield.rf.neuron.NeuronModel.temporal_kernel`).
    dt : float
    model : sparsefield.rf.neuron.NeuronModel
        Its ``baseline_rate`` and ``gain``.
    stop : float
        End of the last frame (s).
    rng : numpy.random.Generator

    Returns
    -------
    spike_times : ndarray of shape (n_spikes,)
        Sorted, in seconds, before ``stop``.
    """
    rate = grid_rate(projection, frame_index, grey, kernel, dt, model.baseline_rate,
                     model.gain)
    n_bins = frame_index.size
    spike_counts = rng.poisson(rate * dt)
    bins = np.repeat(np.arange(n_bins), spike_counts)
    spike_times = np.sort((bins + rng.random(bins.size)) * dt)
    return spike_times[spike_times < stop]


def simulate_recording(model: NeuronModel | Mapping[str, Any], *, n_frames: int,
                       frame_shape: Sequence[int] = (20, 15), mean_frame_duration: float = 0.2,
                       sd_frame_duration: float = 0.024, n_extra_frames: int = 11,
                       dt: float = 0.001, seed: int = 0
                       ) -> tuple[dict[str, NDArray[Any]], dict[str, np.ndarray | np.generic]]:
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
        The neuron (a mapping is passed to
        :meth:`~sparsefield.rf.neuron.NeuronModel.from_dict`).
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
        The unit's ground truth (:func:`sparsefield.rf.neuron.unit_truth`): the
        spatial map, the temporal kernel on the fine grid, at frame lags and as an
        STA sees it, the simulation's settings and the model's parameters.
    """
    if not isinstance(model, NeuronModel):
        model = NeuronModel.from_dict(model)
    n_frames = as_int(n_frames, "n_frames", 2)
    n_extra_frames = as_int(n_extra_frames, "n_extra_frames", 0)
    height, width = check_frame_shape(frame_shape)
    check_centre(model, (height, width), "model")
    mean_frame_duration = as_float(mean_frame_duration, "mean_frame_duration", minimum=0.0,
                                   strict=True)
    sd_frame_duration = as_float(sd_frame_duration, "sd_frame_duration", minimum=0.0)
    dt = as_float(dt, "dt", minimum=0.0, strict=True, maximum=mean_frame_duration / 10)

    rng = np.random.default_rng(seed)
    frames, trigger_times, stop = draw_stimulus(rng, "binary", n_frames, n_extra_frames,
                                                height * width, mean_frame_duration,
                                                sd_frame_duration)
    spatial = model.spatial_map((height, width))
    fine_taus, kernel = model.temporal_kernel(dt, mean_frame_duration)
    # Spatially filtered contrast of each shown frame, held on the dt grid.
    projection = contrast_values(frames[:n_frames], "binary") @ spatial
    frame_index, grey = rate_grid(trigger_times, stop, dt)
    spike_times = draw_spikes(projection, frame_index, grey, kernel, dt, model, stop, rng)

    stimulus_hwt = np.ascontiguousarray(
        frames.reshape(frames.shape[0], height, width).transpose(1, 2, 0))
    raw = {
        "spike_times": spike_times,
        "trigger_times": trigger_times,
        "stimulus_hwt": stimulus_hwt,
    }
    truth = unit_truth(model, spatial, fine_taus, kernel, frame_shape=[height, width],
                       mean_frame_duration=mean_frame_duration, dt=dt, seed=seed,
                       n_frames=n_frames, mean_rate=spike_times.size / stop)
    return raw, truth
