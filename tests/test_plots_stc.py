"""The STC figure draws every stimulus geometry and a unit not analysed, and saves the
same bytes twice."""

import numpy as np
import pytest

from sparsefield.plots import save_figure, stc_figure


@pytest.mark.parametrize("window_shape", [(5, 5), (1, 12), (1, 1)])
def test_stc_figure_draws_every_geometry_byte_identically(window_shape, tmp_path) -> None:
    rng = np.random.default_rng(0)
    n_pixels = window_shape[0] * window_shape[1]
    filters = rng.standard_normal((3, 4, n_pixels))
    values = np.sort(rng.standard_normal(4 * n_pixels))[::-1]
    paths = []
    for name in ("a.png", "b.png"):
        figure = stc_figure(values, [-1.0, 1.0], filters, ["STA", "exc 1", "sup 1"],
                            window_shape, [0.0, 200.0, 400.0, 600.0], 1, 1, title="unit 3")
        paths.append(save_figure(figure, tmp_path / name, dpi=40))
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_stc_figure_of_a_unit_not_analysed(tmp_path) -> None:
    figure = stc_figure(np.full(10, np.nan), [0.0, 0.0], np.empty((0, 2, 5)), [], (1, 5),
                        [0.0, 200.0], 0, 0, title="unit 4: not analysed")
    assert save_figure(figure, tmp_path / "c.png", dpi=40).stat().st_size > 0
