r"""The Poisson objective: the one place it is written.

Model (a linear-nonlinear-Poisson neuron with an exponential nonlinearity):

.. math::

    \mathrm{counts}_t \sim \mathrm{Poisson}(\mu_t), \qquad
    \mu_t = \mathrm{durations}_t \cdot \exp(\eta_t), \qquad
    \eta_t = \mathrm{design}_t \cdot \mathrm{weights} + \mathrm{intercept},

for rows ``t = 0 .. n_rows - 1`` (a row is one frame, or one bin).  The
objective is the **mean** negative log-likelihood over rows, constants
included, so it equals ``-mean(scipy.stats.poisson.logpmf(counts, mu))``:

.. math::

    \mathrm{NLL} = \frac{1}{n}\sum_t \big[\mu_t - \mathrm{counts}_t\,\eta_t
        + \log(\mathrm{counts}_t!) - \mathrm{counts}_t \log \mathrm{durations}_t\big]

with gradient

.. math::

    \partial \mathrm{NLL} / \partial \mathrm{weights}
        = \frac{1}{n}\sum_t (\mu_t - \mathrm{counts}_t)\, \mathrm{design}_t, \qquad
    \partial \mathrm{NLL} / \partial \mathrm{intercept}
        = \frac{1}{n}\sum_t (\mu_t - \mathrm{counts}_t).

The last two terms of the NLL do not depend on the parameters; they are
computed once per :class:`PoissonProblem` (``log(counts!)`` as
``scipy.special.gammaln(counts + 1)``).  The mean rather than the sum keeps
the scale of the objective (and of an L1 penalty added to it, as in glum's
``deviance / 2n + alpha * |w|_1``) independent of the recording length.

Relation to the course's notation ``r_t = exp(w . s_t) * dt * R``: with
``design_t = s_t``, ``weights = w`` and ``durations_t = dt``, the expected
count is ``r_t = durations_t * exp(w . s_t + log R)``, i.e. the base rate
``R`` (spikes per second) is absorbed in the intercept, ``intercept = log R``.
Frames of unequal length (jittered triggers) are handled exactly through
``durations_t``; when all durations are equal the ``-counts * log(dt)`` term is
a constant and the fit is the same as the course's.  When the design is a
centred stimulus (``s_t - mean``, as in :func:`sparsefield.rf.ml.fit_ml`) the
intercept becomes ``log R + w . mean``.

The numba kernels in :mod:`sparsefield.rf._poisson_kernels` evaluate the data
part in one pass; this module validates inputs and adds the constant.
"""

from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from sparsefield._checks import as_float_array
from sparsefield.errors import InputError
from sparsefield.rf import _poisson_kernels


def check_data(
    design: ArrayLike,
    counts: ArrayLike,
    durations: ArrayLike,
    design_name: str = "design",
    *,
    counts_ndim: int = 1,
    min_rows: int = 1,
    min_pixels: int = 0,
    require_spikes: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Check data for the Poisson objective once, at a public function's boundary.

    Parameters
    ----------
    design : array_like of shape (n_rows, n_pixels)
        Finite.
    counts : array_like of shape (n_rows,) or (n_rows, n_neurons)
        Finite, non-negative spike counts (one column per neuron when
        ``counts_ndim`` is 2).
    durations : array_like of shape (n_rows,)
        Finite, positive bin durations in seconds.
    design_name : str, default "design"
        What the caller calls ``design`` (e.g. ``"stimulus"``), for messages.
    counts_ndim : {1, 2}, default 1
        Dimensions of ``counts``.
    min_rows, min_pixels : int, default 1 and 0
        Smallest shape of ``design`` accepted.
    require_spikes : bool, default False
        Refuse counts (or a neuron's column of counts) without a spike: the
        Poisson fit then has no finite intercept.

    Returns
    -------
    design : ndarray of shape (n_rows, n_pixels), float64, C-contiguous
    counts : ndarray of shape (n_rows,) or (n_rows, n_neurons), float64
    durations : ndarray of shape (n_rows,), float64

    Raises
    ------
    InputError
        On wrong shapes, non-finite values, negative counts, non-positive
        durations or (when required) no spikes.
    """
    design = as_float_array(design, design_name, 2)
    n_rows, n_pixels = design.shape
    if n_rows < min_rows or n_pixels < min_pixels:
        wanted = f"at least {min_rows} row{'' if min_rows == 1 else 's'}"
        if min_pixels:
            wanted += f" and {min_pixels} pixel{'' if min_pixels == 1 else 's'}"
        raise InputError(design_name, f"needs {wanted}, got shape {design.shape}")
    counts = as_float_array(counts, "counts", counts_ndim, length=n_rows)
    durations = as_float_array(durations, "durations", 1, length=n_rows)
    if np.any(counts < 0):
        raise InputError("counts", "contains negative values")
    if np.any(durations <= 0):
        raise InputError("durations", "must be positive (seconds)")
    if require_spikes:
        silent = np.flatnonzero(np.atleast_1d(counts.sum(axis=0)) <= 0)
        if silent.size and counts.ndim == 1:
            raise InputError("counts", "has no spikes: the Poisson fit has no finite intercept")
        if silent.size:
            raise InputError(
                "counts",
                f"neuron column(s) {silent[:10].tolist()} have no spikes: "
                "the Poisson fit has no finite intercept",
            )
    return design, counts, durations


@dataclass(frozen=True)
class PoissonProblem:
    """Validated data for the Poisson objective, with the constant precomputed.

    Build it with :meth:`from_arrays` (which checks the inputs once), or with
    :meth:`from_checked` inside a function that already checked them, then
    evaluate the objective many times, e.g. inside an optimiser.

    Attributes
    ----------
    design : ndarray of shape (n_rows, n_pixels), float64, C-contiguous
    counts : ndarray of shape (n_rows,), float64, >= 0
    durations : ndarray of shape (n_rows,), float64, > 0, seconds
    constant : float
        ``mean_t [log(counts_t!) - counts_t * log(durations_t)]``.
    """

    design: np.ndarray
    counts: np.ndarray
    durations: np.ndarray
    constant: float

    @classmethod
    def from_arrays(cls, design: ArrayLike, counts: ArrayLike, durations: ArrayLike) -> Self:
        """Check the data (:func:`check_data`) and precompute the constant part of the NLL.

        Parameters
        ----------
        design : array_like of shape (n_rows, n_pixels)
        counts : array_like of shape (n_rows,)
        durations : array_like of shape (n_rows,)

        Returns
        -------
        PoissonProblem

        Raises
        ------
        InputError
            On wrong shapes, non-finite values, negative counts or
            non-positive durations.
        """
        return cls.from_checked(*check_data(design, counts, durations))

    @classmethod
    def from_checked(cls, design: NDArray[np.float64], counts: NDArray[np.float64],
                     durations: NDArray[np.float64]) -> Self:
        """Build from data a public function already checked; nothing is checked here.

        Parameters
        ----------
        design : ndarray of shape (n_rows, n_pixels), float64, C-contiguous, finite
        counts : ndarray of shape (n_rows,), float64, finite, >= 0
        durations : ndarray of shape (n_rows,), float64, finite, > 0

        Returns
        -------
        PoissonProblem
        """
        constant = float(np.mean(gammaln(counts + 1.0) - counts * np.log(durations)))
        return cls(design=design, counts=counts, durations=durations, constant=constant)

    @property
    def n_pixels(self) -> int:
        """Number of columns of ``design``."""
        return self.design.shape[1]

    def _check_weights(self, weights: ArrayLike) -> NDArray[np.float64]:
        weights = np.ascontiguousarray(weights, dtype=np.float64)
        if weights.shape != (self.n_pixels,):
            raise InputError(
                "weights", f"expected shape ({self.n_pixels},), got {weights.shape}"
            )
        return weights

    def nll(self, weights: ArrayLike, intercept: float) -> float:
        """Mean negative log-likelihood.

        Parameters
        ----------
        weights : ndarray of shape (n_pixels,)
        intercept : float

        Returns
        -------
        nll : float
        """
        weights = self._check_weights(weights)
        data_part = _poisson_kernels.nll_data(
            weights, float(intercept), self.design, self.counts, self.durations
        )
        return data_part + self.constant

    def nll_grad(self, weights: ArrayLike,
                 intercept: float) -> tuple[float, NDArray[np.float64], float]:
        """Mean negative log-likelihood and its gradient.

        Parameters
        ----------
        weights : ndarray of shape (n_pixels,)
        intercept : float

        Returns
        -------
        nll : float
        grad_weights : ndarray of shape (n_pixels,)
        grad_intercept : float
        """
        weights = self._check_weights(weights)
        grad_weights = np.empty(self.n_pixels)
        data_part, grad_intercept = _poisson_kernels.nll_data_grad(
            weights, float(intercept), self.design, self.counts, self.durations, grad_weights
        )
        return data_part + self.constant, grad_weights, grad_intercept

    def nll_grad_theta(self, theta: ArrayLike) -> tuple[float, NDArray[np.float64]]:
        """NLL and gradient over the stacked parameters, for :func:`scipy.optimize.minimize`.

        Parameters
        ----------
        theta : ndarray of shape (n_pixels + 1,)
            ``[weights, intercept]``.

        Returns
        -------
        nll : float
        grad_theta : ndarray of shape (n_pixels + 1,)
            ``[grad_weights, grad_intercept]``.
        """
        theta = np.ascontiguousarray(theta, dtype=np.float64)
        grad_theta = np.empty(self.n_pixels + 1)
        data_part, grad_intercept = _poisson_kernels.nll_data_grad(
            theta[:-1], theta[-1], self.design, self.counts, self.durations, grad_theta[:-1]
        )
        grad_theta[-1] = grad_intercept
        return data_part + self.constant, grad_theta

    def expected_counts(self, weights: ArrayLike, intercept: float) -> NDArray[np.float64]:
        """Model mean ``durations_t * exp(design_t . weights + intercept)``.

        Parameters
        ----------
        weights : ndarray of shape (n_pixels,)
        intercept : float

        Returns
        -------
        expected : ndarray of shape (n_rows,)
        """
        weights = self._check_weights(weights)
        return _poisson_kernels.expected_counts(
            weights, float(intercept), self.design, self.durations
        )


def poisson_nll(weights: ArrayLike, intercept: float, design: ArrayLike, counts: ArrayLike,
                durations: ArrayLike) -> float:
    """Mean Poisson negative log-likelihood (constants included).

    See the module docstring for the model and formula.

    Parameters
    ----------
    weights : ndarray of shape (n_pixels,)
    intercept : float
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,)
        Non-negative spike counts.
    durations : ndarray of shape (n_rows,)
        Positive bin durations in seconds.

    Returns
    -------
    nll : float
        ``-mean(scipy.stats.poisson.logpmf(counts, mu))``.

    Raises
    ------
    InputError
        On inconsistent shapes or invalid data.
    """
    return PoissonProblem.from_arrays(design, counts, durations).nll(weights, intercept)


def poisson_nll_grad(weights: ArrayLike, intercept: float, design: ArrayLike, counts: ArrayLike,
                     durations: ArrayLike) -> tuple[float, NDArray[np.float64], float]:
    """Mean Poisson negative log-likelihood and its gradient.

    Parameters
    ----------
    weights : ndarray of shape (n_pixels,)
    intercept : float
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,)
    durations : ndarray of shape (n_rows,)

    Returns
    -------
    nll : float
    grad_weights : ndarray of shape (n_pixels,)
        ``mean_t (mu_t - counts_t) * design_t``.
    grad_intercept : float
        ``mean_t (mu_t - counts_t)``.

    Raises
    ------
    InputError
        On inconsistent shapes or invalid data.

    Notes
    -----
    Validation scans ``design`` on every call; inside an optimiser build a
    :class:`PoissonProblem` once and call its methods instead.
    """
    return PoissonProblem.from_arrays(design, counts, durations).nll_grad(weights, intercept)
