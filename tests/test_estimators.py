"""scikit-learn estimators of sparsefield.rf: the API checks, known answers, CV splitter.

Known answers: glum (a test dependency) for the GLM (L2) and the lasso (L1) at the
same ``alpha`` (both objectives are the mean Poisson NLL plus the penalty, up to a
constant); closed forms for maximum likelihood with one binary feature and the
ridge's stationarity; the library's own CV functions for the CV estimators.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import sklearn
from scipy.stats import poisson
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparsefield.errors import InputError
from sparsefield.model_selection import ContiguousSplit
from sparsefield.rf import PoissonGLM, PoissonLasso, PoissonLassoCV, PopulationPoissonLassoCV
from sparsefield.rf.estimators_glm import fit_ridge
from sparsefield.rf.lasso_cv import contiguous_folds, lasso_cv
from sparsefield.rf.ml import fit_ml
from sparsefield.rf.poisson import poisson_nll, poisson_nll_grad

#: Checks that cannot apply, by reason (also in the estimators' docstrings, Notes).
NOT_R2 = ("score is the mean Poisson log-likelihood per sample (negative for counts), "
          "not R2: the check's score > 0.5 threshold does not apply")
NEGATIVE_TARGETS = ("fits make_regression targets as they are, negative values included "
                    "(target_tags.positive_only is ignored there); spike counts must be >= 0")


def expected_failed_checks(estimator):
    failed = {"check_regressors_train": NOT_R2}
    if isinstance(estimator, PopulationPoissonLassoCV):
        failed["check_regressor_multioutput"] = NEGATIVE_TARGETS
    return failed


@parametrize_with_checks(
    [PoissonGLM(), PoissonGLM(alpha=0.1), PoissonLasso(), PoissonLassoCV(),
     PopulationPoissonLassoCV()],
    expected_failed_checks=expected_failed_checks,
)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------
# data


def planted(n_samples=1500, n_features=12, n_units=1, seed=0):
    """Binary white noise, sparse planted weights, jittered exposure.

    Returns X (n_samples, n_features), y (n_samples, n_units), exposure (n_samples,).
    """
    rng = np.random.default_rng(seed)
    X = (rng.random((n_samples, n_features)) < 0.5).astype(np.float64)
    exposure = np.clip(rng.normal(0.2155, 0.024, n_samples), 0.166, 0.266)
    weights = np.zeros((n_units, n_features))
    for unit in range(n_units):
        support = rng.choice(n_features, 4, replace=False)
        weights[unit, support] = rng.normal(0.0, 0.5, 4)
    y = rng.poisson(exposure[:, None] * np.exp(np.log(15.0) + X @ weights.T))
    return X, y.astype(np.float64), exposure


@pytest.fixture(scope="module")
def data():
    X, y, exposure = planted()
    return X, y[:, 0], exposure


def relative_difference(ours, reference):
    return float(np.abs(ours - reference).max() / np.abs(reference).max())


def glum_fit(X, y, exposure, alpha, l1_ratio):
    import glum  # a test dependency: missing must fail, not skip

    model = glum.GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=l1_ratio,
                                            fit_intercept=True, gradient_tol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # glum's notes at tight tolerance
        model.fit(X, y, offset=np.log(exposure))
    return np.asarray(model.coef_), float(model.intercept_)


# ---------------------------------------------------------------------------
# PoissonGLM


@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.3])
def test_glm_matches_glum(data, alpha):
    X, y, exposure = data
    model = PoissonGLM(alpha=alpha).fit(X, y, exposure=exposure)
    coef, intercept = glum_fit(X, y, exposure, alpha, l1_ratio=0.0)
    assert relative_difference(model.coef_, coef) <= 1e-5
    assert model.intercept_ == pytest.approx(intercept, abs=1e-5)
    assert model.n_iter_ >= 1


def test_glm_without_penalty_is_the_workflow_ml_fit(data):
    """The same optimum as fit_ml at lag 0, to fit_ml's (looser) tolerance."""
    X, y, exposure = data
    model = PoissonGLM().fit(X, y, exposure=exposure)
    ml = fit_ml(X, y, exposure, lags=(0,))
    assert relative_difference(model.coef_, ml.weights[0]) <= 1e-4
    assert model.intercept_ == pytest.approx(ml.intercepts[0] - ml.stimulus_mean @ ml.weights[0],
                                             abs=1e-4)
    tight = fit_ml(X, y, exposure, lags=(0,), tol=1e-13)
    assert relative_difference(model.coef_, tight.weights[0]) <= 1e-6


def test_glm_ml_closed_form_with_one_binary_feature():
    """ML with one 0/1 feature: exp(intercept) and exp(intercept + coef) are the two
    groups' rates, sum(counts) / sum(exposure).
    """
    rng = np.random.default_rng(1)
    x = (rng.random(400) < 0.3).astype(float)
    exposure = rng.uniform(0.1, 0.3, 400)
    y = rng.poisson(exposure * np.where(x > 0, 30.0, 8.0)).astype(float)
    rate_off = y[x == 0].sum() / exposure[x == 0].sum()
    rate_on = y[x == 1].sum() / exposure[x == 1].sum()
    for model in (PoissonGLM(), PoissonGLM(alpha=1e-12)):
        model.fit(x[:, None], y, exposure=exposure)
        assert model.intercept_ == pytest.approx(np.log(rate_off), abs=1e-7)
        assert model.coef_[0] == pytest.approx(np.log(rate_on / rate_off), abs=1e-7)


def test_ridge_is_stationary_and_shrinks(data):
    X, y, exposure = data
    alpha = 0.05
    weights, intercept, _ = fit_ridge(X, y, exposure, alpha, tol=1e-10)
    _, gradient, grad_intercept = poisson_nll_grad(weights, intercept, X, y, exposure)
    np.testing.assert_allclose(gradient + alpha * weights, 0.0, atol=1e-9)
    assert abs(grad_intercept) <= 1e-9
    # a huge penalty leaves the constant-rate model
    weights, intercept, _ = fit_ridge(X, y, exposure, 1e8)
    assert np.abs(weights).max() < 1e-6
    assert intercept == pytest.approx(np.log(y.sum() / exposure.sum()), abs=1e-6)
    # and a larger penalty never grows the weights
    norms = [np.linalg.norm(PoissonGLM(alpha=a).fit(X, y, exposure=exposure).coef_)
             for a in (0.0, 0.01, 0.1, 1.0)]
    assert np.all(np.diff(norms) < 0)


def test_predict_and_score(data):
    X, y, exposure = data
    model = PoissonGLM(alpha=0.01).fit(X, y, exposure=exposure)
    mu = model.predict(X, exposure=exposure)
    np.testing.assert_allclose(mu, exposure * np.exp(X @ model.coef_ + model.intercept_),
                               rtol=1e-12)
    np.testing.assert_allclose(model.predict(X), mu / exposure, rtol=1e-12)
    score = model.score(X, y, exposure=exposure)
    assert score == pytest.approx(np.mean(poisson.logpmf(y, mu)), rel=1e-12)
    assert score == pytest.approx(-poisson_nll(model.coef_, model.intercept_, X, y, exposure),
                                  rel=1e-14)
    # the fitted model beats a constant rate on its own data
    assert score > PoissonGLM(alpha=1e8).fit(X, y, exposure=exposure).score(X, y, exposure)


@pytest.mark.parametrize("estimator", [PoissonGLM(), PoissonLasso(), PoissonLassoCV()])
def test_bad_input_is_refused_by_name(data, estimator):
    """What check_regressors_train checks besides its R2 threshold, and more."""
    X, y, exposure = data
    with pytest.raises(ValueError):
        clone(estimator).fit(X, y[:-1])
    with pytest.raises(InputError, match="^y: spike counts must be >= 0"):
        clone(estimator).fit(X, -y)
    with pytest.raises(InputError, match="^exposure: must be positive"):
        clone(estimator).fit(X, y, exposure=-exposure)
    with pytest.raises(InputError, match="^exposure: expected 1500 entries"):
        clone(estimator).fit(X, y, exposure=exposure[:-1])
    model = clone(estimator).fit(X[:200].tolist(), y[:200].tolist())
    assert model.predict(X[:7]).shape == (7,)
    with pytest.raises(ValueError, match="12 features"):
        model.predict(X[:7, :5])


# ---------------------------------------------------------------------------
# Lasso


@pytest.mark.parametrize("alpha", [0.02, 0.1])
def test_lasso_matches_glum_at_the_same_alpha(data, alpha):
    X, y, exposure = data
    model = PoissonLasso(alpha=alpha).fit(X, y, exposure=exposure)
    coef, intercept = glum_fit(X, y, exposure, alpha, l1_ratio=1.0)
    assert relative_difference(model.coef_, coef) <= 1e-5
    assert model.intercept_ == pytest.approx(intercept, abs=1e-5)
    assert 0 < np.count_nonzero(model.coef_) < X.shape[1]
    assert np.array_equal(model.coef_ == 0, coef == 0)
    assert model.kkt_violation_ <= 1e-7 * model.lambda_max_


def test_lasso_above_lambda_max_is_all_zero(data):
    X, y, exposure = data
    model = PoissonLasso(alpha=1.0).fit(X, y, exposure=exposure)
    lambda_max = model.lambda_max_
    assert np.count_nonzero(PoissonLasso(alpha=1.001 * lambda_max).fit(
        X, y, exposure=exposure).coef_) == 0
    assert np.count_nonzero(PoissonLasso(alpha=0.9 * lambda_max).fit(
        X, y, exposure=exposure).coef_) > 0


@pytest.mark.parametrize("rule", ["1se", "min"])
def test_lasso_cv_is_the_library_cv(data, rule):
    X, y, exposure = data
    model = PoissonLassoCV(n_lambdas=8, n_folds=4, rule=rule).fit(X, y, exposure=exposure)
    cv = lasso_cv(X, y, exposure, n_lambdas=8, n_folds=4, rule=rule)
    np.testing.assert_array_equal(model.alphas_, cv.lambdas)
    assert model.alpha_ == cv.lambda_chosen
    assert (model.alpha_min_, model.alpha_1se_) == (cv.lambda_min, cv.lambda_1se)
    np.testing.assert_array_equal(model.coef_, cv.weights)
    assert model.intercept_ == cv.intercept
    np.testing.assert_array_equal(model.cv_loglik_, cv.fold_loglik)
    np.testing.assert_array_equal(model.cv_gain_mean_, cv.gain_mean)
    np.testing.assert_array_equal(model.fold_edges_, contiguous_folds(len(X), 4))
    np.testing.assert_array_equal(model.coef_path_[list(model.alphas_).index(model.alpha_)],
                                  model.coef_)


def test_lasso_cv_explicit_alphas_and_bad_rule(data):
    X, y, exposure = data
    alphas = [0.01, 0.1, 0.03]
    model = PoissonLassoCV(alphas=alphas, n_folds=3).fit(X, y, exposure=exposure)
    np.testing.assert_array_equal(model.alphas_, sorted(alphas, reverse=True))
    assert model.alpha_ in alphas
    with pytest.raises(InputError, match="^rule: must be one of 1se, min"):
        PoissonLassoCV(rule="best").fit(X, y)


@pytest.mark.parametrize("solver", ["population", "per_unit"])
def test_population_cv_equals_one_unit_at_a_time(solver):
    X, y, exposure = planted(n_samples=1200, n_features=10, n_units=4, seed=3)
    model = PopulationPoissonLassoCV(n_lambdas=6, n_folds=4, solver=solver).fit(
        X, y, exposure=exposure)
    assert model.coef_.shape == (4, 10)
    assert model.predict(X, exposure).shape == (1200, 4)
    scores = []
    for unit in range(4):
        single = PoissonLassoCV(n_lambdas=6, n_folds=4).fit(X, y[:, unit], exposure=exposure)
        np.testing.assert_allclose(model.alphas_[unit], single.alphas_, rtol=1e-6)
        assert model.alpha_[unit] == pytest.approx(single.alpha_, rel=1e-6)
        np.testing.assert_allclose(model.coef_[unit], single.coef_, rtol=1e-6,
                                   atol=1e-6 * np.abs(single.coef_).max())
        assert model.intercept_[unit] == pytest.approx(single.intercept_, rel=1e-6)
        np.testing.assert_allclose(model.cv_gain_mean_[unit], single.cv_gain_mean_, rtol=1e-6)
        np.testing.assert_array_equal(model.fold_edges_, single.fold_edges_)
        scores.append(single.score(X, y[:, unit], exposure))
    assert model.score(X, y, exposure) == pytest.approx(np.mean(scores), rel=1e-6)


def test_population_refuses_one_unit_and_silent_units():
    X, y, exposure = planted(n_samples=300, n_features=5, n_units=2)
    with pytest.raises(InputError, match=r"^y: expected spike counts of shape"):
        PopulationPoissonLassoCV().fit(X, y[:, 0])
    y[:, 1] = 0
    with pytest.raises(InputError, match="no spike"):
        PopulationPoissonLassoCV().fit(X, y)


# ---------------------------------------------------------------------------
# ContiguousSplit and GridSearchCV


@pytest.mark.parametrize(("n_samples", "n_splits"), [(10, 5), (23, 4), (1500, 5), (7, 3)])
def test_contiguous_split_has_the_library_folds(n_samples, n_splits):
    splitter = ContiguousSplit(n_splits)
    edges = contiguous_folds(n_samples, n_splits)
    folds = list(splitter.split(np.zeros((n_samples, 2))))
    assert len(folds) == splitter.get_n_splits() == n_splits
    for k, (train, test) in enumerate(folds):
        np.testing.assert_array_equal(test, np.arange(edges[k], edges[k + 1]))
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])),
                                      np.arange(n_samples))
        assert np.all(np.diff(train) > 0)


def test_contiguous_split_refuses_too_many_folds():
    with pytest.raises(InputError, match="^n_folds: 6 folds need at least 12 rows"):
        list(ContiguousSplit(6).split(np.zeros((11, 1))))
    with pytest.raises(InputError, match="^n_splits"):
        ContiguousSplit(1).get_n_splits()


def test_grid_search_with_exposure_as_a_fit_parameter(data):
    X, y, exposure = data
    alphas = [0.0, 0.3, 30.0]
    search = GridSearchCV(PoissonGLM(), {"alpha": alphas}, cv=ContiguousSplit(5))
    search.fit(X, y, exposure=exposure)
    # fold k's model is fitted on the other blocks with their exposure, scored by
    # score() (exposure ones: fit parameters reach fit only)
    for index, alpha in enumerate(alphas):
        scores = []
        for train, test in ContiguousSplit(5).split(X):
            fold = PoissonGLM(alpha=alpha).fit(X[train], y[train], exposure=exposure[train])
            scores.append(fold.score(X[test], y[test]))
        assert search.cv_results_["mean_test_score"][index] == pytest.approx(
            np.mean(scores), rel=1e-10)
    refit = PoissonGLM(alpha=search.best_params_["alpha"]).fit(X, y, exposure=exposure)
    np.testing.assert_array_equal(search.best_estimator_.coef_, refit.coef_)


def test_grid_search_routes_exposure_to_fit_and_score(data):
    X, y, exposure = data
    alphas = [0.0, 0.3, 30.0]
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = PoissonGLM().set_fit_request(exposure=True).set_score_request(exposure=True)
        search = GridSearchCV(estimator, {"alpha": alphas}, cv=ContiguousSplit(5))
        search.fit(X, y, exposure=exposure)
    expected = []
    for alpha in alphas:
        scores = [PoissonGLM(alpha=alpha).fit(X[train], y[train], exposure=exposure[train])
                  .score(X[test], y[test], exposure=exposure[test])
                  for train, test in ContiguousSplit(5).split(X)]
        expected.append(np.mean(scores))
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-10)
    assert search.best_params_["alpha"] == alphas[int(np.argmax(expected))]
    # the strongest penalty, close to a constant rate, scores worst
    assert np.argmin(expected) == 2


# ---------------------------------------------------------------------------
# Lazy exports


def test_estimators_are_exported_lazily():
    code = (
        "import sys, sparsefield.rf, sparsefield.sparse\n"
        "heavy = [m for m in ('sklearn', 'sparsefield.rf.estimators_glm',"
        " 'sparsefield.rf.estimators_lasso', 'sparsefield.rf.lasso_cv',"
        " 'sparsefield.sparse.estimators', 'sparsefield.sparse.dictionary') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "names = {'PoissonGLM', 'PoissonLasso', 'PoissonLassoCV', 'PopulationPoissonLassoCV'}\n"
        "assert names <= set(dir(sparsefield.rf)) and set(sparsefield.rf.__all__) == names\n"
        "assert {'DictionaryLearner', 'CompressedDictionaryLearner'} == "
        "set(sparsefield.sparse.__all__) <= set(dir(sparsefield.sparse))\n"
        "from sparsefield.rf import PoissonLassoCV\n"
        "from sparsefield.rf.estimators_lasso import PoissonLassoCV as direct\n"
        "assert PoissonLassoCV is direct and 'sklearn' in sys.modules\n"
        "try:\n    sparsefield.rf.NoSuchName\nexcept AttributeError as error:\n"
        "    assert 'NoSuchName' in str(error)\nelse:\n    raise SystemExit('no error')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
