"""The nonlinearity of a unit's best linear estimate: the best scored linear estimate is
picked, the held-out STA filter of a softplus unit prefers softplus, a fixed per-lag
filter is placed at its lag, and the figure saves the same bytes twice."""

import numpy as np

from sparsefield.plots.nonlinearity import nonlinearity_figure
from sparsefield.plots.style import save_figure
from sparsefield.rf.simulate_nonlinear import quadrature_gabors, simulate_ln_unit
from sparsefield.rf.unit_nonlinearity import best_linear, sta_filter, unit_nonlinearity


def test_best_linear_leaves_out_baseline_joint_and_nan() -> None:
    names = ["baseline", "ml", "lasso", "sta_ln", "joint"]
    assert best_linear(names, [0.0, 0.1, 0.3, 0.2, 0.9]) == "lasso"
    assert best_linear(names, [0.0, 0.1, np.nan, 0.2, 0.9]) == "sta_ln"
    assert best_linear(names, [0.0] + [np.nan] * 4) == "sta_ln"


def test_softplus_unit_through_its_held_out_sta(tmp_path) -> None:
    rf = quadrature_gabors(6, 12, sigma=2.0, wavelength=5.0, latency=2.0, width=1.0)[0]
    unit = simulate_ln_unit(30000, link="softplus", rf=rf, scale=30.0, offset=0.0, seed=0)
    result = unit_nonlinearity(unit.stimulus, unit.counts, unit.durations, "sta_ln", 6)
    assert result.preferred == "softplus"
    # a fixed filter at one lag gives the same generator as that lag's weights alone
    fixed = unit_nonlinearity(unit.stimulus, unit.counts, unit.durations, "ml", 6,
                              weights=rf[2], lag=2)
    assert np.isfinite(fixed.exp_bits_per_spike)
    sta = sta_filter(unit.stimulus, unit.counts, 6)(np.arange(5, 30000, dtype=np.int64))
    assert abs(np.corrcoef(sta.ravel(), rf.ravel())[0, 1]) > 0.8
    paths = []
    for name in ("a.png", "b.png"):
        figure = nonlinearity_figure(
            result.bin_edges, result.generator, result.rate, result.rate_low, result.rate_high,
            result.exp_params, result.softplus_params, result.exp_bits_per_spike,
            result.softplus_bits_per_spike, "sta_ln", title="unit 1")
        paths.append(save_figure(figure, tmp_path / name, dpi=40))
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_the_figure_prefers_no_link_when_a_score_is_missing(tmp_path) -> None:
    """A link without a held-out score (NaN) is no evidence: the title says so."""
    edges = np.linspace(-1.0, 1.0, 6)
    centres = 0.5 * (edges[:-1] + edges[1:])
    rate = np.exp(centres)
    for softplus, words in ((np.nan, "(no link preferred)"), (0.2, "(softplus preferred)")):
        figure = nonlinearity_figure(edges, centres, rate, 0.8 * rate, 1.2 * rate,
                                     np.array([1.0, 0.0]), np.array([1.0, 0.0]), 0.1,
                                     softplus, "lasso")
        assert words in figure.axes[0].get_title()
