"""Figure functions run on small arrays; save_figure is deterministic and atomic."""

import struct
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from sparsefield.errors import InputError
from sparsefield.plots import (
    STYLE,
    overview_figure,
    rf_lags_figure,
    save_figure,
    separation_figure,
    sta_figure,
    symmetric_limits,
    truth_figure,
)
from sparsefield.rf.summary import peak_pixel

FRAME_SHAPE = (6, 5)
N_PIXELS = FRAME_SHAPE[0] * FRAME_SHAPE[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _rf(seed=0):
    """A small planted map (n_pixels,) with a peak at row 3, col 1 plus noise."""
    rng = np.random.default_rng(seed)
    rf = rng.normal(0.0, 0.05, N_PIXELS)
    rf[3 * FRAME_SHAPE[1] + 1] = 1.0
    return rf


def _overview(seed=0, with_prediction=True):
    rng = np.random.default_rng(seed)
    n_frames = 120
    edges = np.concatenate([[0.0], np.cumsum(rng.uniform(0.18, 0.25, n_frames))])
    predicted = rng.uniform(0.5, 6.0, n_frames)
    predicted[:2] = np.nan  # the first lag frames have no prediction
    counts = rng.poisson(np.nan_to_num(predicted, nan=1.0))
    frame = rng.integers(0, 2, FRAME_SHAPE).astype(float)
    return overview_figure(frame, edges, counts, predicted if with_prediction else None, window=10.0)


def _rf_lags(seed=0):
    lags = np.arange(4)
    weights = np.outer([1.0, -0.4, 0.1, 0.0], _rf(seed))
    weights[2, 0] = -1.5  # largest |value|, negative, at lag 2
    return rf_lags_figure(weights, lags, FRAME_SHAPE, 0.2155, "weights per lag")


def _separation(seed=0):
    lags = np.arange(5)
    return separation_figure(_rf(seed), np.array([0.8, -0.2, 0.05, 0.0, 0.01]), lags * 0.2, FRAME_SHAPE, "rank 1", 0.62)


def _sta(seed=0):
    rng = np.random.default_rng(seed)
    taus = np.arange(0.0, 0.3, 0.01)
    kernel = np.exp(-(((taus - 0.1) / 0.03) ** 2))
    zscore = rng.normal(0.0, 1.0, (taus.size, N_PIXELS)) + 8.0 * np.outer(kernel, _rf(seed))
    return sta_figure(taus, 0.5 + 0.02 * zscore, zscore, FRAME_SHAPE, n_panels=6)


def _truth(seed=0):
    rng = np.random.default_rng(seed)
    true_temporal = np.array([1.0, -0.3, 0.1, 0.0])
    return truth_figure(
        _rf(0), _rf(0) + rng.normal(0.0, 0.1, N_PIXELS), true_temporal, true_temporal + rng.normal(0.0, 0.05, 4),
        np.arange(4) * 0.2, FRAME_SHAPE, 0.95, 0.97, "model neuron 1",
    )


BUILDERS = {
    "overview": _overview,
    "overview_counts_only": lambda seed=0: _overview(seed, with_prediction=False),
    "rf_lags": _rf_lags,
    "separation": _separation,
    "sta": _sta,
    "truth": _truth,
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_figure_function_returns_figure_and_writes_png(name, tmp_path):
    figure = BUILDERS[name]()
    assert isinstance(figure, Figure)
    assert figure.get_suptitle()
    for axes in figure.axes:
        if axes.get_label() == "<colorbar>":
            assert axes.get_ylabel()  # colour bars say what they show
        elif axes.get_images():
            assert axes.get_title()
        else:  # line plots: title and both axis labels (with units)
            assert axes.get_title() and axes.get_xlabel() and axes.get_ylabel()
    path = save_figure(figure, tmp_path / f"{name}.png")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert [entry.name for entry in tmp_path.iterdir()] == [f"{name}.png"]  # no temporary left behind


def test_figure_functions_leave_pyplot_and_rcparams_alone():
    import matplotlib

    before = dict(matplotlib.rcParams)
    _separation()
    assert "matplotlib.pyplot" not in sys.modules or matplotlib.pyplot.get_fignums() == []
    assert dict(matplotlib.rcParams) == before


@pytest.mark.parametrize("extension", [".png", ".pdf", ".svg"])
def test_same_inputs_give_identical_bytes(extension, tmp_path):
    first = save_figure(_rf_lags(), tmp_path / f"first{extension}").read_bytes()
    second = save_figure(_rf_lags(), tmp_path / f"second{extension}").read_bytes()
    other = save_figure(_rf_lags(seed=1), tmp_path / f"other{extension}").read_bytes()
    assert first == second
    assert first != other


@pytest.mark.parametrize("extension", [".png", ".pdf", ".svg"])
def test_bytes_carry_no_version_or_date_stamps(extension, tmp_path):
    content = save_figure(_separation(), tmp_path / f"figure{extension}").read_bytes()
    assert b"Matplotlib version" not in content and b"matplotlib.org" not in content
    assert b"CreationDate" not in content and b"<dc:date>" not in content


def test_rf_lags_shares_one_symmetric_colour_scale():
    figure = _rf_lags()
    images = [image for axes in figure.axes for image in axes.get_images()]
    assert len(images) == 4  # one per lag
    limits = {image.get_clim() for image in images}
    assert len(limits) == 1
    (vmin, vmax), = limits
    assert vmin == -vmax == -1.5  # the largest |weight| is the -1.5 planted at lag 2
    assert len([axes for axes in figure.axes if axes.get_label() == "<colorbar>"]) == 1
    assert "row 0, col 0, lag 2" in figure.get_suptitle()
    # 215.5 ms frames: delays to the frame duration's precision (10 ms)
    assert [axes.get_title() for axes in figure.axes[:2]] == ["lag 0 (≈0 ms)", "lag 1 (≈220 ms)"]


def test_truth_maps_are_normalised_to_unit_scale():
    images = [image for axes in _truth().axes for image in axes.get_images() if isinstance(image, AxesImage)]
    assert len(images) == 2
    for image in images:
        assert image.get_clim() == (-1.0, 1.0)
        assert np.max(np.abs(image.get_array())) == pytest.approx(1.0)


def _png_size(path):
    """(width, height) in pixels from a PNG's IHDR chunk."""
    return struct.unpack(">II", path.read_bytes()[16:24])


def test_dpi_sets_the_png_resolution(tmp_path):
    default = save_figure(_rf_lags(), tmp_path / "default.png")
    coarse = save_figure(_rf_lags(), tmp_path / "coarse.png", dpi=50)
    inches = _rf_lags().get_size_inches()
    assert _png_size(default) == tuple(round(size * STYLE["savefig.dpi"]) for size in inches)
    assert _png_size(coarse) == tuple(round(size * 50) for size in inches)
    with pytest.raises(InputError, match="dpi: must be a finite number > 0"):
        save_figure(_rf_lags(), tmp_path / "bad.png", dpi=0)
    assert not (tmp_path / "bad.png").exists()


def test_separation_title_names_the_squared_norm_not_the_variance():
    title = _separation().get_suptitle()
    assert "rank 1: 62.0 % of ‖M‖²" in title
    assert "variance" not in title


def test_peak_pixel():
    frame_shape = (2, 3)
    values = np.array([[0.0, 1.0, -0.5, 0.2, 0.0, 0.3],
                       [0.1, np.nan, 0.0, -2.0, 0.4, 0.0]])
    assert peak_pixel(values, frame_shape) == (1, 1, 0)  # |-2| at lag 1, pixel 3
    assert peak_pixel(values, frame_shape, use_abs=False) == (0, 0, 1)
    assert peak_pixel(values[0], frame_shape) == (0, 0, 1)
    assert peak_pixel(values[0], frame_shape, use_abs=False) == (0, 0, 1)
    assert peak_pixel(-values[0], frame_shape, use_abs=False) == (0, 0, 2)


def test_sta_title_gives_peak_tau_in_ms():
    assert "100 ms before the spike (row 3, col 1)" in _sta().get_suptitle()


def _tile_titles(figure):
    """Titles of the z-score maps (the tiles above the STA), in drawing order."""
    return [axes.get_title() for axes in figure.axes if axes.get_images() and axes.get_title()[:1].isdigit()]


def test_sta_tiles_show_the_stated_peak_tau_on_an_even_grid():
    """The default run's STA: taus every 10 ms to 500 ms, 10 maps, peak at 270 ms.

    Maps at rounded evenly spread taus (..., 220, 280, ...) missed the peak
    that the title states (270 ms); the maps now lie on an even grid through it.
    """
    rng = np.random.default_rng(0)
    taus = np.arange(51) * 0.01
    zscore = rng.normal(0.0, 1.0, (taus.size, N_PIXELS))
    zscore[27, 3 * FRAME_SHAPE[1] + 1] = 14.0
    figure = sta_figure(taus, 0.5 + 0.01 * zscore, zscore, FRAME_SHAPE)  # n_panels=10, as the workflow
    tiles = _tile_titles(figure)
    assert "270 ms before the spike" in figure.get_suptitle()
    assert "270 ms" in tiles and "280 ms" not in tiles
    assert len(tiles) == 10
    delays = np.array([float(title.removesuffix(" ms")) for title in tiles])
    assert np.all(np.diff(delays) == 50.0)  # evenly spaced: 20, 70, ..., 470 ms
    assert "STA at 270 ms" in [axes.get_title() for axes in figure.axes]


@pytest.mark.parametrize("peak", [0, 25, 50])
def test_sta_tile_labels_are_the_delays_of_the_maps_drawn(peak):
    rng = np.random.default_rng(peak)
    taus = np.arange(51) * 0.01
    zscore = rng.normal(0.0, 1.0, (taus.size, N_PIXELS))
    zscore[peak, 7] = 14.0
    figure = sta_figure(taus, 0.5 + 0.01 * zscore, zscore, FRAME_SHAPE)
    maps = [axes for axes in figure.axes if axes.get_images() and axes.get_title()[:1].isdigit()]
    assert 1 <= len(maps) <= 10
    for axes in maps:  # each tile shows the z-score map of the tau it names
        index = int(round(float(axes.get_title().removesuffix(" ms")) / 10.0))
        np.testing.assert_array_equal(axes.get_images()[0].get_array(), zscore[index].reshape(FRAME_SHAPE))
    assert f"{10 * peak} ms" in [axes.get_title() for axes in maps]
    assert f"{10 * peak} ms before the spike" in figure.get_suptitle()


def test_separation_labels_say_unit_norm_map_and_temporal_kernel():
    figure = _separation()
    bars = [axes for axes in figure.axes if axes.get_label() == "<colorbar>"]
    assert [bar.get_ylabel() for bar in bars] == ["spatial map (unit norm)"]
    (time_axes,) = [axes for axes in figure.axes if axes.get_lines()]
    assert time_axes.get_ylabel() == "temporal kernel (scale of the weights)"
    assert time_axes.get_xlabel() == "time before spike (ms)"
    labels = [axes.get_xlabel() for axes in figure.axes] + [axes.get_ylabel() for axes in figure.axes]
    assert not any("weight" == label.split(" (")[0] for label in labels)  # no bare "weight"
    spatial = np.linspace(-1.0, 2.0, 12)
    spatial /= np.linalg.norm(spatial)
    bars_figure = separation_figure(spatial, np.array([0.5, -0.1]), np.array([0.0, 0.2]), (1, 12), "bars", 0.9)
    space_axes, time_axes = bars_figure.axes
    assert space_axes.get_ylabel() == "spatial map (unit norm)"
    assert time_axes.get_ylabel() == "temporal kernel (scale of the weights)"
    full_field = separation_figure(np.ones(1), np.array([0.5, -0.1]), np.array([0.0, 0.2]), (1, 1), "ff", 1.0)
    (axes,) = full_field.axes
    assert axes.get_ylabel() == "temporal kernel (scale of the weights)" and "unit norm" in axes.get_title()


def test_symmetric_limits():
    assert symmetric_limits(np.array([-3.0, 1.0]), np.array([[2.0, np.nan]])) == 3.0
    assert symmetric_limits(np.zeros(3)) == 1.0
    assert symmetric_limits(np.array([np.nan])) == 1.0


def test_unsupported_extension_raises_and_leaves_no_file(tmp_path):
    with pytest.raises(ValueError, match="unsupported figure format"):
        save_figure(_separation(), tmp_path / "figure.jpeg")
    assert list(tmp_path.iterdir()) == []


def test_failed_save_leaves_no_partial_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "figure.png"
    target.write_bytes(b"old")
    figure = _separation()
    figure.axes[0].set_title("$\\undefinedcommand$")  # mathtext fails while drawing
    with pytest.raises(ValueError):
        save_figure(figure, target)
    assert target.read_bytes() == b"old"
    assert [entry.name for entry in tmp_path.iterdir()] == ["figure.png"]


def test_shape_mismatch_raises_input_error():
    with pytest.raises(InputError, match="weights"):
        rf_lags_figure(np.zeros((2, N_PIXELS + 1)), np.arange(2), FRAME_SHAPE, 0.2, "bad")
    with pytest.raises(InputError, match="lags"):
        rf_lags_figure(np.zeros((2, N_PIXELS)), np.arange(3), FRAME_SHAPE, 0.2, "bad")


def test_separation_figure_of_an_all_zero_field_says_so():
    figure = separation_figure(np.zeros(12), np.zeros(3), np.array([0.0, 0.2, 0.4]), (3, 4),
                               "empty", float("nan"))
    assert "no receptive field" in figure.get_suptitle()
    assert "nan" not in figure.get_suptitle()
