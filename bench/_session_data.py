"""Synthetic sessions for bench/session.py: one white-noise stimulus, many LNP units.

Two generators give the same raw layout as
:func:`sparsefield.rf.simulate_session.simulate_session` (``unit_ids``, ``spike_times``
(list of sorted arrays), ``trigger_times``, ``stimulus`` (n_frames, height, width)
uint8 0/1):

``library``
    :func:`~sparsefield.rf.simulate_session.simulate_session` itself: every unit's rate on a
    1 ms grid, convolved with its continuous-time kernel (about 0.25 s per unit for
    an hour at 60 Hz: minutes for 1000 units).
``fast`` (the default of the bench)
    The same models (:func:`~sparsefield.rf.simulate_session.session_models`), the same
    stimulus kind and frame timing, but an LNP at **frame resolution**: the drive
    of frame ``f`` is ``sum_k w_k (c_{f-k} . spatial)``, with ``w_k`` the
    continuous-time kernel averaged over where in a frame one looks
    (``w_k = integral k(tau) tri((tau - k D) / D) dtau``); the count of frame
    ``f`` is Poisson with mean ``D_f r_0 exp(g drive_f)``, and its spikes are
    placed uniformly inside the frame.  It is an approximation (no sub-frame
    rate changes: the exponential of the frame-average drive), good enough to
    give the fits and STAs realistic rates, sparsity and receptive fields; it is
    not the library's simulator and is not meant for recovery tests.  Units are
    drawn in blocks, so memory stays near the size of the spike trains.
"""

import numpy as np

from sparsefield.rf.binning import frame_edges
from sparsefield.rf.simulate import frame_durations
from sparsefield.rf.simulate_session import session_models, simulate_session

GENERATORS = ("fast", "library")


def frame_kernel(model, frame_duration):
    """Per-frame-lag weights ``w_k`` of a model's temporal kernel (module docstring).

    Returns
    -------
    weights : ndarray of shape (n_lags,)
        ``weights[k]`` multiplies the spatially filtered contrast of frame ``f - k``.
    """
    dt = frame_duration / 20.0
    taus, kernel = model.temporal_kernel(dt, frame_duration)
    n_lags = int(np.ceil(taus[-1] / frame_duration)) + 2
    lags = np.arange(n_lags)[:, None]
    triangle = np.maximum(0.0, 1.0 - np.abs(taus[None, :] / frame_duration - lags))
    return (triangle * kernel[None, :]).sum(axis=1) * dt


def fast_session(models, *, n_frames, frame_shape, mean_frame_duration, seed=0,
                 block_units=64):
    """Raw session from the frame-resolution LNP (module docstring).

    Parameters
    ----------
    models : dict of int to NeuronModel
    n_frames : int
    frame_shape : (int, int)
    mean_frame_duration : float
        Seconds; frames have no jitter (as ``simulate_session``'s default).
    seed : int
    block_units : int
        Units drawn together (memory: about ``n_frames * block_units * 12`` bytes).

    Returns
    -------
    raw : dict
        As :func:`~sparsefield.rf.simulate_session.simulate_session`'s first result.
    """
    height, width = frame_shape
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    frames = rng.integers(0, 2, size=(n_frames, height * width), dtype=np.uint8)
    durations = frame_durations(n_frames, mean_frame_duration, 0.0, rng)
    trigger_times = np.concatenate(([0.0], np.cumsum(durations[:-1])))
    contrast = 2.0 * frames.astype(np.float32) - 1.0

    unit_ids = np.array(sorted(models), dtype=np.int64)
    spike_trains = []
    for first in range(0, unit_ids.size, block_units):
        block = [models[unit_id] for unit_id in unit_ids[first:first + block_units].tolist()]
        spatials = np.stack([model.spatial_map((height, width)) for model in block],
                            axis=1).astype(np.float32)
        projections = contrast @ spatials  # (n_frames, n_block)
        drive = np.zeros_like(projections)
        kernels = [frame_kernel(model, mean_frame_duration) for model in block]
        for lag in range(max(kernel.size for kernel in kernels)):
            weights = np.array([kernel[lag] if lag < kernel.size else 0.0
                                for kernel in kernels], dtype=np.float32)
            if lag == 0:
                drive += projections * weights
            else:
                drive[lag:] += projections[:-lag] * weights
        gains = np.array([model.gain for model in block], dtype=np.float32)
        baselines = np.array([model.baseline_rate for model in block])
        means = durations[:, None] * baselines * np.exp(gains * drive, dtype=np.float64)
        unit_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, first)))
        counts = unit_rng.poisson(means)
        for column in range(len(block)):
            frame_counts = counts[:, column]
            starts = np.repeat(trigger_times, frame_counts)
            lengths = np.repeat(durations, frame_counts)
            spike_trains.append(np.sort(starts + unit_rng.random(starts.size) * lengths))
    return {
        "unit_ids": unit_ids,
        "spike_times": spike_trains,
        "trigger_times": trigger_times,
        "stimulus": frames.reshape(n_frames, height, width),
    }


def make_session(generator, *, n_units, n_frames, frame_shape, frame_rate, seed=0):
    """One raw session of ``n_units`` units from :func:`session_models`.

    The models' sparse units (3, ``session_models``' default) get 10-30 expected
    spikes over ``n_frames`` frames, so a workflow's ``min_spikes`` leaves them out.
    """
    mean_frame_duration = 1.0 / frame_rate
    models = session_models(tuple(frame_shape), n_units=n_units, n_frames=n_frames,
                            mean_frame_duration=mean_frame_duration, seed=seed)
    if generator == "library":
        raw, _ = simulate_session(models, n_frames=n_frames, frame_shape=tuple(frame_shape),
                                  mean_frame_duration=mean_frame_duration, seed=seed)
        return raw
    return fast_session(models, n_frames=n_frames, frame_shape=tuple(frame_shape),
                        mean_frame_duration=mean_frame_duration, seed=seed)


def first_frames(raw, n_frames):
    """The session cut to its first ``n_frames`` frames (spikes after them dropped)."""
    trigger_times = raw["trigger_times"][:n_frames]
    stop = frame_edges(trigger_times)[-1]
    return {
        "unit_ids": raw["unit_ids"],
        "spike_times": [train[:np.searchsorted(train, stop, side="left")]
                        for train in raw["spike_times"]],
        "trigger_times": trigger_times,
        "stimulus": raw["stimulus"][:n_frames],
    }


def select_units(raw, positions):
    """The session restricted to the units at ``positions`` (0-based)."""
    return {
        "unit_ids": raw["unit_ids"][positions],
        "spike_times": [raw["spike_times"][position] for position in positions],
        "trigger_times": raw["trigger_times"],
        "stimulus": raw["stimulus"],
    }


def concatenated(raw):
    """``(spike_times, spike_offsets)``: the units' trains concatenated (session layout)."""
    trains = raw["spike_times"]
    offsets = np.concatenate(([0], np.cumsum([train.size for train in trains]))).astype(np.int64)
    spike_times = np.concatenate(trains) if trains else np.zeros(0)
    return spike_times, offsets


def stimulus_matrix(raw):
    """The stored frames as the float64 (n_frames, n_pixels) matrix a loaded session holds."""
    frames = raw["stimulus"]
    return frames.reshape(frames.shape[0], -1).astype(np.float64)
