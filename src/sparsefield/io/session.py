"""One session: one stimulus and its timing, and the units recorded with it.

A session is described by one row of the recordings sheet
(``config/recordings.tsv``).  Today's one-unit rows (a spike-time vector, a
trigger vector and a stimulus, in MATLAB, npz or text files) are sessions of one
unit; a row may instead point at a source of many units:

- an NWB file (``format: nwb``): the Units table, the stimulus series and its
  timestamps (the triggers) read through :mod:`sparsefield.io.nwb`;
- a Kilosort/Phy folder (``format: kilosort``): clusters as units, sorter labels
  from ``cluster_group.tsv`` / ``cluster_KSLabel.tsv``
  (:mod:`sparsefield.io.kilosort`); frame times from ``triggers_file``;
- a MATLAB cell array of spike-time vectors (1 x N, N x 1; units x trials for
  per-trial spike times), or an ``.npz`` of concatenated spike times with one
  unit index per spike (``units_key``) (:mod:`sparsefield.io.cells`).

Timing: trigger (frame-onset) times from a vector, a cell array of per-trial
vectors, an NWB stimulus's timestamps, or ``frame_rate`` (+ ``first_frame_time``)
when there is no trigger vector.  Trials are put on one time line with the gaps
between them removed (trial ``k + 1`` starts where trial ``k``'s last frame ends),
so no gap is ever counted as a frame; spikes in the gaps, before the first or after
the last frame are left out and counted per unit.

Everything a user can get wrong is checked once, while the session is loaded
(:func:`load_session`), and raised as :class:`sparsefield.errors.InputError` naming
the file or the sheet row, the unit and the problem; code downstream trusts a
:class:`Session`.  The pieces: the sheet row (:mod:`sparsefield.io.session_row`), the
spike trains and the units kept (:mod:`sparsefield.io.session_units`), the frame
times, stimulus and trials (:mod:`sparsefield.io.session_frames`).
"""

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._typing import StrPath
from sparsefield.errors import InputError
from sparsefield.io import plausibility
from sparsefield.io.cells import SpikeTrains
from sparsefield.io.recording import Recording, SourcesNpzMixin, check_stimulus, resolve
from sparsefield.io.session_frames import (
    SessionPaths,
    check_timing,
    n_stored_frames,
    read_stimulus,
    read_triggers,
    trial_frames,
)
from sparsefield.io.session_row import read_session_row
from sparsefield.io.session_units import format_of, id_list, read_spikes, select_units, unit_hint

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Session(SourcesNpzMixin):
    """Checked stimulus, frame times and spike times of the units of one session.

    Attributes
    ----------
    session_id : str
        The sheet's ``recording_id``.
    unit_ids : ndarray of shape (n_units,), int64
        Ids from the source (NWB unit ids, Kilosort cluster ids, 1-based MATLAB
        cell indices; a single spike-time vector is unit 1), in increasing order.
    unit_labels : ndarray of shape (n_units,), str
        Sorter labels (``good``, ``mua``...); ``""`` where the source has none.
    spike_times : ndarray of shape (n_spikes,), float64
        Spike times in seconds on the session's time line, all units
        concatenated; each unit's block is sorted.  Only spikes inside a
        trial's frames are kept.
    spike_offsets : ndarray of shape (n_units + 1,), int64
        Unit ``u``'s spikes are ``spike_times[spike_offsets[u]:spike_offsets[u + 1]]``.
    n_spikes_left_out : ndarray of shape (n_units,), int64
        Spikes of each unit outside every trial's frames (before the first
        frame, in the gaps between trials, after the last frame).
    trigger_times : ndarray of shape (n_frames,), float64
        Frame onsets in seconds on the session's time line, strictly increasing.
    stimulus : ndarray of shape (n_frames, n_pixels), float64
        The frame shown at each trigger; pixel ``row * width + col``.
    frame_shape : tuple of int
        ``(height, width)``: ``(1, 1)`` for full-field flicker, ``(1, width)``
        for bars.
    trial_starts : ndarray of shape (n_trials,), int64
        Index of each trial's first frame (``[0]`` for one trial).  A pause in the
        frame times longer than ``max_frame_gap`` median frame steps starts a new
        trial (the pause is left out like the gap between trials).
    n_frames_left_out : int
        Stimulus frames never shown with a trigger (beyond the last one used).
    min_spikes : int
        Units with fewer spikes inside the frames are not fitted (flagged).
    sources : dict of str to str
        What each role was read from: keys ``spikes``, ``triggers``, ``stimulus``.
    n_constant_pixels : int
        Pixels that never change over the frames used, kept because
        ``sessions.constant_pixels`` is ``warn`` (otherwise they are an error).
    """

    session_id: str
    unit_ids: np.ndarray
    unit_labels: np.ndarray
    spike_times: np.ndarray
    spike_offsets: np.ndarray
    n_spikes_left_out: np.ndarray
    trigger_times: np.ndarray
    stimulus: np.ndarray
    frame_shape: tuple
    trial_starts: np.ndarray
    n_frames_left_out: int
    min_spikes: int
    sources: dict = field(default_factory=dict)
    n_constant_pixels: int = 0

    @classmethod
    def _unpack_field(cls, name: str, kind: Any, npz: Mapping[str, ArrayLike]) -> Any:
        if name == "n_constant_pixels" and name not in npz:
            return 0  # a session.npz written before the field existed
        return super()._unpack_field(name, kind, npz)

    @property
    def n_units(self) -> int:
        """Number of units."""
        return int(self.unit_ids.shape[0])

    @property
    def n_frames(self) -> int:
        """Number of frames (equal to the number of triggers)."""
        return int(self.stimulus.shape[0])

    def unit_spike_times(self, unit: int) -> NDArray[np.float64]:
        """Spike times of the unit at position ``unit`` (0-based, not its id).

        Returns
        -------
        spike_times : ndarray of shape (n_unit_spikes,)
            A view of :attr:`spike_times`.
        """
        return self.spike_times[self.spike_offsets[unit]:self.spike_offsets[unit + 1]]

    def spikes_of_units(self, units: slice) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Spike times and offsets of a consecutive range of units.

        Parameters
        ----------
        units : slice
            Unit positions ``units.start .. units.stop - 1`` (step 1).

        Returns
        -------
        spike_times : ndarray of shape (n_chunk_spikes,)
        spike_offsets : ndarray of shape (n_chunk_units + 1,), int64
            Starting at 0, as :attr:`spike_offsets` does for the whole session.
        """
        first, last = self.spike_offsets[units.start], self.spike_offsets[units.stop]
        return (self.spike_times[first:last],
                self.spike_offsets[units.start:units.stop + 1] - first)

    def unit_index(self, unit_id: int) -> int:
        """Position of the unit with id ``unit_id``.

        Raises
        ------
        InputError
            When the session has no such unit.
        """
        matches = np.flatnonzero(self.unit_ids == int(unit_id))
        if matches.size == 0:
            raise InputError(f"session {self.session_id}",
                             f"has no unit {unit_id} (units: {id_list(self.unit_ids)})")
        return int(matches[0])

    def unit_recording(self, unit: int) -> Recording:
        """The unit at position ``unit`` as a one-unit :class:`Recording` (views, no copies).

        ``recording_id`` is ``"<session_id> unit <id>"``; ``n_frames_dropped`` is
        :attr:`n_frames_left_out`.
        """
        return Recording(
            recording_id=f"{self.session_id} unit {int(self.unit_ids[unit])}",
            spike_times=self.unit_spike_times(unit),
            trigger_times=self.trigger_times,
            stimulus=self.stimulus,
            frame_shape=self.frame_shape,
            n_frames_dropped=self.n_frames_left_out,
            sources=dict(self.sources),
        )

    def stimulus_frames(self) -> NDArray[np.float64]:
        """The stimulus as images, shape (n_frames, height, width) (a view)."""
        return self.stimulus.reshape(self.stimulus.shape[0], *self.frame_shape)



def load_session(row: Mapping[str, Any], base_dir: StrPath = ".",
                 defaults: Mapping[str, Any] | None = None) -> Session:
    """Read and check one session described by a row of the recordings sheet.

    Parameters
    ----------
    row : mapping of str to object
        One sheet row; see :data:`sparsefield.io.session_row.SESSION_COLUMNS` and
        ``config/README.md``.
    base_dir : str or os.PathLike, default "."
        Folder that relative paths in the row are relative to.
    defaults : mapping, optional
        Overrides of :data:`sparsefield.io.session_row.SESSION_DEFAULTS` (``min_spikes``,
        ``max_frames_left_out``, the plausibility settings).

    Returns
    -------
    Session

    Raises
    ------
    InputError
        Naming the file (or the sheet row), the unit or the column, and the problem.

    Notes
    -----
    Besides reading, every session passes the checks of
    :mod:`sparsefield.io.plausibility` before it is returned: spike and trigger times
    that are not the same numbers, frame intervals within ``frame_interval``, times
    stored precisely enough for the frames (``max_time_error``), spike trains that do
    not restart, mean rates of the units to be fitted within ``rate``, and a stimulus
    whose pixels all change (``constant_pixels``).  A text spikes file holds one
    vector, so a blank ``triggers_file`` (without ``frame_rate``) is an error for it
    rather than reading the spike times again as frame times.
    """
    settings = read_session_row(row, defaults)
    source = f"recordings.tsv: {settings['recording_id']}"
    spikes_path = resolve(settings["spikes_file"], base_dir)
    spikes_format = format_of(spikes_path, settings["format"])
    if spikes_format == "text":
        for role, what in (("triggers", "the frame times"), ("stimulus", "the stimulus")):
            if settings[f"{role}_file"] is None and (role == "stimulus"
                                                     or settings["frame_rate"] is None):
                other = " (or frame_rate)" if role == "triggers" else ""
                raise InputError(source, f"{role}_file is blank, but spikes_file "
                                 f"{settings['spikes_file']} is a text file, which holds one "
                                 f"vector (the spike times); give {role}_file{other} for "
                                 f"{what}")
    paths: SessionPaths = {
        "spikes": spikes_path,
        "triggers": None if settings["frame_rate"] is not None else resolve(
            settings["triggers_file"] or settings["spikes_file"], base_dir),
        "stimulus": resolve(settings["stimulus_file"] or settings["spikes_file"], base_dir),
    }
    if spikes_format == "kilosort" and paths["stimulus"] == spikes_path:
        raise InputError(source, "a Kilosort/Phy folder holds no stimulus; give stimulus_file")

    trains = read_spikes(spikes_path, spikes_format, settings)
    trains = select_units(spikes_path, trains, settings)
    triggers, trigger_precision = read_triggers(paths, settings, source)
    check_timing(settings, paths, source, spikes_format, trains, triggers,
                  trigger_precision)
    stimulus_raw, stimulus_settings = read_stimulus(paths["stimulus"], settings)
    trials = trial_frames(paths, triggers, trains, stimulus_raw, stimulus_settings, settings)
    session = _assemble(settings, paths, trains, trials, stimulus_raw, stimulus_settings)
    plausibility.check_rates(session, settings["rate"], spikes_path)
    n_constant = plausibility.check_stimulus(session.stimulus, session.frame_shape,
                                             settings["constant_pixels"], paths["stimulus"])
    if n_constant:
        session = dataclasses.replace(session, n_constant_pixels=n_constant)
    return session


def _assemble(settings: Mapping[str, Any], paths: SessionPaths, trains: SpikeTrains,
              trial_pieces: tuple[list[tuple[NDArray[np.float64], NDArray[np.integer[Any]], int]],
                                  int],
              data: ArrayLike, stimulus_settings: Mapping[str, Any]) -> Session:
    """Trials on one time line; spikes inside the frames; the stimulus per frame."""
    (trials, n_frames_left_out) = trial_pieces
    n_stored = n_stored_frames(data, stimulus_settings)
    stimulus_all, frame_shape, _ = check_stimulus(paths["stimulus"], data, stimulus_settings,
                                                   n_stored)
    all_intervals = np.concatenate([np.diff(times) for times, _, _ in trials if times.size > 1]
                                   or [np.zeros(0)])
    if all_intervals.size == 0:
        raise InputError(paths["triggers"] or paths["stimulus"], "needs at least one trial "
                         "with 2 or more frames to know the frame duration")
    global_median = float(np.median(all_intervals))
    windows = []  # (start, stop, shift) on the source clock of each trial
    cursor = float(trials[0][0][0])
    for times, _, _ in trials:
        median = float(np.median(np.diff(times))) if times.size > 1 else global_median
        start, stop = float(times[0]), float(times[-1]) + median
        windows.append((start, stop, cursor - start))
        cursor += stop - start
    if not trains.per_trial:
        for (_, stop, _), (start, _, _) in zip(windows[:-1], windows[1:], strict=True):
            if start < stop - 1e-9:
                raise InputError(paths["triggers"] or "frame_rate", "trials overlap on the "
                                 f"recording's clock (a trial starts at {start:.6g} s, before "
                                 f"the previous one ends at {stop:.6g} s)")
    trigger_times = np.concatenate([times + shift for (times, _, _), (_, _, shift)
                                    in zip(trials, windows, strict=True)])
    stimulus = stimulus_all[np.concatenate([indices for _, indices, _ in trials])]
    trial_starts = np.cumsum([0] + [times.size for times, _, _ in trials[:-1]]).astype(np.int64)

    kept, left_out = [], []
    for train in trains.times:
        pieces, total = [], 0
        for (start, stop, shift), (_, _, trial) in zip(windows, trials, strict=True):
            times = train[trial] if trains.per_trial else train
            inside = times[(times >= start) & (times < stop)]
            pieces.append(inside + shift)
            total += inside.size
        n_given = sum(part.size for part in train) if trains.per_trial else train.size
        kept.append(np.concatenate(pieces) if pieces else np.zeros(0))
        left_out.append(n_given - total)
    spike_offsets = np.concatenate(([0], np.cumsum([times.size for times in kept])))
    frames_end = max(stop for _, stop, _ in windows)
    for unit_id, n_left, unit_spikes, train in zip(trains.unit_ids.tolist(), left_out, kept,
                                                   trains.times, strict=True):
        if not n_left:
            continue
        fraction = n_left / (n_left + unit_spikes.size)
        message = (f"unit {unit_id}: {n_left} of {n_left + unit_spikes.size} spikes "
                   f"({100 * fraction:.1f} %) fall outside the frames and are left out"
                   f"{unit_hint(train, trains.per_trial, frames_end)}")
        if fraction > settings["max_spikes_left_out"]:
            raise InputError(paths["spikes"], f"{message}, more than max_spikes_left_out "
                             f"({settings['max_spikes_left_out']:g}); check that the frame "
                             "times and spike times share a clock and a unit, or raise "
                             "sessions.max_spikes_left_out (or the sheet's "
                             "max_spikes_left_out column)")
        # Spikes outside the stimulus are common (a recording longer than the stimulus);
        # most of a unit's spikes outside it is worth a look.
        (LOG.warning if fraction > 0.5 else LOG.info)("%s: %s", paths["spikes"], message)
    return Session(
        session_id=settings["recording_id"],
        unit_ids=np.asarray(trains.unit_ids, dtype=np.int64),
        # select_units gives every unit a label ("" where the source has none)
        unit_labels=np.array(trains.labels, dtype=str)
        if len(cast(tuple[str, ...], trains.labels))
        else np.zeros(0, dtype=str),
        spike_times=np.concatenate(kept).astype(np.float64) if kept else np.zeros(0),
        spike_offsets=spike_offsets.astype(np.int64),
        n_spikes_left_out=np.asarray(left_out, dtype=np.int64),
        trigger_times=trigger_times,
        stimulus=stimulus,
        frame_shape=tuple(int(size) for size in frame_shape),
        trial_starts=trial_starts,
        n_frames_left_out=int(n_frames_left_out),
        min_spikes=int(settings["min_spikes"]),
        n_constant_pixels=0,
        sources={role: (path if path is not None else f"frame_rate {settings['frame_rate']:g} Hz")
                 for role, path in paths.items()},
    )
