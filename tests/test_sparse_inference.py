"""Batched lasso encoders: same objective as scikit-learn, sparsity, limits, warm starts, bad input.

The exact reference is ``sklearn.linear_model.Lasso(alpha=tau / n_samples,
fit_intercept=False)`` with a tight tolerance: scikit-learn minimises
``1/(2 n_samples) ‖y - Θ b‖² + alpha ‖b‖₁``, which is the objective here
divided by ``n_samples``.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from sparsefield.errors import InputError
from sparsefield.sparse.inference import METHODS, EncodeInfo, encode, lasso_objective

TAU = 0.1

#: Tight settings for the known-answer tests (the gap rule certifies 1e-8).
TIGHT = {"tol": 1e-8, "max_iter": 20_000}


def unit_columns(matrix):
    return matrix / np.linalg.norm(matrix, axis=0)


def make_problem(kind, n_signals=6, seed=0):
    """Unit-norm random signals and a dictionary.

    ``"overcomplete"``: 64 x 128 unit-norm atoms; ``"undercomplete"``:
    128 x 64 (invertible Gram); ``"compressed"``: ``Φ Ψ`` with ``Φ`` 64 x 128
    Gaussian N(0, 1/64) and ``Ψ`` 128 x 128 unit-norm atoms.

    Returns
    -------
    signals : ndarray of shape (n_signals, n_samples)
    dictionary : ndarray of shape (n_samples, n_atoms)
    """
    rng = np.random.default_rng(seed)
    if kind == "overcomplete":
        dictionary = unit_columns(rng.standard_normal((64, 128)))
    elif kind == "undercomplete":
        dictionary = unit_columns(rng.standard_normal((128, 64)))
    elif kind == "compressed":
        phi = rng.standard_normal((64, 128)) / np.sqrt(64)
        dictionary = phi @ unit_columns(rng.standard_normal((128, 128)))
    else:
        raise ValueError(kind)
    signals = rng.standard_normal((n_signals, dictionary.shape[0]))
    signals /= np.linalg.norm(signals, axis=1, keepdims=True)
    return signals, dictionary


def sklearn_codes(signals, dictionary, tau):
    """Exact lasso codes, one scikit-learn fit per signal; shape (n_signals, n_atoms)."""
    n_samples = dictionary.shape[0]
    codes = np.empty((signals.shape[0], dictionary.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for index, signal in enumerate(signals):
            model = Lasso(alpha=tau / n_samples, fit_intercept=False, tol=1e-12,
                          max_iter=1_000_000)
            codes[index] = model.fit(dictionary, signal).coef_
    return codes


@pytest.fixture(scope="module", params=["overcomplete", "undercomplete", "compressed"])
def problem(request):
    signals, dictionary = make_problem(request.param)
    reference = sklearn_codes(signals, dictionary, TAU)
    return signals, dictionary, reference


@pytest.mark.parametrize("method, options", [
    ("cd", {}), ("ista", {}), ("fista", {}), ("fista", {"restart": False}), ("admm", {}),
    ("admm", {"rho": 10.0}), ("admm", {"rho": 10.0, "adaptive_rho": False}),
    ("admm", {"relaxation": 1.0}),
])
def test_objective_matches_sklearn(problem, method, options):
    signals, dictionary, reference = problem
    codes, info = encode(signals, dictionary, TAU, method=method, return_info=True,
                         **TIGHT, **options)
    assert isinstance(info, EncodeInfo)
    assert info.converged.all()
    assert info.n_iter.shape == (signals.shape[0],)
    ours = lasso_objective(signals, dictionary, codes, TAU)
    exact = lasso_objective(signals, dictionary, reference, TAU)
    np.testing.assert_array_less(np.abs(ours - exact) / exact, 1e-4)
    # The objective reported from G and c (non-zero codes only) is the same number.
    np.testing.assert_allclose(info.objective, ours, rtol=1e-10)


@pytest.mark.parametrize("method", METHODS)
def test_support_matches_sklearn(method):
    signals, dictionary = make_problem("undercomplete", seed=3)
    reference = sklearn_codes(signals, dictionary, TAU)
    codes = encode(signals, dictionary, TAU, method=method, **TIGHT)
    assert 0 < np.count_nonzero(reference) < reference.size // 2
    np.testing.assert_array_equal(codes != 0, reference != 0)
    np.testing.assert_allclose(codes, reference, atol=1e-6)


def test_admm_returns_the_sparse_variable():
    signals, dictionary = make_problem("overcomplete", seed=4)
    codes = encode(signals, dictionary, TAU, method="admm", tol=1e-4)
    # Exact zeros on most atoms (the least-squares iterate would be dense).
    assert np.mean(codes == 0) > 0.5


@pytest.mark.parametrize("method", METHODS)
def test_tau_zero_is_least_squares(method):
    signals, dictionary = make_problem("undercomplete", seed=5)
    expected = np.linalg.lstsq(dictionary, signals.T, rcond=None)[0].T
    codes = encode(signals, dictionary, 0.0, method=method, tol=1e-10, max_iter=20_000)
    np.testing.assert_allclose(codes, expected, atol=1e-7 * np.abs(expected).max())


@pytest.mark.parametrize("method", METHODS)
def test_large_tau_gives_zero_codes(method):
    signals, dictionary = make_problem("overcomplete", seed=6)
    tau = np.abs(signals @ dictionary).max()
    codes, info = encode(signals, dictionary, tau, method=method, return_info=True)
    assert np.all(codes == 0.0)
    assert info.converged.all()
    assert info.n_iter.max() <= 1
    assert np.all(encode(signals, dictionary, 10 * tau, method=method) == 0.0)


@pytest.mark.parametrize("method", METHODS)
def test_warm_start_at_the_solution_stops_at_once(method):
    signals, dictionary = make_problem("compressed", seed=7)
    solution = encode(signals, dictionary, TAU, method=method, **TIGHT)
    start = solution.copy()
    codes, info = encode(signals, dictionary, TAU, method=method, tol=1e-6,
                         warm_start=start, return_info=True)
    assert info.converged.all()
    assert info.n_iter.max() <= 2
    np.testing.assert_array_equal(start, solution)  # the warm start is not modified
    np.testing.assert_allclose(codes, solution, atol=1e-6)


def test_lasso_objective_by_hand():
    signals, dictionary = make_problem("overcomplete", n_signals=3, seed=8)
    codes = np.random.default_rng(8).standard_normal((3, dictionary.shape[1]))
    expected = [0.5 * np.sum((y - dictionary @ b) ** 2) + 0.3 * np.sum(np.abs(b))
                for y, b in zip(signals, codes)]
    np.testing.assert_allclose(lasso_objective(signals, dictionary, codes, 0.3), expected)
    np.testing.assert_allclose(lasso_objective(signals, dictionary, 0 * codes, 0.3), 0.5)


def test_no_signals():
    _, dictionary = make_problem("overcomplete")
    codes, info = encode(np.empty((0, 64)), dictionary, TAU, return_info=True)
    assert codes.shape == (0, 128)
    assert info.n_iter.shape == (0,)


GOOD_SIGNALS, GOOD_DICTIONARY = make_problem("overcomplete", n_signals=2)
NAN_DICTIONARY = GOOD_DICTIONARY.copy()
NAN_DICTIONARY[0, 0] = np.nan


@pytest.mark.parametrize("arguments, options, name", [
    ((GOOD_SIGNALS[0], GOOD_DICTIONARY, TAU), {}, "signals"),
    ((GOOD_SIGNALS * np.inf, GOOD_DICTIONARY, TAU), {}, "signals"),
    ((GOOD_SIGNALS, NAN_DICTIONARY, TAU), {}, "dictionary"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY[:32], TAU), {}, "dictionary"),
    ((GOOD_SIGNALS, 0 * GOOD_DICTIONARY, TAU), {}, "dictionary"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, -0.1), {}, "tau"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, "0.1"), {}, "tau"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"method": "lars"}, "method"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"max_iter": 0}, "max_iter"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"tol": -1.0}, "tol"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"warm_start": np.zeros((2, 64))}, "warm_start"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"step": 0.0}, "step"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"method": "admm", "rho": -1.0}, "rho"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"method": "fista", "rho": 1.0}, "rho"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"method": "admm", "step": 1.0}, "step"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"method": "ista", "restart": True}, "restart"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"method": "admm", "relaxation": 2.0}, "relaxation"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"method": "admm", "relaxation": 0.0}, "relaxation"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"method": "fista", "relaxation": 1.5}, "relaxation"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"method": "admm", "adaptive_rho": 1}, "adaptive_rho"),
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"method": "cd", "adaptive_rho": True}, "adaptive_rho"),
    # Θ is 64 x 128: Θᵀ Θ is singular, and so is Θᵀ Θ + 1e-300 I in floating point.
    ((GOOD_SIGNALS, GOOD_DICTIONARY, TAU), {"method": "admm", "rho": 1e-300}, "rho"),
])
def test_bad_input_names_the_parameter(arguments, options, name):
    with pytest.raises(InputError) as raised:
        encode(*arguments, **options)
    assert raised.value.source == name


def test_bad_objective_input_names_the_parameter():
    codes = np.zeros((2, 128))
    with pytest.raises(InputError, match="^tau:"):
        lasso_objective(GOOD_SIGNALS, GOOD_DICTIONARY, codes, -1.0)
    with pytest.raises(InputError, match="^codes:"):
        lasso_objective(GOOD_SIGNALS, GOOD_DICTIONARY, codes[:, :64], TAU)


# ---------------------------------------------------------------------------- certificates


def numpy_gap(signals, dictionary, codes, tau):
    """Duality gap P(b) - D(ν) at the feasible dual point ν = s r, written out directly.

    ``r = y - Θ b``, ``s = min(1, tau / max|Θᵀ r|)``, ``D(ν) = yᵀν - ½‖ν‖²``.
    """
    residual = signals - codes @ dictionary.T
    primal = 0.5 * np.sum(residual**2, axis=1) + tau * np.abs(codes).sum(axis=1)
    largest = np.abs(residual @ dictionary).max(axis=1)
    scale = np.minimum(1.0, tau / largest)
    dual_point = scale[:, None] * residual
    dual = np.sum(signals * dual_point, axis=1) - 0.5 * np.sum(dual_point**2, axis=1)
    return primal - dual, primal


@pytest.mark.parametrize("tol", [1e-2, 1e-3, 1e-6])
@pytest.mark.parametrize("method", METHODS)
def test_the_gap_exit_is_a_certificate(problem, method, tol):
    signals, dictionary, reference = problem
    codes, info = encode(signals, dictionary, TAU, method=method, tol=tol, max_iter=20_000,
                         return_info=True)
    assert info.converged.all()
    gap, primal = numpy_gap(signals, dictionary, codes, TAU)
    # The reported gap is the gap, and it met the rule at exit ...
    np.testing.assert_allclose(info.gap, gap, rtol=1e-6, atol=1e-12)
    assert np.all(gap <= tol * primal * (1 + 1e-9))
    # ... and it bounds the distance to the exact optimum (scikit-learn at 1e-12).
    exact = lasso_objective(signals, dictionary, reference, TAU)
    assert np.all(primal - exact <= gap + 1e-12)


def test_admm_stops_on_the_gap_before_the_residual_rule():
    """At a loose tolerance the gap stops ADMM early; the codes then get better with tol."""
    signals, dictionary = make_problem("compressed", n_signals=20, seed=9)
    loose = encode(signals, dictionary, TAU, method="admm", tol=1e-2, return_info=True)[1]
    tight = encode(signals, dictionary, TAU, method="admm", tol=1e-8, return_info=True)[1]
    assert loose.n_iter.mean() < 0.5 * tight.n_iter.mean()
    assert np.all(loose.gap <= 1e-2 * loose.objective)
    assert np.all(tight.gap <= 1e-8 * tight.objective)
    assert np.all(tight.objective <= loose.objective + 1e-12)


# ---------------------------------------------------------------------------- adaptive rho


def ill_conditioned_problem(n_samples, n_atoms, seed=11):
    """Θ with singular values from 10 down to 0.01 (condition number of Θᵀ Θ: 1e6)."""
    rng = np.random.default_rng(seed)
    rank = min(n_samples, n_atoms)
    left = np.linalg.qr(rng.standard_normal((n_samples, n_samples)))[0][:, :rank]
    right = np.linalg.qr(rng.standard_normal((n_atoms, n_atoms)))[0][:, :rank]
    dictionary = left @ np.diag(np.logspace(1, -2, rank)) @ right.T
    signals = rng.standard_normal((6, n_samples))
    signals /= np.linalg.norm(signals, axis=1, keepdims=True)
    return signals, dictionary


@pytest.mark.parametrize("shape", [(128, 64), (64, 128)])
@pytest.mark.parametrize("rho", [None, 1e3])
def test_adaptive_rho_converges_on_ill_conditioned_dictionaries(shape, rho):
    signals, dictionary = ill_conditioned_problem(*shape)
    tau, budget = 0.01, 3000
    exact = encode(signals, dictionary, tau, method="cd", tol=1e-12, max_iter=100_000,
                   return_info=True)[1].objective
    adaptive = encode(signals, dictionary, tau, method="admm", rho=rho, tol=1e-8,
                      max_iter=budget, return_info=True)[1]
    fixed = encode(signals, dictionary, tau, method="admm", rho=rho, adaptive_rho=False,
                   tol=1e-8, max_iter=budget, return_info=True)[1]
    assert adaptive.converged.all()
    np.testing.assert_array_less(adaptive.objective - exact, 1e-8 * exact + 1e-15)
    # The same start with rho kept fixed runs out of iterations on most signals.
    assert fixed.converged.mean() < 0.5
    assert fixed.n_iter.sum() > 3 * adaptive.n_iter.sum()


# ---------------------------------------------------------------------------- determinism, cache


def test_admm_is_deterministic_and_the_cache_changes_nothing(monkeypatch):
    from sparsefield.sparse import _admm

    signals, dictionary = make_problem("compressed", n_signals=30, seed=10)
    factorisations = []
    factorise = _admm.penalised_inverse
    monkeypatch.setattr(_admm, "penalised_inverse",
                        lambda gram, rho: factorisations.append(rho) or factorise(gram, rho))
    first, first_info = encode(signals, dictionary, TAU, method="admm", tol=1e-6,
                               return_info=True)
    n_first = len(factorisations)
    assert n_first >= 1
    # An equal dictionary (another array) is factored no more, and gives the same bytes.
    again, again_info = encode(signals[::-1].copy()[::-1], dictionary.copy(), TAU,
                               method="admm", tol=1e-6, return_info=True)
    assert len(factorisations) == n_first
    np.testing.assert_array_equal(again, first)
    np.testing.assert_array_equal(again_info.n_iter, first_info.n_iter)
    # A dictionary changed in place is a new dictionary: factored again, still exact.
    dictionary[0] *= 1.5
    changed = encode(signals, dictionary, TAU, method="admm", tol=1e-8, max_iter=20_000)
    assert len(factorisations) > n_first
    exact = sklearn_codes(signals, dictionary, TAU)
    np.testing.assert_allclose(lasso_objective(signals, dictionary, changed, TAU),
                               lasso_objective(signals, dictionary, exact, TAU), rtol=1e-6)


def test_admm_codes_do_not_depend_on_the_other_signals():
    """Lock step shares rho and one matrix product, not results.

    A signal alone gets the same codes (to rounding) as in a batch.
    """
    signals, dictionary = make_problem("overcomplete", n_signals=12, seed=12)
    batch = encode(signals, dictionary, TAU, method="admm", tol=1e-8, max_iter=20_000)
    for index in (0, 7):
        alone = encode(signals[index:index + 1], dictionary, TAU, method="admm", tol=1e-8,
                       max_iter=20_000)
        np.testing.assert_allclose(alone[0], batch[index], atol=1e-6)


#: ADMM on a compressed-like problem, printed as the sha256 of the codes and the iterations.
DETERMINISM_SCRIPT = """
import hashlib
import numpy as np
from sparsefield.sparse.inference import encode
rng = np.random.default_rng(3)
dictionary = rng.standard_normal((64, 128)) / 8.0
signals = rng.standard_normal((40, 64))
codes, info = encode(signals, dictionary, 0.1, method="admm", tol=1e-6, return_info=True)
print(hashlib.sha256(codes.tobytes()).hexdigest(), int(info.n_iter.sum()))
"""


@pytest.mark.slow
def test_admm_gives_the_same_bytes_in_every_process(tmp_path):
    """The same codes to the bit from kernels compiled in the process and loaded from the cache.

    Two processes on a fresh numba cache (5 to 20 s, most of it compiling).
    """
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, "-c", DETERMINISM_SCRIPT], env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
            for _ in range(2)]
    assert any((tmp_path / "cache").rglob("*.nbi")), "the first run wrote no cache"
    assert len(runs[0].split()[0]) == 64 and runs[0] == runs[1], runs
