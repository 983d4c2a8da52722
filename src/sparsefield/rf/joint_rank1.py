r"""The rank-1 (bilinear, space x time) joint GLM, fitted by alternating two convex GLMs.

The filter is constrained to ``F = basis @ t s'``: a spatial profile ``s`` (n_pixels,)
times a temporal one ``basis @ t`` (``t`` of shape (n_bases,)).  The log-likelihood is
not jointly concave in ``(s, t)``, but it is concave in each with the other fixed, and
each of those is a Poisson GLM on a reduced design (Pillow's GLMspiketools and RFEst fit
it the same way):

- ``s`` fixed: columns ``Z_t[:, j] = sum_p design[:, j * n_pixels + p] * s_p`` (n_bases
  of them);
- ``t`` fixed: columns ``Z_s[:, p] = sum_j design[:, j * n_pixels + p] * t_j`` (n_pixels
  of them);

each with the post-spike columns and the intercept refitted, by the Newton-CG of
:mod:`sparsefield.rf.joint_newton` (maximum likelihood).  :func:`fit_rank1` starts from
the rank-1 SVD of a full fit's filter (``F ~ sigma u v'``: ``s = v``), so that its first
step already contains the SVD's solution and every step can only raise the likelihood:
the alternating fit's log-likelihood is at least that of the SVD's rank-1 filter (with
its gain, the post-spike filter and the intercept refitted), and at most the full
fit's.  Scale: ``|s| = 1``, its largest entry positive; the gain is in ``t``.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sparsefield._checks import as_float, as_int
from sparsefield._npz import NpzMixin
from sparsefield.rf.joint import JointDesign, JointFit
from sparsefield.rf.joint_fit import fit_joint, joint_problem
from sparsefield.rf.joint_newton import NewtonCGResult, newton_cg_ridge
from sparsefield.rf.poisson import PoissonProblem

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Rank1Fit(NpzMixin):
    """A rank-1 (space x time) joint GLM and its comparison with the full fit's SVD.

    Attributes
    ----------
    spatial : ndarray of shape (n_pixels,)
        Unit norm, largest entry positive.
    temporal_weights : ndarray of shape (n_bases,)
        ``t``: the temporal filter in the basis, the gain included.
    temporal : ndarray of shape (n_lags,)
        ``basis @ temporal_weights``.
    filter : ndarray of shape (n_lags, n_pixels)
        ``temporal[:, None] * spatial[None, :]``.
    history_filter : ndarray of shape (n_history_lags,)
        Post-spike filter (lags 1 ..); empty without history.
    intercept : float
    nll : float
        Mean Poisson NLL per row of this fit.
    n_iter : int
        Alternations (each fits time, then space).
    converged : bool
        Whether the NLL changed by at most ``tol`` (relative) in the last one.
    svd_filter : ndarray of shape (n_lags, n_pixels)
        The rank-1 SVD of the full fit's filter, ``u v'`` (first singular vectors),
        times its gain refitted by maximum likelihood (with the post-spike filter
        and the intercept).
    svd_nll : float
        Mean NLL of ``svd_filter`` (with that post-spike filter and intercept).
    full_nll : float
        Mean NLL of the full (unconstrained) fit.
    n_rows : int
        Rows of the design (log-likelihoods in nats: ``-n_rows * nll``).
    """

    spatial: np.ndarray
    temporal_weights: np.ndarray
    temporal: np.ndarray
    filter: np.ndarray
    history_filter: np.ndarray
    intercept: float
    nll: float
    n_iter: int
    converged: bool
    svd_filter: np.ndarray
    svd_nll: float
    full_nll: float
    n_rows: int

    @property
    def loglik(self) -> float:
        """Log-likelihood of the rank-1 fit in nats, ``-n_rows * nll``."""
        return -self.n_rows * self.nll

    @property
    def svd_loglik(self) -> float:
        """Log-likelihood of the SVD's rank-1 filter (refitted gain) in nats."""
        return -self.n_rows * self.svd_nll

    @property
    def full_loglik(self) -> float:
        """Log-likelihood of the full fit in nats."""
        return -self.n_rows * self.full_nll


class _Reduced:
    """The two reduced designs of one joint design, and their fits."""

    def __init__(self, joint: JointDesign, tol: float, max_iter: int) -> None:
        self.joint = joint
        self.stimulus = joint.design[:, :joint.n_stimulus_columns].reshape(
            -1, joint.n_bases, joint.n_pixels)
        self.tail = joint.design[:, joint.n_stimulus_columns:]
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, columns: Floats, n_bases: int, n_pixels: int, what: str) -> NewtonCGResult:
        """Maximum likelihood on ``[columns, post-spike columns]``."""
        design = np.ascontiguousarray(np.hstack([columns, self.tail]))
        problem = PoissonProblem.from_checked(design, self.joint.counts, self.joint.durations)
        return newton_cg_ridge(problem, 0.0, n_bases=n_bases, n_pixels=n_pixels, tol=self.tol,
                               max_iter=self.max_iter, label=f"rank-1 joint GLM ({what})")

    def fit_time(self, spatial: Floats) -> NewtonCGResult:
        """``t`` (then the post-spike weights) with ``s`` fixed."""
        return self.fit(self.stimulus @ spatial, self.joint.n_bases, 1, "time step")

    def fit_space(self, temporal_weights: Floats) -> NewtonCGResult:
        """``s`` (then the post-spike weights) with ``t`` fixed."""
        # A batched product on a strided view: np.tensordot would copy the design first.
        columns = np.matmul(self.stimulus.transpose(0, 2, 1), temporal_weights)
        return self.fit(columns, 1, self.joint.n_pixels, "space step")

    def fit_gain(self, stimulus_weights: Floats) -> NewtonCGResult:
        """A fixed filter's gain (then the post-spike weights)."""
        columns = self.stimulus.reshape(len(self.stimulus), -1) @ stimulus_weights.ravel()
        return self.fit(columns[:, None], 1, 1, "SVD gain")


def _normalised(spatial: Floats, temporal_weights: Floats) -> tuple[Floats, Floats]:
    """``|s| = 1`` with its largest entry positive, the scale and sign moved into ``t``."""
    norm = float(np.linalg.norm(spatial))
    if norm == 0.0:
        return spatial, temporal_weights
    sign = 1.0 if spatial[np.argmax(np.abs(spatial))] >= 0 else -1.0
    return spatial * (sign / norm), temporal_weights * (sign * norm)


def fit_rank1(joint: JointDesign, *, full: JointFit | None = None, tol: float = 1e-10,
              max_iter: int = 100, newton_tol: float = 1e-9) -> Rank1Fit:
    """Rank-1 (space x time) joint GLM by alternating maximum likelihood (module docstring).

    Parameters
    ----------
    joint : JointDesign
        From :func:`sparsefield.rf.joint.joint_design`.
    full : JointFit, optional
        The full fit to start from and compare with; default
        ``fit_joint(joint)`` (maximum likelihood).
    tol : float, default 1e-10
        Stop when an alternation lowers the NLL by at most ``tol * max(1, |nll|)``.
    max_iter : int, default 100
        Alternations allowed (``converged`` says whether ``tol`` was met).
    newton_tol : float, default 1e-9
        Gradient tolerance of each sub-problem (:func:`fit_joint`'s ``tol``).

    Returns
    -------
    Rank1Fit

    Raises
    ------
    InputError
        Bad options, or no spike in the design's frames.
    FitError
        A sub-problem did not converge.
    """
    tol = as_float(tol, "tol", minimum=0.0, strict=True)
    max_iter = as_int(max_iter, "max_iter", 1)
    newton_tol = as_float(newton_tol, "newton_tol", minimum=0.0, strict=True)
    problem = joint_problem(joint)
    if full is None:
        full = fit_joint(joint, tol=newton_tol)
    reduced = _Reduced(joint, newton_tol, 100)
    stimulus_weights = full.weights[:joint.n_stimulus_columns].reshape(joint.n_bases,
                                                                       joint.n_pixels)
    _, _, right = np.linalg.svd(full.filter, full_matrices=False)
    spatial, temporal_weights = _normalised(right[0], stimulus_weights @ right[0])
    svd_weights = np.outer(temporal_weights, spatial)
    svd = reduced.fit_gain(svd_weights)
    nll = svd.nll
    converged = False
    n_iter = 0
    while n_iter < max_iter and not converged:
        n_iter += 1
        time_step = reduced.fit_time(spatial)
        temporal_weights = time_step.weights[:joint.n_bases]
        space_step = reduced.fit_space(temporal_weights)
        spatial, temporal_weights = _normalised(space_step.weights[:joint.n_pixels],
                                                temporal_weights)
        change, nll = nll - space_step.nll, space_step.nll
        converged = change <= tol * max(1.0, abs(nll))
    history_weights = space_step.weights[joint.n_pixels:]
    temporal = joint.basis @ temporal_weights
    _, history_filter = joint.filters(np.concatenate(
        [np.zeros(joint.n_stimulus_columns), history_weights]))
    return Rank1Fit(
        spatial=spatial, temporal_weights=temporal_weights, temporal=temporal,
        filter=np.outer(temporal, spatial), history_filter=history_filter,
        intercept=space_step.intercept, nll=problem.nll(
            np.concatenate([np.outer(temporal_weights, spatial).ravel(), history_weights]),
            space_step.intercept),
        n_iter=n_iter, converged=converged,
        svd_filter=joint.basis @ (svd.weights[0] * svd_weights), svd_nll=svd.nll,
        full_nll=full.nll, n_rows=int(joint.design.shape[0]))


__all__ = ["Rank1Fit", "fit_rank1"]
