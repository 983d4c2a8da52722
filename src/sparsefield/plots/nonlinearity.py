"""The output nonlinearity figure of one unit.

:func:`nonlinearity_figure` draws what :func:`sparsefield.rf.nonlinearity.estimate_nonlinearity`
computed: the observed rate in quantile bins of the held-out generator with its
confidence intervals, and the exponential and softplus links fitted through it, with
their held-out scores in the title.  Save with :func:`sparsefield.plots.style.save_figure`.
"""

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from sparsefield.plots.layout import plot_array
from sparsefield.plots.style import new_figure, styled
from sparsefield.rf.nonlinearity import link_rate

__all__ = ["nonlinearity_figure"]


@styled
def nonlinearity_figure(bin_edges: ArrayLike, generator: ArrayLike, rate: ArrayLike,
                        rate_low: ArrayLike, rate_high: ArrayLike, exp_params: ArrayLike,
                        softplus_params: ArrayLike, exp_bits_per_spike: float,
                        softplus_bits_per_spike: float, estimate: str,
                        confidence: float = 0.95, title: str = "") -> Figure:
    """Held-out generator vs observed rate, with both links.

    Parameters
    ----------
    bin_edges : array_like of shape (n_bins + 1,)
    generator, rate, rate_low, rate_high : array_like of shape (n_bins,)
        Mean generator, observed rate (spikes/s) and its interval per bin.
    exp_params, softplus_params : array_like of shape (2,)
        ``[a, b]`` of each link: ``rate = link(a g + b)``.
    exp_bits_per_spike, softplus_bits_per_spike : float
        Held-out scores of the links.
    estimate : str
        The linear estimate whose filter gives the generator.
    confidence : float
    title : str
        Put before the scores.

    Returns
    -------
    matplotlib.figure.Figure
    """
    edges = plot_array(bin_edges, "bin_edges", 1)
    generator = plot_array(generator, "generator", 1)
    rate = plot_array(rate, "rate", 1, length=generator.size)
    low = plot_array(rate_low, "rate_low", 1, length=generator.size)
    high = plot_array(rate_high, "rate_high", 1, length=generator.size)
    figure = new_figure(4.2, 3.2)
    axes = figure.subplots()
    axes.errorbar(generator, rate, yerr=np.vstack([rate - low, high - rate]), fmt="o", ms=4,
                  color="black", capsize=2, label=f"observed ({confidence:.0%} CI)")
    grid = np.linspace(edges[0], edges[-1], 200) if np.all(np.isfinite(edges[[0, -1]])) else \
        np.linspace(-1.0, 1.0, 200)
    for link, params, bits, colour in (("exp", exp_params, exp_bits_per_spike, "tab:orange"),
                                       ("softplus", softplus_params, softplus_bits_per_spike,
                                        "tab:green")):
        a, b = plot_array(params, f"{link}_params", 1, length=2)
        axes.plot(grid, link_rate(link, a * grid + b), color=colour,
                  label=f"{link}: {bits:.3f} bits/spike")
    top = np.nanmax(high) if np.any(np.isfinite(high)) else np.nan
    if np.isfinite(top) and top > 0:
        axes.set_ylim(0.0, 1.3 * top)  # the links are drawn where the data are, not beyond
    axes.set_xlabel(f"generator signal ({estimate} filter, held out)")
    axes.set_ylabel("rate (spikes/s)")
    axes.legend(fontsize="small")
    if not (np.isfinite(softplus_bits_per_spike) and np.isfinite(exp_bits_per_spike)):
        preferred = "no link"  # a link without a score is no evidence either way
    else:
        preferred = "softplus" if softplus_bits_per_spike > exp_bits_per_spike else "exp"
    axes.set_title(f"{title + ': ' if title else ''}exp {exp_bits_per_spike:.3f}, softplus "
                   f"{softplus_bits_per_spike:.3f} bits/spike held out ({preferred} preferred)",
                   fontsize="small")
    return figure
