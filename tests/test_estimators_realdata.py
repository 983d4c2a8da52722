"""Known answers on the real recording: PoissonLassoCV gives the workflow's lasso fits.

The workflow's ``fit_lasso`` rule calls
:func:`sparsefield.rf.units_lasso.fit_lasso_units` with the ``lasso`` section of
config/config.yaml.  Per lag, :class:`~sparsefield.rf.PoissonLassoCV` with the same
settings and the workflow's grid (``alphas``) chooses its own penalty by its own
cross-validation of that lag; at that penalty its coefficients must be the
workflow's.  Reads the MATLAB file directly (the ``real_recording`` fixture of
conftest.py, as tests/test_realdata_ml.py does); skipped when the recording is absent.
"""

from pathlib import Path

import numpy as np
import pytest
import yaml

from sparsefield.rf import PoissonLasso, PoissonLassoCV
from sparsefield.rf.binning import bin_spikes
from sparsefield.rf.design import lagged_problem
from sparsefield.rf.lags import session_lags
from sparsefield.rf.units_lasso import fit_lasso_units

pytestmark = pytest.mark.realdata

PROJECT = Path(__file__).resolve().parents[1]
RECORDING = Path(__file__).resolve().parents[2] / "shared" / "data" / "nds_cl_5_data.mat"


@pytest.fixture(scope="module")
def lasso_config():
    """The ``lasso`` section of the workflow's default config."""
    return yaml.safe_load((PROJECT / "config" / "config.yaml").read_text())["lasso"]


@pytest.fixture(scope="module")
def workflow_fit(request, lasso_config):
    """(stimulus, binned counts, lags, the workflow rule's result) on the real recording."""
    if not RECORDING.is_file():
        pytest.skip(f"real recording not found at {RECORDING}")
    recording = request.getfixturevalue("real_recording")
    config = lasso_config
    binned = bin_spikes(recording["spike_times"], recording["trigger_times"])
    lags = session_lags(config["lags"], config["window"], config["min_lags"], binned.durations,
                        "lasso.lags")
    fit = fit_lasso_units(
        recording["stimulus"], binned.counts[:, None], binned.durations, lags,
        n_lambdas=config["n_lambdas"], lambda_min_ratio=config["lambda_min_ratio"],
        n_folds=config["n_folds"], rule=config["rule"], tol=config["tol"],
        backend=config["backend"], solver=config["units_solver"])
    return recording["stimulus"], binned, lags, fit


def settings(config, **extra):
    """PoissonLassoCV's arguments from the config's lasso section."""
    return {key: config[key] for key in ("n_lambdas", "lambda_min_ratio", "n_folds", "rule",
                                         "tol")} | extra


def test_lasso_cv_matches_the_workflow_fit_at_each_lag(workflow_fit, lasso_config):
    stimulus, binned, lags, fit = workflow_fit
    assert fit.fitted.all() and lags.tolist() == [0, 1, 2, 3, 4]
    grid = fit.lambdas[0]
    chosen = []
    for position, lag in enumerate(lags.tolist()):
        design, counts, durations = lagged_problem(stimulus, binned.counts, binned.durations,
                                                   lag)
        model = PoissonLassoCV(**settings(lasso_config, alphas=grid)).fit(
            design, counts, exposure=durations)
        np.testing.assert_array_equal(model.alphas_, grid)
        index = int(np.flatnonzero(grid == model.alpha_)[0])
        chosen.append(index)
        np.testing.assert_allclose(model.coef_, fit.weights[0, index, position], rtol=1e-10,
                                   atol=0)
        assert model.intercept_ == pytest.approx(fit.intercepts[0, index, position],
                                                 rel=1e-10)
    # the receptive field is at lag 0: a penalty below lambda_max, non-zero weights
    assert chosen[0] > 0
    assert np.count_nonzero(fit.weights[0, chosen[0], 0]) > 0


def test_lasso_cv_default_grid_is_the_workflow_grid_at_the_strongest_lag(workflow_fit,
                                                                        lasso_config):
    """The workflow's grid starts at the largest lambda_max over lags; at that lag the
    estimator's own grid (no ``alphas``) is the same, and so are its coefficients.
    """
    stimulus, binned, lags, fit = workflow_fit
    problems = [lagged_problem(stimulus, binned.counts, binned.durations, lag)
                for lag in lags.tolist()]
    lambda_max = [PoissonLasso(alpha=1.0).fit(design, counts, exposure=durations).lambda_max_
                  for design, counts, durations in problems]
    position = int(np.argmax(lambda_max))
    design, counts, durations = problems[position]
    model = PoissonLassoCV(**settings(lasso_config)).fit(design, counts, exposure=durations)
    np.testing.assert_allclose(model.alphas_, fit.lambdas[0], rtol=1e-12)
    index = int(np.argmin(np.abs(fit.lambdas[0] - model.alpha_)))
    np.testing.assert_allclose(model.coef_, fit.weights[0, index, position], rtol=1e-6,
                               atol=1e-9)
