"""Tests for sparsefield.sparse.patches: positions, extraction and the three patch sets."""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.sparse.images import ImageSet
from sparsefield.sparse.patches import (
    PatchSets,
    as_generator,
    extract_patches,
    make_patch_sets,
    sample_positions,
)

SHAPES = [(20, 30), (12, 12), (25, 17)]


def _images(shapes=SHAPES, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random(shape) for shape in shapes]


def _image_set(shapes=SHAPES, names=("a", "b", "c")):
    return ImageSet(images=_images(shapes), names=tuple(names))


def _all_positions(shapes, patch_size):
    return {
        (image, row, col)
        for image, (height, width) in enumerate(shapes)
        for row in range(height - patch_size + 1)
        for col in range(width - patch_size + 1)
    }


def _as_set(positions):
    return {tuple(int(v) for v in row) for row in positions}


# --- extraction ------------------------------------------------------------------------


def test_extract_matches_numpy_slicing():
    images = _images()
    positions = np.array([[0, 0, 0], [0, 15, 25], [1, 0, 0], [2, 20, 12], [2, 3, 7], [0, 4, 9]])
    patches = extract_patches(images, positions, 5)
    assert patches.shape == (6, 25) and patches.dtype == np.float64
    for patch, (image, row, col) in zip(patches, positions):
        np.testing.assert_array_equal(patch, images[image][row:row + 5, col:col + 5].ravel())


def test_extract_accepts_an_image_set_and_refuses_patches_outside():
    image_set = _image_set()
    from_set = extract_patches(image_set, [[1, 2, 3]], 4)
    np.testing.assert_array_equal(from_set, extract_patches(image_set.images, [[1, 2, 3]], 4))
    for bad, phrase in [([[0, 16, 0]], "does not fit"), ([[3, 0, 0]], "names image 3"),
                        ([[0, -1, 0]], "does not fit"), ([[0.0, 1.0, 1.0]], "integers")]:
        with pytest.raises(InputError) as caught:
            extract_patches(image_set, bad, 5)
        assert "positions" in str(caught.value) and phrase in str(caught.value)


# --- positions -------------------------------------------------------------------------


def test_positions_are_inside_and_distinct():
    positions = sample_positions(SHAPES, 300, 5, seed=1)
    assert positions.shape == (300, 3) and positions.dtype == np.int64
    assert len(_as_set(positions)) == 300
    assert _as_set(positions) <= _all_positions(SHAPES, 5)


def test_drawing_every_position_gives_each_exactly_once():
    everything = _all_positions(SHAPES, 5)
    positions = sample_positions(SHAPES, len(everything), 5, seed=2)
    assert _as_set(positions) == everything and len(positions) == len(everything)


def test_images_are_drawn_in_proportion_to_their_valid_positions():
    shapes = [(40, 40), (20, 20)]  # 36² = 1296 and 16² = 256 valid 5 × 5 positions
    positions = sample_positions(shapes, 800, 5, seed=3)
    share = np.mean(positions[:, 0] == 0)
    # Without replacement from 1552 positions: hypergeometric, sd ≈ 0.010; allow 5 sd.
    assert abs(share - 1296 / 1552) < 0.05


def test_exclude_draws_only_from_the_rest():
    everything = _all_positions(SHAPES, 5)
    excluded = sample_positions(SHAPES, 400, 5, seed=4)
    duplicated = np.concatenate([excluded, excluded[:10]])
    rest = sample_positions(SHAPES, len(everything) - 400, 5, seed=5, exclude=duplicated)
    assert _as_set(rest) == everything - _as_set(excluded)
    assert len(_as_set(rest)) == len(rest)


def test_more_than_available_reuses_positions_after_using_each_once():
    shapes = [(6, 6)]  # 2 × 2 = 4 positions for a 5 × 5 patch
    positions = sample_positions(shapes, 10, 5, seed=6, exclude=[[0, 0, 0]])
    assert _as_set(positions) == {(0, 0, 1), (0, 1, 0), (0, 1, 1)}
    assert _as_set(positions[:3]) == {(0, 0, 1), (0, 1, 0), (0, 1, 1)}
    with pytest.raises(InputError, match="excludes all 4"):
        sample_positions(shapes, 1, 5, seed=6, exclude=sorted(_all_positions(shapes, 5)))


def test_positions_are_reproducible_from_the_seed():
    first = sample_positions(SHAPES, 50, 5, seed=7)
    np.testing.assert_array_equal(first, sample_positions(SHAPES, 50, 5, seed=7))
    np.testing.assert_array_equal(
        first, sample_positions(SHAPES, 50, 5, seed=np.random.default_rng(7))
    )
    assert not np.array_equal(first, sample_positions(SHAPES, 50, 5, seed=8))
    assert sample_positions(SHAPES, 0, 5, seed=7).shape == (0, 3)


def test_seed_must_be_given():
    for seed in (None, -1, 1.5, True, "1"):
        with pytest.raises(InputError, match="seed"):
            sample_positions(SHAPES, 5, 5, seed=seed)
    assert isinstance(as_generator(3), np.random.Generator)


def test_an_image_smaller_than_the_patch_is_named():
    with pytest.raises(InputError) as caught:
        sample_positions([(64, 64), (64, 8)], 5, 16, seed=0, names=["camera", "grass"])
    assert str(caught.value) == "patch_size: image 'grass' (64×8) is smaller than a 16×16 patch"


# --- patch sets ------------------------------------------------------------------------


def test_patch_sets_come_from_the_right_images_and_do_not_overlap():
    image_set = _image_set()
    sets = make_patch_sets(image_set, ["b"], 5, 200, 40, 150, seed=9)
    assert isinstance(sets, PatchSets)
    assert sets.train.shape == (200, 25) and sets.validation.shape == (40, 25)
    assert sets.correlation.shape == (150, 25)
    assert set(sets.train_positions[:, 0]) <= {0, 2}
    assert set(sets.correlation_positions[:, 0]) <= {0, 2}
    assert set(sets.validation_positions[:, 0]) == {1}
    assert not _as_set(sets.train_positions) & _as_set(sets.correlation_positions)
    assert len(_as_set(sets.train_positions)) == 200
    assert len(_as_set(sets.correlation_positions)) == 150
    for patches, positions in [(sets.train, sets.train_positions),
                               (sets.validation, sets.validation_positions),
                               (sets.correlation, sets.correlation_positions)]:
        np.testing.assert_array_equal(patches, extract_patches(image_set, positions, 5))
    assert sets.image_names == ("a", "b", "c") and sets.patch_size == 5


def test_patch_sets_are_reproducible_and_streams_are_independent():
    image_set = _image_set()
    first = make_patch_sets(image_set, ["b"], 5, 100, 30, 50, seed=10)
    again = make_patch_sets(image_set, ["b"], 5, 100, 30, 50, seed=10)
    more_correlation = make_patch_sets(image_set, ["b"], 5, 100, 30, 80, seed=10)
    more_train = make_patch_sets(image_set, ["b"], 5, 120, 30, 50, seed=10)
    for name in ("train", "validation", "correlation"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    np.testing.assert_array_equal(first.train, more_correlation.train)
    np.testing.assert_array_equal(first.validation, more_correlation.validation)
    np.testing.assert_array_equal(first.validation, more_train.validation)
    other = make_patch_sets(image_set, ["b"], 5, 100, 30, 50, seed=11)
    assert not np.array_equal(first.train, other.train)


def test_patch_sets_npz_round_trip(tmp_path):
    sets = make_patch_sets(_image_set(), ["a", "c"], 4, 20, 10, 5, seed=12)
    np.savez(tmp_path / "sets.npz", **sets.to_npz_dict())
    with np.load(tmp_path / "sets.npz", allow_pickle=False) as archive:
        restored = PatchSets.from_npz(archive)
    assert restored.image_names == ("a", "b", "c") and restored.patch_size == 4
    np.testing.assert_array_equal(restored.correlation_positions, sets.correlation_positions)


def test_patch_set_arguments_are_checked():
    image_set = _image_set()
    cases = [
        (dict(validation_names=["z"]), "'z' is not an image of the set"),
        (dict(validation_names=["a", "a"]), "more than once"),
        (dict(validation_names=["a", "b", "c"]), "none is left for training"),
        (dict(validation_names=[]), "n_validation=10"),
        (dict(validation_names=["a"], n_train=-1), "n_train"),
    ]
    for changes, phrase in cases:
        arguments = dict(image_set=image_set, validation_names=["b"], patch_size=5,
                         n_train=10, n_validation=10, n_correlation=10, seed=0)
        arguments.update(changes)
        with pytest.raises(InputError) as caught:
            make_patch_sets(**arguments)
        assert phrase in str(caught.value), str(caught.value)
    no_validation = make_patch_sets(image_set, [], 5, 10, 0, 10, seed=0)
    assert no_validation.validation.shape == (0, 25)
