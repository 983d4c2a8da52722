"""Sessions simulated from many model neurons recorded at once under one stimulus.

Like a multi-electrode array on a retina: :func:`simulate_session` draws one
white-noise stimulus and one set of trigger times, then each unit's spikes from its own
model (:mod:`sparsefield.rf.neuron`), exactly as
:func:`sparsefield.rf.simulate.simulate_recording` draws one neuron's.
:func:`session_models` builds the default population: ON and OFF centre-surround mosaics
and Gabor units.

The stimulus is projected onto all spatial maps with one matrix product; each unit then
costs one hold, one FFT convolution and one Poisson draw over the ``dt`` grid (about
50 ms per unit for 4000 frames of 0.2 s).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sparsefield._checks import as_float, as_int
from sparsefield.errors import InputError
from sparsefield.rf.neuron import NeuronModel, check_centre, unit_truth
from sparsefield.rf.simulate import (
    CONTRASTS,
    check_frame_shape,
    contrast_values,
    draw_spikes,
    draw_stimulus,
    rate_grid,
)


def _unit_rng(seed: int, unit_id: int) -> np.random.Generator:
    """The generator of one unit's spikes: independent of the stimulus and other units."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, unit_id)))


def _checked_models(models: Mapping[Any, Any]) -> dict[int, tuple[NeuronModel, str]]:
    """Unit id -> (model, source) of a mapping of unit ids to models or their mappings."""
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
    return units


def simulate_session(models: Mapping[int, NeuronModel | Mapping[str, Any]], *, n_frames: int,
                     frame_shape: Sequence[int], mean_frame_duration: float,
                     sd_frame_duration: float = 0.0, n_extra_frames: int = 0,
                     contrast: str = "binary", dt: float | None = None, seed: int = 0
                     ) -> tuple[dict[str, Any], dict[int, dict[str, np.ndarray | np.generic]]]:
    """Simulate many units recorded at once under one white-noise stimulus.

    One stimulus and one set of trigger times are drawn (frames as in
    :func:`~sparsefield.rf.simulate.simulate_recording`, of the given contrast kind;
    :mod:`sparsefield.rf.neuron` says the drive each kind gives); each unit's spikes
    are then drawn independently from its own LNP model, exactly as
    :func:`~sparsefield.rf.simulate.simulate_recording` draws one neuron's.

    Parameters
    ----------
    models : Mapping of int to NeuronModel or Mapping
        Unit id (an int >= 0) to its model (a mapping is passed to
        :meth:`~sparsefield.rf.neuron.NeuronModel.from_dict`).  At least one unit.
    n_frames : int
        Number of frames shown (= number of triggers), >= 2.
    frame_shape : tuple of int
        ``(height, width)``: ``(1, 1)`` full field, ``(1, width)`` bars,
        ``(height, width)`` a checkerboard.
    mean_frame_duration, sd_frame_duration : float
        Frame durations (s), as in
        :func:`~sparsefield.rf.simulate.simulate_recording` (default: no jitter).
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
        Unit id (int) to that unit's truth (:func:`sparsefield.rf.neuron.unit_truth`,
        as :func:`~sparsefield.rf.simulate.simulate_recording` returns it; ``seed`` is
        the session's), plus ``unit_id`` and ``contrast``.  ``temporal_lags`` and
        ``sta_temporal`` are in units of the zero-mean contrast.
    """
    units = _checked_models(models)
    n_frames = as_int(n_frames, "n_frames", 2)
    n_extra_frames = as_int(n_extra_frames, "n_extra_frames", 0)
    height, width = check_frame_shape(frame_shape)
    for model, source in units.values():
        check_centre(model, (height, width), source)
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
    frames, trigger_times, stop = draw_stimulus(rng, contrast, n_frames, n_extra_frames,
                                                height * width, mean_frame_duration,
                                                sd_frame_duration)
    unit_ids = np.array(sorted(units), dtype=np.int64)
    unit_models = [units[unit_id][0] for unit_id in unit_ids.tolist()]
    spatials = np.stack([model.spatial_map((height, width)) for model in unit_models], axis=1)
    projections = contrast_values(frames[:n_frames], contrast) @ spatials  # (n_frames, n_units)
    frame_index, grey = rate_grid(trigger_times, stop, dt)

    spike_trains: list[NDArray[np.float64]] = []
    truth: dict[int, dict[str, np.ndarray | np.generic]] = {}
    for column, (unit_id, model) in enumerate(zip(unit_ids.tolist(), unit_models, strict=True)):
        fine_taus, kernel = model.temporal_kernel(dt, mean_frame_duration)
        spike_times = draw_spikes(np.ascontiguousarray(projections[:, column]), frame_index,
                                  grey, kernel, dt, model, stop, _unit_rng(seed, unit_id))
        spike_trains.append(spike_times)
        truth[unit_id] = {
            **unit_truth(model, spatials[:, column], fine_taus, kernel,
                         frame_shape=[height, width], mean_frame_duration=mean_frame_duration,
                         dt=dt, seed=seed, n_frames=n_frames,
                         mean_rate=spike_times.size / stop),
            "unit_id": np.int64(unit_id), "contrast": np.str_(contrast)}
    raw = {
        "unit_ids": unit_ids,
        "spike_times": spike_trains,
        "trigger_times": trigger_times,
        "stimulus": frames.reshape(frames.shape[0], height, width),
    }
    return raw, truth


def _mosaic(n_units: int, bounds: tuple[tuple[float, float], tuple[float, float]], parity: int,
            rng: np.random.Generator) -> tuple[NDArray[np.float64], float]:
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
        points: list[tuple[float, float]] = []
        for index in range(n_rows):
            offset = 0.5 * spacing * ((index + parity) % 2)
            n_cols = int(np.floor((right - left - offset) / spacing)) + 1
            first_col = left + offset + 0.5 * (right - left - offset - (n_cols - 1) * spacing)
            points.extend((first_row + index * row_step, first_col + col * spacing)
                          for col in range(n_cols))
        if len(points) >= n_units:
            break
        spacing *= 0.97
    lattice = np.array(points)
    centres = lattice[np.sort(rng.choice(len(lattice), size=n_units, replace=False))]
    centres = centres + rng.normal(0.0, 0.12 * spacing, size=centres.shape)
    centres[:, 0] = np.clip(centres[:, 0], top, bottom)
    centres[:, 1] = np.clip(centres[:, 1], left, right)
    return centres, spacing


def session_models(frame_shape: Sequence[int] = (20, 15), *, n_units: int = 36,
                   n_sparse: int = 3, n_frames: int = 4000, mean_frame_duration: float = 0.2,
                   seed: int = 0) -> dict[int, NeuronModel]:
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
    height, width = check_frame_shape(frame_shape)
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
    for unit_id, index in zip(unit_ids.tolist(), order.tolist(), strict=True):
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
