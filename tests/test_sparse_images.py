"""Tests for sparsefield.sparse.images: scikit-image's photographs, folders and array files."""

import pickle
import socket

import h5py
import numpy as np
import pytest
import scipy.io
import skimage.data
import skimage.io
from skimage.color import rgb2gray

from sparsefield.errors import InputError
from sparsefield.sparse.images import SKIMAGE_IMAGES, ImageSet, load_images
from sparsefield.sparse.patches import make_patch_sets


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _raises(source, *phrases, **kwargs):
    with pytest.raises(InputError) as caught:
        load_images(source, **kwargs)
    message = str(caught.value)
    for phrase in phrases:
        assert phrase in message, message
    return message


def _save_mat73(path, variables):
    """Write a file the way MATLAB's ``save -v7.3`` does (axes reversed, MATLAB_class)."""
    with h5py.File(path, "w", userblock_size=512) as handle:
        for key, array in variables.items():
            dataset = handle.create_dataset(key, data=np.ascontiguousarray(array.T))
            dataset.attrs["MATLAB_class"] = np.bytes_("double")
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64 HDF5 schema 1.00 ."
    with open(path, "r+b") as handle:
        handle.write((header.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM").ljust(512, b"\x00"))


# --- scikit-image ----------------------------------------------------------------------


def test_every_default_image_loads_offline(no_network):
    image_set = load_images(list(SKIMAGE_IMAGES))
    assert image_set.names == SKIMAGE_IMAGES
    assert len(image_set) == len(SKIMAGE_IMAGES) >= 8
    for image, name in zip(image_set.images, image_set.names):
        assert image.ndim == 2 and image.dtype == np.float64, name
        assert image.flags.c_contiguous
        assert min(image.shape) >= 256, name
        assert 0.0 <= image.min() < image.max() <= 1.0, name


def test_skimage_images_match_scikit_image_after_conversion(no_network):
    image_set = load_images(["camera", "astronaut"])
    np.testing.assert_allclose(image_set.images[0], skimage.data.camera() / 255.0)
    np.testing.assert_allclose(image_set.images[1], rgb2gray(skimage.data.astronaut()))


def test_synthetic_and_unknown_names_are_refused():
    for name in ("horse", "checkerboard", "text", "skimage:camera"):
        assert name not in SKIMAGE_IMAGES
    _raises(["camera", "horse"], "'horse' is not one of", "camera")
    _raises(["camera", "camera"], "'camera' more than once")
    _raises([], "empty")


def test_a_bare_skimage_name_is_not_taken_for_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _raises("camera", "not found", "pass a list")


# --- folders ---------------------------------------------------------------------------


def test_folder_loads_png_and_tiff_in_name_order(tmp_path):
    rng = np.random.default_rng(1)
    grey8 = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    grey16 = rng.integers(0, 65536, (25, 18), dtype=np.uint16)
    rgb = rng.integers(0, 256, (22, 21, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, np.full((22, 21, 1), 7, dtype=np.uint8)], axis=2)
    skimage.io.imsave(tmp_path / "b_grey.png", grey8, check_contrast=False)
    skimage.io.imsave(tmp_path / "a_deep.tif", grey16, check_contrast=False)
    skimage.io.imsave(tmp_path / "d_rgb.png", rgb, check_contrast=False)
    skimage.io.imsave(tmp_path / "c_rgba.tiff", rgba, check_contrast=False)

    image_set = load_images(tmp_path)

    assert image_set.names == ("a_deep.tif", "b_grey.png", "c_rgba.tiff", "d_rgb.png")
    deep, grey, from_rgba, from_rgb = image_set.images
    np.testing.assert_allclose(deep, grey16 / 65535.0)
    np.testing.assert_allclose(grey, grey8 / 255.0)
    np.testing.assert_allclose(from_rgb, rgb2gray(rgb / 255.0))
    np.testing.assert_allclose(from_rgba, from_rgb)  # alpha dropped
    assert image_set.shapes == ((25, 18), (20, 30), (22, 21), (22, 21))


def test_folder_with_a_non_image_file_names_it(tmp_path):
    skimage.io.imsave(tmp_path / "a.png", np.zeros((8, 8), np.uint8), check_contrast=False)
    (tmp_path / "notes.txt").write_text("not an image")
    message = _raises(tmp_path, "notes.txt")
    assert "is not an image (expected .png, .jpg, .jpeg, .tif, .tiff)" in message
    assert "a.png" not in message


def test_folder_with_a_subfolder_or_nothing(tmp_path):
    (tmp_path / "sub").mkdir()
    _raises(tmp_path, "sub", "is not an image")
    _raises(tmp_path / "sub", "holds no images")


def test_unreadable_image_is_named(tmp_path):
    skimage.io.imsave(tmp_path / "good.png", np.ones((8, 8), np.uint8), check_contrast=False)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    _raises(tmp_path, "broken.png", "cannot be read as an image")


def test_missing_path_and_unknown_extension(tmp_path):
    _raises(tmp_path / "nowhere", "nowhere", "not found")
    (tmp_path / "data.csv").write_text("1,2\n")
    _raises(tmp_path / "data.csv", "data.csv", "neither an image nor an array file")
    _raises(3, "source")


# --- array files -----------------------------------------------------------------------


def test_npy_stack_and_single_image_round_trip(tmp_path):
    stack = np.random.default_rng(2).random((3, 12, 10))
    np.save(tmp_path / "stack.npy", stack)
    np.save(tmp_path / "single.npy", stack[0])
    image_set = load_images(tmp_path / "stack.npy")
    assert image_set.names == ("stack[0]", "stack[1]", "stack[2]")
    for got, expected in zip(image_set.images, stack):
        np.testing.assert_array_equal(got, expected)
    single = load_images(tmp_path / "single.npy")
    assert single.names == ("single",)
    np.testing.assert_array_equal(single.images[0], stack[0])
    moved = load_images(tmp_path / "stack.npy", axis=2)  # 10 images of 3 × 12
    assert len(moved) == 10 and moved.shapes[0] == (3, 12)


def test_npy_integers_are_divided_by_dtype_max_and_objects_refused(tmp_path):
    np.save(tmp_path / "bytes.npy", np.array([[0, 255], [51, 102]], dtype=np.uint8))
    np.testing.assert_allclose(load_images(tmp_path / "bytes.npy").images[0], [[0, 1], [0.2, 0.4]])
    # an object array as numpy writes one (an .npy header saying |O, then a pickle),
    # written by hand: the reader must refuse it without unpickling
    with open(tmp_path / "objects.npy", "wb") as handle:
        np.lib.format.write_array_header_1_0(
            handle, {"descr": "|O", "fortran_order": False, "shape": (2,)})
        handle.write(pickle.dumps([None, 1]))
    _raises(tmp_path / "objects.npy", "objects.npy", "object array")


def test_mat_v5_stack_is_height_width_n_by_default(tmp_path):
    stack_hwn = np.random.default_rng(3).random((16, 14, 4))  # like Olshausen's IMAGES.mat
    scipy.io.savemat(tmp_path / "IMAGES.mat", {"IMAGES": stack_hwn})
    image_set = load_images(tmp_path / "IMAGES.mat")
    assert image_set.names == tuple(f"IMAGES[{k}]" for k in range(4))
    for k, image in enumerate(image_set.images):
        np.testing.assert_array_equal(image, stack_hwn[:, :, k])
    assert load_images(tmp_path / "IMAGES.mat", axis=0).shapes == ((14, 4),) * 16


def test_mat_v73_round_trip(tmp_path):
    stack_hwn = np.random.default_rng(4).random((9, 11, 3))
    _save_mat73(tmp_path / "v73.mat", {"IMAGES": stack_hwn})
    image_set = load_images(tmp_path / "v73.mat")
    for k, image in enumerate(image_set.images):
        np.testing.assert_array_equal(image, stack_hwn[:, :, k])


def test_mat_with_several_variables_needs_a_name(tmp_path):
    rng = np.random.default_rng(5)
    first, second = rng.random((8, 8, 2)), rng.random((6, 7))
    scipy.io.savemat(tmp_path / "two.mat", {"first": first, "second": second})
    _raises(tmp_path / "two.mat", "two.mat", "'first'", "'second'", "variable=")
    np.testing.assert_array_equal(
        load_images(tmp_path / "two.mat", variable="second").images[0], second
    )
    _raises(tmp_path / "two.mat", "two.mat", "has no MATLAB variable 'third'", variable="third")
    _save_mat73(tmp_path / "two73.mat", {"first": first, "second": second})
    _raises(tmp_path / "two73.mat", "two73.mat", "'first'", "'second'")


# --- values ----------------------------------------------------------------------------


def test_float_values_outside_unit_range_need_a_scale(tmp_path):
    whitened = np.random.default_rng(6).standard_normal((2, 10, 10))
    np.save(tmp_path / "white.npy", whitened)
    _raises(tmp_path / "white.npy", "white.npy image 0", "outside [0, 1]", "scale='minmax'")
    kept = load_images(tmp_path / "white.npy", scale="none")
    np.testing.assert_array_equal(kept.images[1], whitened[1])
    mapped = load_images(tmp_path / "white.npy", scale="minmax")
    low, high = whitened.min(), whitened.max()
    np.testing.assert_allclose(mapped.images[1], (whitened[1] - low) / (high - low))
    assert min(image.min() for image in mapped.images) == 0.0
    assert max(image.max() for image in mapped.images) == 1.0
    _raises(tmp_path / "white.npy", "scale", scale="zscore")


def test_non_finite_and_wrongly_shaped_arrays_are_refused(tmp_path):
    image = np.full((5, 5), 0.5)
    image[2, 3] = np.nan
    np.save(tmp_path / "nan.npy", image)
    _raises(tmp_path / "nan.npy", "nan.npy", "NaN")
    np.save(tmp_path / "four.npy", np.zeros((2, 2, 2, 2)))
    _raises(tmp_path / "four.npy", "four.npy", "shape (2, 2, 2, 2)")
    np.save(tmp_path / "stack.npy", np.zeros((2, 4, 4)))
    _raises(tmp_path / "stack.npy", "axis", axis=3)


def test_an_image_smaller_than_the_patch_is_named(tmp_path):
    skimage.io.imsave(tmp_path / "big.png", np.zeros((40, 40), np.uint8), check_contrast=False)
    skimage.io.imsave(tmp_path / "small.png", np.zeros((8, 12), np.uint8), check_contrast=False)
    image_set = load_images(tmp_path)
    assert isinstance(image_set, ImageSet)
    with pytest.raises(InputError) as caught:
        make_patch_sets(image_set, ["small.png"], 16, 10, 10, 10, seed=0)
    assert "image 'small.png' (8×12) is smaller than a 16×16 patch" in str(caught.value)
