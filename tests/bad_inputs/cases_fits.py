"""Corpus cases: settings that the fits of a recording, or the sparse-coding branch, cannot
use with the data given (lags, folds and delays against the recording's length; patch
counts and sizes against the images; a sparsity penalty that leaves every code zero).

The receptive-field cases stop where the session is read (the settings are checked
against the recording before any file is written: sparsefield.rf.lags.check_fit_settings),
each message naming the config key; the sparse cases stop in the job that cuts the
patches (target results/sparse/patches.npz) or learns the dictionary."""

import copy
from pathlib import Path

import numpy as np
import yaml

from _corpus import BASE, Case, sparse_config, write_sheet
from sparsefield.io import save_raw_mat

FILE = "recording.mat"
SHEET = "fits.tsv"
PATCHES = "results/sparse/patches.npz"


def _recording(rng, n_frames=300, frame=0.2, n_spikes=400):
    """Jittered frames of ``frame`` s, spikes within them and a 6x5 binary stimulus."""
    triggers = np.cumsum(rng.normal(frame, 0.1 * frame, n_frames))
    spikes = np.sort(rng.uniform(triggers[0], triggers[-1], n_spikes))
    stimulus = rng.integers(0, 2, (6, 5, n_frames)).astype(np.uint8)
    return spikes, triggers, stimulus


def _row_case(**recording):
    """make() of a row case: one recording with the base settings."""
    def make(folder, rng):
        save_raw_mat(folder / FILE, *_recording(rng, **recording))
        return {"spikes_file": FILE, "frame_height": 6, "frame_width": 5}
    return make


def _merged(base, changes):
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _fit_settings(settings):
    """make() of a run case: one good 300-frame recording in a sheet of its own, run with
    ``settings`` merged over the base config (a second --configfile replaces the first,
    so the base settings are written into it)."""
    def make(workdir, rng):
        workdir = Path(workdir)
        save_raw_mat(workdir / FILE, *_recording(rng))
        write_sheet(workdir / SHEET, [{"recording_id": "fits", "spikes_file": FILE,
                                       "frame_height": 6, "frame_width": 5}])
        (workdir / "fits.yaml").write_text(yaml.safe_dump(_merged(BASE, settings)))
        return ["--configfile", "fits.yaml", "--config", f"recordings={SHEET}"]
    return make


def _images(folder, sizes, rng, constant=False):
    """Greyscale PNGs ``name -> (height, width)`` in ``folder``."""
    from PIL import Image

    folder.mkdir(exist_ok=True)
    for name, shape in sizes.items():
        pixels = np.full(shape, 128, dtype=np.uint8) if constant \
            else rng.integers(0, 256, shape, dtype=np.uint8)
        Image.fromarray(pixels).save(folder / name)


def _sparse_images(sizes, validation, target=PATCHES, constant=False, **changes):
    """make() of a sparse run case: a folder of images, the small sparse settings with
    ``changes`` (section -> values), and the target (after ``--``: ``--configfile`` takes
    every word up to the next option)."""
    def make(workdir, rng):
        _images(Path(workdir) / "images", sizes, rng, constant=constant)
        images = {"source": "images", "validation": list(validation)}
        return sparse_config(workdir, images=images, **changes) + ["--", target]
    return make


def _sparse_skimage(target, **changes):
    def make(workdir, rng):
        return sparse_config(workdir, **changes) + ["--", target]
    return make


CASES = [
    # --- the receptive-field fits against the recording ---------------------------------
    Case("recording_shorter_than_the_lags", "row",
         "a recording of 11 frames, shorter than the lags 0-2 leave room for",
         _row_case(n_frames=11, n_spikes=60),
         ("lag 2 leaves 9 of the session's 11 frames to fit",), "rf.lags"),
    Case("recording_too_short_for_the_shift_null", "row",
         "300 frames of 5 ms (1.5 s): too short for the STA's circular-shift null",
         _row_case(frame=0.005),
         ("the recording must last over 2 s", "use the analytic null"), "sta.null_model"),
    Case("rf_lags_beyond_the_recording", "run",
         "rf.lags up to 295 for a 300-frame recording",
         _fit_settings({"rf": {"lags": [0, 295]}}),
         ("lag 295 leaves 5 of the session's 300 frames",), "rf.lags"),
    Case("lasso_window_beyond_the_recording", "run",
         "lasso.window [0, 100] s (lags up to 500) for a 60-s recording",
         _fit_settings({"lasso": {"lags": None, "window": [0.0, 100.0]}}),
         ("is beyond the session's 300 frames",), "lasso.window"),
    Case("lasso_more_folds_than_frames", "run",
         "lasso.n_folds 200 for a 300-frame recording",
         _fit_settings({"lasso": {"n_folds": 200}}),
         ("200 cross-validation blocks need at least 400 frames",), "lasso.n_folds"),
    Case("sta_tau_max_longer_than_the_recording", "run",
         "sta.tau_max 10000 s for a 60-s recording",
         _fit_settings({"sta": {"tau_max": 10000.0}}),
         ("is not shorter than the recording",), "sta.tau_max"),
    Case("sta_tau_max_too_long_for_the_shift_null", "run",
         "sta.tau_max 20 s: circular shifts of more than 40 s in a 60-s recording",
         _fit_settings({"sta": {"tau_max": 20.0, "tau_step": 1.0}}),
         ("too long for the shift null", "or the analytic null"), "sta.tau_max"),
    # --- the sparse-coding branch -----------------------------------------------------------
    Case("sparse_tau_leaves_every_code_zero", "run",
         "sparse.learning.tau 1000 with the uncompressed scheme: no code can be non-zero",
         _sparse_skimage("results/sparse/summary.tsv", learning={"tau": 1000.0}),
         ("1000",), "sparse.learning.tau"),
    Case("sparse_images_too_small_for_n_train", "run",
         "a folder of two 10x10 images: 9 positions of an 8x8 patch each, 200 asked for",
         _sparse_images({"a.png": (10, 10), "b.png": (10, 10)}, ["b.png"]),
         ("200 training patches asked for", "hold only 9 distinct positions"),
         "sparse.patches.n_train"),
    Case("sparse_patch_larger_than_every_image", "run",
         "sparse.patches.size 16 for a folder of 12x12 images",
         _sparse_images({"a.png": (12, 12), "b.png": (12, 12)}, ["b.png"],
                        patches={"size": 16}),
         ("(12×12) is smaller than a 16×16 patch",), "sparse.patches.size"),
    Case("sparse_no_positions_left_for_correlation", "run",
         "training images with 289 patch positions: 200 training and 100 correlation patches",
         _sparse_images({"a.png": (24, 24), "b.png": (40, 40)}, ["b.png"],
                        patches={"n_correlation": 100}),
         ("100 correlation patches", "leave 89"), "sparse.patches.n_correlation"),
    Case("sparse_validation_image_too_small", "run",
         "a 10x10 validation image (9 positions of an 8x8 patch) for 50 validation patches",
         _sparse_images({"a.png": (40, 40), "b.png": (10, 10)}, ["b.png"]),
         ("50 validation patches asked for", "hold only 9 distinct positions"),
         "sparse.patches.n_validation"),
    Case("sparse_every_image_held_out", "run",
         "a folder of one image, named as the validation image",
         _sparse_images({"a.png": (40, 40)}, ["a.png"]),
         ("none is left for training",), "sparse.images.validation"),
    Case("sparse_blank_images", "run",
         "a folder of images of one grey value (ZCA would whiten rounding noise)",
         _sparse_images({"a.png": (40, 40), "b.png": (40, 40)}, ["b.png"], constant=True),
         ("every pixel is", "a blank image"), "a.png"),
]
