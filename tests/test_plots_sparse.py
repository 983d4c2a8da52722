"""Sparse-coding figures and the atom animation: content, determinism, bad input."""

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch
from PIL import Image

from sparsefield.errors import InputError
from sparsefield.plots.atoms import (
    DIGITS,
    GAP_COLOUR,
    atom_grid_figure,
    atom_mosaic,
    write_atom_animation,
)
from sparsefield.plots.sparse import (
    loss_curves_figure,
    run_styles,
    sparsity_histogram_figure,
    wiring_figure,
)
from sparsefield.plots.style import save_figure

PATCH = (4, 3)
N_PIXELS = PATCH[0] * PATCH[1]
N_ATOMS = 7
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _atoms(seed=0, n_atoms=N_ATOMS):
    atoms = np.random.default_rng(seed).standard_normal((N_PIXELS, n_atoms))
    return atoms / np.linalg.norm(atoms, axis=0)


def _history(seed=0, n_epochs=4):
    """(n_epochs, n_pixels, n_atoms): atoms drifting from noise to ``_atoms(seed)``."""
    rng = np.random.default_rng(seed + 100)
    target = _atoms(seed)
    return np.stack([target + (1.0 - e / n_epochs) * rng.standard_normal(target.shape) for e in range(n_epochs)])


def _curves(seed=0, n_runs=3):
    epochs = np.arange(1, 11)
    return {f"run {k}": (epochs, 0.3 + (0.2 + 0.01 * seed) * np.exp(-epochs / (k + 2.0))) for k in range(n_runs)}


def _matrices(seed=0):
    """none (identity), dense and block-diagonal (J = 2) compression of 12 pixels."""
    rng = np.random.default_rng(seed)
    dense = rng.normal(0.0, 1.0 / np.sqrt(6), (6, N_PIXELS))
    block = np.zeros((6, N_PIXELS))
    block[:3, :6] = rng.normal(0.0, 1.0 / np.sqrt(3), (3, 6))
    block[3:, 6:] = rng.normal(0.0, 1.0 / np.sqrt(3), (3, 6))
    return [np.eye(N_PIXELS), dense, block]


def _codes(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "fista": rng.laplace(size=(300, N_ATOMS)) * (rng.random((300, N_ATOMS)) < 0.2),
        "admm": rng.laplace(size=(200, N_ATOMS + 2)) * (rng.random((200, N_ATOMS + 2)) < 0.4),
    }


BUILDERS = {
    "grid": lambda seed=0: atom_grid_figure(_atoms(seed), PATCH, "atoms"),
    "grid_ordered": lambda seed=0: atom_grid_figure(_atoms(seed), PATCH, "atoms", order=[6, 0, 3]),
    "loss": lambda seed=0: loss_curves_figure(_curves(seed), "validation loss", "loss", log_y=True),
    "wiring": lambda seed=0: wiring_figure(_matrices(seed), ["none", "dense", "bdm J=2"], patch_shape=PATCH),
    "wiring_plain": lambda seed=0: wiring_figure(_matrices(seed), ["none", "dense", "bdm J=2"]),
    "sparsity": lambda seed=0: sparsity_histogram_figure(_codes(seed), bins=20),
}


def _png(figure, path):
    return save_figure(figure, path).read_bytes()


def _image_axes(figure):
    return [axes for axes in figure.axes if axes.get_images()]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_figure_saves_identical_png_for_identical_input(name, tmp_path):
    figure = BUILDERS[name]()
    assert isinstance(figure, Figure) and figure.get_suptitle()
    first = _png(figure, tmp_path / "first.png")
    assert first.startswith(PNG_SIGNATURE)
    assert _png(BUILDERS[name](), tmp_path / "second.png") == first
    assert _png(BUILDERS[name](seed=1), tmp_path / "other.png") != first


# --------------------------------------------------------------------------
# the atom mosaic and grid


def test_mosaic_tiles_are_atoms_scaled_to_their_own_max_with_nan_gaps():
    atoms = _atoms()
    atoms[:, 2] *= 5.0
    atoms[:, 4] = 0.0
    mosaic = atom_mosaic(atoms, PATCH)
    height, width = PATCH
    assert mosaic.shape == (3 * (height + 1) + 1, 3 * (width + 1) + 1)  # 3 x 3 grid for 7 atoms
    for index in range(N_ATOMS):
        grid_row, grid_col = divmod(index, 3)
        top, left = 1 + grid_row * (height + 1), 1 + grid_col * (width + 1)
        tile = mosaic[top : top + height, left : left + width]
        expected = atoms[:, index] / (np.abs(atoms[:, index]).max() or 1.0)
        np.testing.assert_allclose(tile, expected.reshape(PATCH))
    assert np.nanmax(np.abs(mosaic)) == 1.0
    assert np.isnan(mosaic).sum() == mosaic.size - N_ATOMS * N_PIXELS  # gaps and the 2 empty cells
    assert np.all(np.isnan(mosaic[0])) and np.all(np.isnan(mosaic[:, 0]))


def test_mosaic_order_and_columns():
    atoms = _atoms()
    mosaic = atom_mosaic(atoms, PATCH, order=[5, 1], n_columns=1)
    assert mosaic.shape == (2 * (PATCH[0] + 1) + 1, PATCH[1] + 2)
    np.testing.assert_allclose(mosaic[1:5, 1:4], (atoms[:, 5] / np.abs(atoms[:, 5]).max()).reshape(PATCH))
    np.testing.assert_allclose(mosaic[6:10, 1:4], (atoms[:, 1] / np.abs(atoms[:, 1]).max()).reshape(PATCH))


def test_atom_grid_is_one_image_of_the_mosaic():
    figure = BUILDERS["grid"]()
    assert len(figure.axes) == 1
    (image,) = figure.axes[0].get_images()
    shown = image.get_array()
    mosaic = atom_mosaic(_atoms(), PATCH)
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), np.isnan(mosaic))
    np.testing.assert_allclose(shown.filled(np.nan), mosaic)
    assert image.get_clim() == (-1.0, 1.0)
    assert np.allclose(image.get_cmap().get_bad(), (*to_rgb(GAP_COLOUR), 1.0))
    assert "7 atoms, 4×3 pixels" in figure.get_suptitle()
    assert "3 of 7 atoms, reordered" in BUILDERS["grid_ordered"]().get_suptitle()


def test_atom_grid_takes_a_thousand_atoms():
    atoms = np.random.default_rng(0).standard_normal((16 * 16, 1024))
    figure = atom_grid_figure(atoms, 16, "K = 1024")
    (image,) = figure.axes[0].get_images()
    assert image.get_array().shape == (32 * 17 + 1, 32 * 17 + 1)


# --------------------------------------------------------------------------
# line and histogram figures


def test_loss_curves_one_line_per_run():
    figure = BUILDERS["loss"]()
    (axes,) = figure.axes
    lines = axes.get_lines()
    assert len(lines) == 3
    assert [line.get_label() for line in lines] == ["run 0", "run 1", "run 2"]
    np.testing.assert_array_equal(lines[1].get_ydata(), _curves()["run 1"][1])
    assert axes.get_yscale() == "log" and axes.get_ylabel() == "validation loss" and axes.get_xlabel() == "epoch"
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["run 0", "run 1", "run 2"]


def test_loss_curves_many_runs_legend_outside_and_styles_cycle():
    figure = loss_curves_figure(_curves(n_runs=12), "train loss", "many")
    (axes,) = figure.axes
    legend = axes.get_legend()
    assert axes.get_yscale() == "linear" and len(legend.get_texts()) == 12
    _draw(figure)
    assert _extent(legend).x0 >= _extent(axes).x1  # beside the axes, not over the curves
    styles = [(line.get_color(), line.get_linestyle()) for line in axes.get_lines()]
    assert len(set(styles)) == 12  # colour 0 returns at run 10, dashed


SCHEMES = ("none-J1", "dense-J1", "bdm-J4", "brm-J4")


def _default_runs(solvers=("fista", "admm")):
    """The default run's comparison: 4 schemes x 2 solvers; the solvers of a scheme reach the same loss."""
    epochs = np.arange(1, 11)
    return {f"{scheme}-{solver}": (epochs, 0.31 + 0.02 * index + 0.09 * np.exp(-epochs / 1.5))
            for index, scheme in enumerate(SCHEMES) for solver in solvers}


def _draw(figure):
    figure.set_dpi(100)
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def _extent(artist):
    return artist.get_window_extent(artist.figure.canvas.get_renderer())


@pytest.mark.parametrize("n_runs", [3, 8, 12])
def test_loss_legend_lies_inside_the_figure_and_clear_of_the_title(n_runs):
    """The default run's training loss: a long title, 8 runs; the title ran into the legend."""
    runs = _default_runs() if n_runs == 8 else _curves(n_runs=n_runs)
    figure = loss_curves_figure(runs, "½‖y − Θb‖² + τ‖b‖₁ per patch",
                                "Training loss, compressed space (not comparable across schemes)")
    _draw(figure)
    (axes,) = figure.axes
    legends = [legend for legend in [axes.get_legend(), *figure.legends] if legend is not None]
    assert len(legends) == 1
    legend, title = _extent(legends[0]), _extent(figure._suptitle)
    page = figure.bbox
    assert page.x0 <= legend.x0 and legend.x1 <= page.x1 and page.y0 <= legend.y0 and legend.y1 <= page.y1
    assert page.x0 <= title.x0 and title.x1 <= page.x1 and title.y1 <= page.y1
    assert not legend.overlaps(title), (legend, title)
    assert len(legends[0].get_texts()) == n_runs


def test_loss_curves_one_colour_per_scheme_and_the_solver_as_line_style():
    figure = loss_curves_figure(_default_runs(), "loss", "8 runs")
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    assert list(lines) == list(_default_runs())
    for scheme in SCHEMES:  # a scheme's two runs: one colour, two line styles
        fista, admm = lines[f"{scheme}-fista"], lines[f"{scheme}-admm"]
        assert to_rgb(fista.get_color()) == to_rgb(admm.get_color())
        assert fista.get_linestyle() != admm.get_linestyle()
        # they overlap exactly: the dashed line is drawn on top of a wider band, so both stay visible
        np.testing.assert_array_equal(fista.get_ydata(), admm.get_ydata())
        assert fista.get_linewidth() > 2 * admm.get_linewidth() and admm.get_zorder() > fista.get_zorder()
        assert admm.get_alpha() in (None, 1.0) and fista.get_alpha() < 1.0
    colours = {to_rgb(lines[f"{scheme}-fista"].get_color()) for scheme in SCHEMES}
    assert len(colours) == len(SCHEMES)  # different schemes, different colours
    for solver in ("fista", "admm"):  # a solver has one line style in every scheme
        assert len({lines[f"{scheme}-{solver}"].get_linestyle() for scheme in SCHEMES}) == 1
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == list(_default_runs())


def test_run_styles_read_the_solver_at_the_end_of_any_label():
    styles = run_styles(["bdm J=4 FISTA", "bdm J=4 ADMM", "dense_cd", "dense_ista", "odd"])
    assert styles[0]["color"] == styles[1]["color"] != styles[2]["color"] == styles[3]["color"]
    assert len({style["linestyle"] for style in styles[:4]}) == 4  # four solvers, four line styles
    assert styles[4]["color"] not in {style["color"] for style in styles[:4]}  # no solver: its own group
    assert run_styles(["afista", "run-fistas"]) == run_styles(["x", "y"])  # not a solver name: colour per run
    many = run_styles([f"scheme{index}-{solver}" for index in range(12) for solver in ("fista", "admm")])
    assert len({(s["color"], s["linestyle"], s.get("marker")) for s in many}) == 24  # colours repeat: markers


def test_sparsity_histograms_share_the_loss_curves_styles():
    codes = {f"{scheme}-{solver}": _codes()["fista"] for scheme in SCHEMES[:2] for solver in ("fista", "admm")}
    figure = sparsity_histogram_figure(codes, bins=10)
    steps = [patch for patch in figure.axes[0].patches if isinstance(patch, StepPatch)]
    styles = run_styles(list(codes))
    assert len(steps) == 4
    for step, style in zip(steps, styles):
        assert to_rgb(step.get_edgecolor()) == to_rgb(style["color"])
        assert step.get_linestyle() == style["linestyle"]
    assert to_rgb(steps[0].get_edgecolor()) == to_rgb(steps[1].get_edgecolor()) != to_rgb(steps[2].get_edgecolor())


def test_loss_curves_allow_nan_gaps():
    epochs = np.arange(4.0)
    figure = loss_curves_figure({"a": (epochs, [1.0, np.nan, 0.5, 0.4])}, "loss", "gaps", log_y=True)
    assert len(figure.axes[0].get_lines()) == 1


def test_wiring_draws_each_matrix_and_example_rows_on_the_patch():
    figure = BUILDERS["wiring"]()
    panels = _image_axes(figure)
    assert len(panels) == 3 * (1 + 3)
    matrices = _matrices()
    titles = [axes.get_title() for axes in panels]
    assert titles[0] == "none\n12×12, 8.3 % non-zero"
    assert titles[4] == "dense\n6×12, 100.0 % non-zero"
    assert titles[8] == "bdm J=2\n6×12, 50.0 % non-zero"
    # rows floor((i + 0.5) * M / 3): 1, 3, 5 for M = 6
    assert titles[9:12] == ["unit 1", "unit 3", "unit 5"]
    assert list(panels[8].get_yticks()) == [1, 3, 5]
    np.testing.assert_allclose(panels[8].get_images()[0].get_array(), np.abs(matrices[2]))
    np.testing.assert_allclose(panels[11].get_images()[0].get_array(), np.abs(matrices[2][5]).reshape(PATCH))
    # the block matrix's unit 5 reads only the bottom half of the patch
    assert not panels[11].get_images()[0].get_array()[:2].any()
    vmax = np.abs(matrices[2]).max()
    assert {axes.get_images()[0].get_clim() for axes in panels[8:12]} == {(0.0, vmax)}


def test_wiring_without_patch_shape_draws_matrices_only():
    figure = BUILDERS["wiring_plain"]()
    assert len(_image_axes(figure)) == 3
    assert len(_image_axes(wiring_figure(_matrices(), "abc", patch_shape=PATCH, n_examples=0))) == 3


def test_sparsity_histograms_one_step_per_run_in_each_panel():
    figure = BUILDERS["sparsity"]()
    value_axes, count_axes = figure.axes
    codes = _codes()
    for axes in (value_axes, count_axes):
        steps = [patch for patch in axes.patches if isinstance(patch, StepPatch)]
        assert len(steps) == 2
    assert value_axes.get_yscale() == "log"
    # shares of all coefficients: the active values of a run sum to its share of non-zeros
    for step, run in zip(value_axes.patches, codes.values()):
        assert step.get_data().values.sum() == pytest.approx(np.mean(run != 0))
    # shares of patches per number of active atoms sum to 1
    for step, run in zip(count_axes.patches, codes.values()):
        values, edges = step.get_data().values, step.get_data().edges
        assert values.sum() == pytest.approx(1.0)
        assert values[3] == pytest.approx(np.mean(np.count_nonzero(run, axis=1) == 3))
        np.testing.assert_array_equal(edges[:2], [-0.5, 0.5])
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend[0].startswith("fista: ") and "% active" in legend[0] and "kurtosis" in legend[0]


# --------------------------------------------------------------------------
# the animation


def _frames(path):
    """Every frame of a GIF as RGB arrays (Pillow composes delta frames)."""
    with Image.open(path) as image:
        frames = []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")))
        return frames, image.info


def _level(grey):
    """Palette level 0..254 of an 8-bit grey (the inverse of round(level * 255 / 254))."""
    return np.rint(grey * 254.0 / 255.0)


def test_animation_is_byte_identical_for_identical_input(tmp_path):
    first = write_atom_animation(_history(), PATCH, tmp_path / "a.gif").read_bytes()
    second = write_atom_animation(_history(), PATCH, tmp_path / "nested" / "b.gif").read_bytes()
    assert first == second and first.startswith(b"GIF89a")
    assert write_atom_animation(_history(seed=1), PATCH, tmp_path / "c.gif").read_bytes() != first
    assert b"Pillow" not in first and b"PIL" not in first
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.gif", "c.gif", "nested"]  # no temporary files


def test_animation_has_one_frame_per_epoch_even_when_atoms_stop_changing(tmp_path):
    history = _history(n_epochs=5)
    history[3:] = history[2]  # converged: the last three epochs have identical atoms
    frames, info = _frames(write_atom_animation(history, PATCH, tmp_path / "a.gif", fps=4.0))
    assert len(frames) == 5
    assert info["loop"] == 0 and info["duration"] == 250
    assert all(not np.array_equal(a, b) for a, b in zip(frames, frames[1:]))


def test_animation_frame_decodes_to_the_mosaic(tmp_path):
    history = _history(n_epochs=3)
    scale = 3
    frames, _ = _frames(write_atom_animation(history, PATCH, tmp_path / "a.gif", scale=scale, max_atoms=5))
    mosaic = atom_mosaic(history[1], PATCH, order=np.arange(5))
    for index, frame in enumerate(frames):
        assert frame.shape[0] % scale == 0 and frame.shape[1] % scale == 0
        small = frame[::scale, ::scale]
        # every screen pixel of a mosaic pixel has its colour (nearest-neighbour upscaling)
        np.testing.assert_array_equal(np.repeat(np.repeat(small, scale, 0), scale, 1), frame)
        body = small[-mosaic.shape[0] :, : mosaic.shape[1]]
        if index != 1:
            continue
        gap = np.rint(np.array(to_rgb(GAP_COLOUR)) * 255).astype(np.uint8)
        np.testing.assert_array_equal(body[np.isnan(mosaic)], np.broadcast_to(gap, (np.isnan(mosaic).sum(), 3)))
        inside = np.isfinite(mosaic)
        grey = body[inside]
        assert np.all(grey[:, 0] == grey[:, 1]) and np.all(grey[:, 1] == grey[:, 2])
        # 255 grey levels: value v -> level round((v + 1) * 127) -> 8-bit grey round(level * 255 / 254)
        np.testing.assert_array_equal(_level(grey[:, 0]), np.rint((mosaic[inside] + 1.0) * 127.0))
        assert grey[:, 0].min() == 0 and grey[:, 0].max() == 255


def test_animation_order_and_max_atoms(tmp_path):
    history = _history(n_epochs=2)
    frames, _ = _frames(write_atom_animation(history, PATCH, tmp_path / "a.gif", scale=1, order=[6, 2, 0], max_atoms=2))
    mosaic = atom_mosaic(history[0], PATCH, order=[6, 2])
    body = frames[0][-mosaic.shape[0] :, : mosaic.shape[1], 0]
    inside = np.isfinite(mosaic)
    np.testing.assert_array_equal(_level(body[inside]), np.rint((mosaic[inside] + 1.0) * 127.0))


def test_animation_single_epoch(tmp_path):
    frames, _ = _frames(write_atom_animation(_history(n_epochs=1), PATCH, tmp_path / "a.gif"))
    assert len(frames) == 1


# --------------------------------------------------------------------------
# bad input

ATOMS = _atoms()

BAD_CALLS = {
    "atoms": lambda: atom_grid_figure(ATOMS[:-1], PATCH, "t"),
    "atoms ": lambda: atom_grid_figure(np.zeros((N_PIXELS, 0)), PATCH, "t"),
    "atoms  ": lambda: atom_mosaic(ATOMS.ravel(), PATCH),
    "patch_shape": lambda: atom_grid_figure(ATOMS, (3, 3, 1), "t"),
    "order": lambda: atom_grid_figure(ATOMS, PATCH, "t", order=[0, N_ATOMS]),
    "order ": lambda: atom_grid_figure(ATOMS, PATCH, "t", order=[1, 1]),
    "order  ": lambda: atom_grid_figure(ATOMS, PATCH, "t", order=[]),
    "phi_history": lambda: write_atom_animation(ATOMS, PATCH, "unused.gif"),
    "phi_history ": lambda: write_atom_animation(_history()[:, :-1], PATCH, "unused.gif"),
    "phi_history  ": lambda: write_atom_animation(np.zeros((0, N_PIXELS, 3)), PATCH, "unused.gif"),
    "fps": lambda: write_atom_animation(_history(), PATCH, "unused.gif", fps=0.0),
    "fps ": lambda: write_atom_animation(_history(), PATCH, "unused.gif", fps=100.0),
    "max_atoms": lambda: write_atom_animation(_history(), PATCH, "unused.gif", max_atoms=0),
    "scale": lambda: write_atom_animation(_history(), PATCH, "unused.gif", scale=1.5),
    "curves": lambda: loss_curves_figure({}, "loss", "t"),
    "curves ": lambda: loss_curves_figure([(np.arange(3), np.ones(3))], "loss", "t"),
    "curves['a']": lambda: loss_curves_figure({"a": (np.arange(3), np.ones(4))}, "loss", "t"),
    "curves['a'] ": lambda: loss_curves_figure({"a": (np.arange(3), [1.0, 0.0, 2.0])}, "loss", "t", log_y=True),
    "curves['a']  ": lambda: loss_curves_figure({"a": (np.arange(2), [np.nan, np.nan])}, "loss", "t"),
    "curves['a']   ": lambda: loss_curves_figure({"a": np.ones(3)}, "loss", "t"),
    "matrices": lambda: wiring_figure([], [], patch_shape=PATCH),
    "matrices ": lambda: wiring_figure(np.eye(N_PIXELS), ["one"]),
    "matrices[1]": lambda: wiring_figure([np.eye(N_PIXELS), np.ones((4, N_PIXELS + 1))], "ab", patch_shape=PATCH),
    "matrices[0]": lambda: wiring_figure([np.ones(N_PIXELS)], ["a"]),
    "labels": lambda: wiring_figure(_matrices(), ["a", "b"]),
    "n_examples": lambda: wiring_figure(_matrices(), "abc", patch_shape=PATCH, n_examples=9),
    "codes_by_label": lambda: sparsity_histogram_figure({}),
    "codes_by_label['x']": lambda: sparsity_histogram_figure({"x": np.ones(4)}),
    "codes_by_label['x'] ": lambda: sparsity_histogram_figure({"x": np.zeros((0, 4))}),
    "bins": lambda: sparsity_histogram_figure(_codes(), bins=0),
    "tolerance": lambda: sparsity_histogram_figure(_codes(), tolerance=-1.0),
}


@pytest.mark.parametrize("argument", sorted(BAD_CALLS))
def test_bad_input_raises_input_error_naming_the_argument(argument, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as raised:
        BAD_CALLS[argument]()
    assert raised.value.source == argument.strip()
    assert not any(tmp_path.iterdir())  # nothing written


def test_epoch_digits_are_all_different_glyphs():
    assert len(set(DIGITS.values())) == 10
    assert all(len(glyph) == 5 and {len(line) for line in glyph} == {3} for glyph in DIGITS.values())
