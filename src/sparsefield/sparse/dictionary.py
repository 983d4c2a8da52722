"""Dictionary learning in a compressed space, and recovery of pixel-space atoms.

The model (Olshausen & Field 1996; compressed: Fallah, Willats, Liu & Rozell 2020):
a patch ``x`` (``n_pixels``) is seen only through ``y = Φx`` (``n_measurements``,
Φ from :mod:`sparsefield.sparse.compression`; Φ = I for the scheme ``none``), and
``y ≈ Θb`` with sparse codes ``b`` (``n_atoms``) that minimise::

    ½‖y − Θb‖² + τ‖b‖₁.

Learning alternates, per batch of patches, between inference of the codes
(:func:`sparsefield.sparse.inference.encode`: coordinate descent, ISTA, FISTA
or ADMM) and an update of
Θ's unit-norm columns (the atoms), one of

``"gradient"`` (the paper's)
    ``Θ ← Θ + η (Y − ΘB)ᵀB`` summed over the batch (rows of ``Y``, ``B`` are
    patches), then unit-norm columns; ``η = learning_rate · decay^epoch``.
``"online"`` (Mairal, Bach, Ponce & Sapiro 2010, Algorithm 2)
    sufficient statistics ``A = Σ b bᵀ`` and ``B = Σ y bᵀ`` with scikit-learn's
    forgetting factor, then one block-coordinate pass over the atoms.  Atoms
    that no code uses any more are re-drawn from the batch (seeded).

After every epoch the pixel-space dictionary is recovered from the correlation
set: with codes ``b`` of its compressed patches, ``A = Σ b bᵀ`` and ``B = Σ x bᵀ``,
``Ψ = B A⁺`` with unit-norm columns (the least-squares map from codes to
pixels).  For the scheme ``none`` (Φ = I) Ψ is Θ itself.  The validation loss
is measured in pixel space with Ψ on held-out patches, so it compares schemes;
the training loss is measured in the compressed space on each batch before its
update (the original's definition), so it does not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.sparse import _dictionary_kernels as kernels
from sparsefield.sparse.atoms import code_sparsity
from sparsefield.sparse.inference import METHODS, encode
from sparsefield.sparse.whitening import unit_norm

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

#: Atom update rules.
UPDATES = ("gradient", "online")

#: Code inference methods (:func:`sparsefield.sparse.inference.encode`).
SOLVERS = METHODS


def _encode(signals: NDArray[np.float64], atoms: NDArray[np.float64],
            settings: LearningSettings) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Codes of ``signals`` (n, F) against ``atoms`` (K, F) with the settings'
    solver; returns (codes (n, K), per-signal loss (n,)).
    """
    codes, info = encode(signals, atoms.T, settings.tau, method=settings.solver, tol=settings.tol,
                         max_iter=settings.max_iter, return_info=True)
    return codes, info.objective


# ---------------------------------------------------------------------------
# settings and results


@dataclass(frozen=True)
class LearningSettings:
    """How to learn a dictionary (checked on construction).

    Attributes
    ----------
    n_atoms : int
    tau : float
        Sparsity penalty, >= 0.
    n_epochs : int
        Passes over the training patches (reshuffled every epoch).
    batch_size : int
    update : {"gradient", "online"}
    learning_rate, decay : float
        ``"gradient"`` only: step of epoch ``e`` is ``learning_rate · decay**e``.
    solver : {"cd", "ista", "fista", "admm"}
    tol : float
        Inference tolerance: the relative duality gap, for every solver (see
        :func:`sparsefield.sparse.inference.encode`).
    max_iter : int
        Inference iteration limit.
    normalise_measurements : bool
        Scale every compressed patch ``y = Φx`` to unit norm (the original does,
        for training; here the same is done for the correlation set).
    seed : int
        Seeds the initial atoms, the batch order and re-drawn atoms.
    """

    n_atoms: int = 256
    tau: float = 0.1
    n_epochs: int = 10
    batch_size: int = 100
    update: str = "gradient"
    learning_rate: float = 0.8
    decay: float = 0.975
    solver: str = "fista"
    tol: float = 1e-3
    max_iter: int = 500
    normalise_measurements: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        as_int(self.n_atoms, "n_atoms", minimum=1)
        as_float(self.tau, "tau", minimum=0.0)
        as_int(self.n_epochs, "n_epochs", minimum=1)
        as_int(self.batch_size, "batch_size", minimum=1)
        as_float(self.learning_rate, "learning_rate", minimum=0.0, strict=True)
        as_float(self.decay, "decay", minimum=0.0, strict=True, maximum=1.0)
        as_float(self.tol, "tol", minimum=0.0, strict=True)
        as_int(self.max_iter, "max_iter", minimum=1)
        as_int(self.seed, "seed", minimum=0)
        if self.update not in UPDATES:
            raise InputError("update", f"unknown update {self.update!r}; use one of "
                             f"{', '.join(UPDATES)}")
        if self.solver not in SOLVERS:
            raise InputError("solver", f"unknown solver {self.solver!r}; use one of "
                             f"{', '.join(SOLVERS)}")


@dataclass(frozen=True)
class DictionaryRun(NpzMixin):
    """A dictionary learning run, epoch by epoch.

    Attributes
    ----------
    phi : ndarray of shape (n_epochs, n_pixels, n_atoms)
        Pixel-space atoms Ψ (unit-norm columns) after every epoch.
    theta : ndarray of shape (n_measurements, n_atoms)
        The learned compressed-space dictionary Θ after the last epoch.
    time : ndarray of shape (n_epochs,)
        Cumulative training time in s (inference and updates; not the
        recovery and the evaluation).  Wall clock: it differs between runs.
    train_loss : ndarray of shape (n_epochs,)
        Mean per-patch ``½‖y − Θb‖² + τ‖b‖₁`` over the epoch's batches, each
        before its update (compressed space).
    val_loss : ndarray of shape (n_epochs,)
        Mean per-patch ``½‖x − Ψb‖² + τ‖b‖₁`` on the validation patches (pixel
        space, codes inferred with Ψ); NaN without validation patches.
    val_error : ndarray of shape (n_epochs,)
        Its reconstruction part, mean ``½‖x − Ψb‖²``.
    pca_error : ndarray of shape (n_epochs,)
        Mean ``½‖x − x̂‖²`` of the validation patches projected on the first
        ``k`` principal axes of the training patches, ``k`` = the mean number
        of non-zero codes (rounded): a dense code with as many numbers.
    n_active : ndarray of shape (n_epochs,)
        Mean number of non-zero codes per validation patch.
    fraction_nonzero, mean_abs_code, kurtosis : ndarray of shape (n_epochs,)
        Of the validation codes: fraction of non-zeros, mean ``|b|``, and the
        excess kurtosis of all code values (Fisher; 0 for a Gaussian).
    codes : ndarray of shape (n_codes, n_atoms)
        Validation codes of the last epoch (at most the first 2000 patches).
    learning_rate : ndarray of shape (n_epochs,)
        Step used per epoch (``"gradient"``; NaN for ``"online"``).
    """

    phi: np.ndarray
    theta: np.ndarray
    time: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_error: np.ndarray
    pca_error: np.ndarray
    n_active: np.ndarray
    fraction_nonzero: np.ndarray
    mean_abs_code: np.ndarray
    kurtosis: np.ndarray
    codes: np.ndarray
    learning_rate: np.ndarray

    #: Per-epoch columns of :meth:`epoch_table`.
    EPOCH_COLUMNS = (
        "learning_rate", "time", "train_loss", "val_loss", "val_error", "pca_error",
        "n_active", "fraction_nonzero", "mean_abs_code", "kurtosis",
    )

    def usage_order(self) -> NDArray[np.intp]:
        """Atom indices by decreasing mean ``|code|`` on the validation patches.

        Returns
        -------
        order : ndarray of shape (n_atoms,), int64
            Ties keep dictionary order.
        """
        return np.argsort(-np.abs(self.codes).mean(axis=0), kind="stable")

    def epoch_table(self) -> pd.DataFrame:
        """The per-epoch numbers as a :class:`pandas.DataFrame` (one row per epoch).

        Every column of :data:`EPOCH_COLUMNS` except ``time``: wall-clock time
        differs between runs and would make the table differ too (it stays in
        the ``.npz``).
        """
        import pandas as pd

        columns = [name for name in self.EPOCH_COLUMNS if name != "time"]
        table = pd.DataFrame({name: getattr(self, name) for name in columns})
        table.insert(0, "epoch", np.arange(1, len(table) + 1))
        return table


#: Validation codes kept in :attr:`DictionaryRun.codes`.
_KEPT_CODES = 2000


# ---------------------------------------------------------------------------
# learning


def learn_dictionary(train: ArrayLike, settings: LearningSettings, *,
                     compression: ArrayLike | None = None, validation: ArrayLike | None = None,
                     correlation: ArrayLike | None = None,
                     initial_atoms: ArrayLike | None = None) -> DictionaryRun:
    """Learn atoms from compressed patches and recover them in pixel space.

    Parameters
    ----------
    train : ndarray of shape (n_train, n_pixels)
        Training patches (pixel space, already whitened / normalised).
    settings : LearningSettings
    compression : ndarray of shape (n_measurements, n_pixels), optional
        Φ; None means no compression (Φ = I).
    validation : ndarray of shape (n_validation, n_pixels), optional
        Held-out patches for the pixel-space loss and the code statistics.
    correlation : ndarray of shape (n_correlation, n_pixels), optional
        Patches for recovering Ψ when compressed; required then.
    initial_atoms : ndarray of shape (n_pixels, n_atoms), optional
        Pixel-space starting dictionary Ψ0 (default: Gaussian, seeded);
        Θ0 = ΦΨ0 with unit-norm columns.

    Returns
    -------
    DictionaryRun

    Raises
    ------
    InputError
        On bad inputs; and naming ``tau`` when the penalty leaves nothing to learn
        from: no training patch has a non-zero code in an epoch (the dictionary
        then never changes), the dictionary is unchanged after training, or no
        correlation or validation patch has a non-zero code.  The message gives
        the largest ``|Θᵀy|`` over the patches: every code is zero for a ``tau`` at
        or above it.

    Notes
    -----
    The numba kernels (inference, statistics) run on ``NUMBA_NUM_THREADS``
    threads; BLAS is held to one thread inside (its products here are small,
    ``n_atoms²`` and ``batch × n_atoms``): with both pools busy-waiting on the
    same cores, learning on 2 threads was 2.3 times slower than on 1 (measured
    on 2 cores; numba 2 + BLAS 1 was the fastest).
    """
    train = as_float_array(train, "train", 2, allow_empty=False)
    n_pixels = train.shape[1]
    phi_matrix = None if compression is None else as_float_array(compression, "compression", 2)
    if phi_matrix is not None and phi_matrix.shape[1] != n_pixels:
        raise InputError("compression",
                         f"has {phi_matrix.shape[1]} columns for {n_pixels}-pixel patches")
    if phi_matrix is not None and correlation is None:
        raise InputError("correlation",
                         "patches are needed to recover pixel-space atoms from compressed ones")
    sets = {}
    for name, patches in (("validation", validation), ("correlation", correlation)):
        if patches is not None:
            sets[name] = as_float_array(patches, name, 2, allow_empty=False)
            if sets[name].shape[1] != n_pixels:
                raise InputError(name, f"patches have {sets[name].shape[1]} pixels, training "
                                 f"patches {n_pixels}")
    rng = np.random.default_rng(settings.seed)
    if initial_atoms is None:
        initial_atoms = rng.standard_normal((n_pixels, settings.n_atoms))
    initial_atoms = as_float_array(initial_atoms, "initial_atoms", 2)
    if initial_atoms.shape != (n_pixels, settings.n_atoms):
        raise InputError("initial_atoms",
                         f"shape {initial_atoms.shape}, expected {(n_pixels, settings.n_atoms)}")

    with threadpool_limits(limits=1, user_api="blas"):
        return _learn(train, settings, phi_matrix, sets, initial_atoms, rng)


def _learn(train: NDArray[np.float64], settings: LearningSettings,
           phi_matrix: NDArray[np.float64] | None, sets: dict[str, NDArray[np.float64]],
           initial_atoms: NDArray[np.float64], rng: np.random.Generator) -> DictionaryRun:
    """:func:`learn_dictionary` on checked inputs."""
    measured, _ = _measure(train, phi_matrix, settings.normalise_measurements)
    atoms = unit_norm((initial_atoms.T @ phi_matrix.T) if phi_matrix is not None
                      else initial_atoms.T)
    start_atoms = atoms.copy()
    learner = _Learner(atoms, settings, rng)
    evaluation = _Evaluation(train, sets.get("validation"), settings)
    if phi_matrix is not None:
        # A code of y = Φx / ‖Φx‖ describes the patch x / ‖Φx‖: recover Ψ from those.
        correlation_measured, scales = _measure(sets["correlation"], phi_matrix,
                                                settings.normalise_measurements)
        correlation_patches = sets["correlation"] * scales[:, None]

    history: dict[str, list[float]] = {name: [] for name in DictionaryRun.EPOCH_COLUMNS}
    phi_history = []
    elapsed = 0.0
    for epoch in range(settings.n_epochs):
        started = time.perf_counter()
        train_loss, rate = learner.epoch(measured, epoch)
        elapsed += time.perf_counter() - started
        if learner.n_active == 0:
            raise _tau_too_large(settings.tau, measured, learner.atoms,
                                 f"no training patch has a non-zero code in epoch {epoch + 1}, "
                                 "so the dictionary learns nothing")
        if phi_matrix is None:
            pixel_atoms = learner.atoms
        else:
            pixel_atoms = recover_atoms(correlation_patches, correlation_measured, learner.atoms,
                                        settings)
        phi_history.append(pixel_atoms.T.copy())
        scores = evaluation.score(pixel_atoms)
        if epoch == settings.n_epochs - 1 and evaluation.validation is not None \
                and not np.any(evaluation.last_codes):
            raise _tau_too_large(settings.tau, evaluation.validation, pixel_atoms,
                                 "no validation patch has a non-zero code with the learned "
                                 "dictionary")
        epoch_values = dict(scores, learning_rate=rate, time=elapsed, train_loss=train_loss)
        for name, value in epoch_values.items():
            if name in history:
                history[name].append(value)
        log.info(
            "epoch %d/%d: train loss %.5f, validation loss %.5f (PCA error %.5f at %.1f "
            "non-zeros), %.1f s, %.0f patches/s",
            epoch + 1, settings.n_epochs, train_loss, scores["val_loss"], scores["pca_error"],
            scores["n_active"], elapsed, (epoch + 1) * len(train) / max(elapsed, 1e-12),
        )
    if np.array_equal(learner.atoms, start_atoms):
        raise _tau_too_large(settings.tau, measured, learner.atoms,
                             "the dictionary is unchanged after training")
    return DictionaryRun(
        phi=np.stack(phi_history),
        theta=np.ascontiguousarray(learner.atoms.T),
        codes=evaluation.last_codes,
        **{name: np.asarray(values, dtype=float) for name, values in history.items()},
    )


def recover_atoms(patches: NDArray[np.float64], measured: NDArray[np.float64],
                  atoms: NDArray[np.float64], settings: LearningSettings) -> NDArray[np.float64]:
    """Pixel-space atoms ``Ψ = B A⁺`` from compressed-space atoms.

    Parameters
    ----------
    patches : ndarray of shape (n, n_pixels)
        Correlation patches, pixel space, scaled like their measurements (with
        ``normalise_measurements``, ``x / ‖Φx‖``: the code of a unit-norm ``y``
        describes that patch).
    measured : ndarray of shape (n, n_measurements)
        The same patches compressed: ``Φ patches``.
    atoms : ndarray of shape (n_atoms, n_measurements)
        Θ's columns as rows.
    settings : LearningSettings
        ``tau``, ``solver``, ``tol`` and ``max_iter`` of the inference.

    Returns
    -------
    pixel_atoms : ndarray of shape (n_atoms, n_pixels)
        Unit-norm rows (an atom no correlation code uses stays 0).
    """
    codes = _encode(measured, atoms, settings)[0]
    if not np.any(codes):
        raise _tau_too_large(settings.tau, measured, atoms,
                             "no correlation patch has a non-zero code, so no pixel-space atom "
                             "can be recovered")
    usage = codes.T @ codes
    products = codes.T @ patches
    return unit_norm(np.linalg.pinv(usage, hermitian=True) @ products)


def _tau_too_large(tau: float, signals: NDArray[np.float64], atoms: NDArray[np.float64],
                   what: str) -> InputError:
    """The InputError (naming ``tau``) of a penalty that leaves every code zero.

    A code of ``y`` against unit-norm atoms is all zero exactly when ``tau >=
    max_k |θ_k · y|``; the largest of these over ``signals`` (n, F) is the scale to
    compare ``tau`` with.
    """
    scale = float(np.abs(signals @ atoms.T).max(initial=0.0)) if len(signals) else 0.0
    return InputError(
        "tau",
        f"{tau:g} is too large for these patches: {what}. A code is non-zero only where "
        f"|atom · patch| exceeds tau, and its largest value over the patches is "
        f"{scale:.3g}; use a tau well below that (e.g. {0.1 * scale:.2g})",
    )


class _Learner:
    """Θ (as rows) and the state of its update rule across batches."""

    def __init__(self, atoms: NDArray[np.float64], settings: LearningSettings,
                 rng: np.random.Generator) -> None:
        self.atoms = atoms
        self.settings = settings
        self.rng = rng
        self.step = 0
        n_atoms, n_features = atoms.shape
        self.usage = np.zeros((n_atoms, n_atoms))
        self.products = np.zeros((n_atoms, n_features))
        self.n_active = 0  # non-zero codes in the last epoch

    def epoch(self, measured: NDArray[np.float64], epoch: int) -> tuple[float, float]:
        """One pass over ``measured`` (n, n_features) in a seeded order; returns
        (mean training loss, learning rate or NaN).
        """
        settings = self.settings
        rate = (settings.learning_rate * settings.decay**epoch if settings.update == "gradient"
                else np.nan)
        order = self.rng.permutation(len(measured))
        total = 0.0
        self.n_active = 0
        for start in range(0, len(order), settings.batch_size):
            batch = measured[np.sort(order[start:start + settings.batch_size])]
            codes, loss = _encode(batch, self.atoms, settings)
            total += loss.sum()
            self.n_active += int(np.count_nonzero(codes))
            if settings.update == "gradient":
                self._gradient_step(batch, codes, rate)
            else:
                self._online_step(batch, codes)
        return total / len(measured), rate

    def _gradient_step(self, batch: NDArray[np.float64], codes: NDArray[np.float64],
                       rate: float) -> None:
        residual = batch - codes @ self.atoms
        self.atoms = unit_norm(self.atoms + rate * (codes.T @ residual))

    def _online_step(self, batch: NDArray[np.float64], codes: NDArray[np.float64]) -> None:
        """Mairal et al.'s update with scikit-learn's forgetting factor (from the
        configured batch size, also for a shorter last batch).
        """
        size = self.settings.batch_size
        if self.step < size - 1:
            theta = (self.step + 1) * size
        else:
            theta = size**2 + self.step + 1 - size
        beta = (theta + 1 - size) / (theta + 1)
        self.step += 1
        kernels.accumulate_statistics(codes, batch, self.usage, self.products, beta,
                                      1.0 / len(batch))
        unused = kernels.update_atoms_bcd(self.atoms, self.usage, self.products)
        for k in np.flatnonzero(unused):
            self.atoms[k] = _redraw(batch, self.rng)


def _redraw(batch: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    """A unit-norm atom from a random patch of the batch plus 1 % noise."""
    atom = batch[rng.integers(len(batch))].copy()
    scale = atom.std() or 1.0
    atom += rng.normal(0.0, 0.01 * scale, size=atom.shape)
    return atom / (np.linalg.norm(atom) or 1.0)


class _Evaluation:
    """Validation loss, code statistics and the PCA baseline of one epoch."""

    def __init__(self, train: NDArray[np.float64], validation: NDArray[np.float64] | None,
                 settings: LearningSettings) -> None:
        self.validation = validation
        self.settings = settings
        self.last_codes = np.zeros((0, settings.n_atoms))
        if validation is not None:
            second_moment = train.T @ train / len(train)
            eigenvalues, axes = np.linalg.eigh(second_moment)
            self.axes = axes[:, ::-1]
            # Residual energy of the validation patches after k principal axes, k = 0..N.
            projections = validation @ self.axes
            captured = np.concatenate([[0.0], np.cumsum(np.mean(projections**2, axis=0))])
            self.pca_errors = 0.5 * (np.mean(np.sum(validation**2, axis=1)) - captured)

    def score(self, pixel_atoms: NDArray[np.float64]) -> dict[str, float]:
        nan = float("nan")
        if self.validation is None:
            return dict.fromkeys(("val_loss", "val_error", "pca_error", "n_active",
                                  "fraction_nonzero", "mean_abs_code", "kurtosis"), nan)
        settings = self.settings
        codes, loss = _encode(self.validation, pixel_atoms, settings)
        self.last_codes = codes[:_KEPT_CODES].copy()
        val_loss = float(np.mean(loss))
        error = val_loss - settings.tau * float(np.mean(np.abs(codes).sum(axis=1)))
        sparsity = code_sparsity(codes)
        k = min(int(round(sparsity.mean_active)), len(self.pca_errors) - 1)
        return {
            "val_loss": val_loss,
            "val_error": error,
            "pca_error": float(self.pca_errors[k]),
            "n_active": sparsity.mean_active,
            "fraction_nonzero": sparsity.fraction_nonzero,
            "mean_abs_code": sparsity.mean_abs,
            "kurtosis": sparsity.kurtosis,
        }


def _measure(patches: NDArray[np.float64], compression: NDArray[np.float64] | None,
             normalise: bool) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``y = Φx`` for every patch (rows), optionally scaled to unit norm.

    Returns (measurements (n, n_features), the factor each row was scaled by (n,)).
    """
    measured = patches if compression is None else patches @ compression.T
    scales = np.ones(len(measured))
    if normalise:
        norms = np.sqrt(np.einsum("ij,ij->i", measured, measured))
        scales = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0.0)
        measured = measured * scales[:, None]
    return np.ascontiguousarray(measured), scales


def run_summary(name: str, run: DictionaryRun, patch_shape: int | Sequence[int]) -> dict[str, Any]:
    """One table row for a run: final losses, code statistics and atom shapes.

    Wall-clock time is left out (it differs between runs; see
    :attr:`DictionaryRun.time`).

    Parameters
    ----------
    name : str
        Run name, ``<scheme>-J<J>-<solver>``.
    run : DictionaryRun
    patch_shape : int or tuple of int

    Returns
    -------
    row : dict
        ``run``, ``epochs``, the last epoch's ``train_loss``, ``val_loss``,
        ``val_error``, ``pca_error``, ``n_active``, ``fraction_nonzero``,
        ``mean_abs_code``, ``kurtosis``, the first epoch's validation loss
        (``val_loss_first``) and :func:`sparsefield.sparse.atoms.atom_summary`'s
        fractions and medians of the last epoch's atoms.
    """
    from sparsefield.sparse.atoms import atom_summary

    row = {"run": name, "epochs": int(run.phi.shape[0])}
    for column in DictionaryRun.EPOCH_COLUMNS:
        if column not in ("time", "learning_rate"):
            row[column] = float(getattr(run, column)[-1])
    row["val_loss_first"] = float(run.val_loss[0])
    shapes = atom_summary(run.phi[-1], patch_shape)
    row.update({key: float(value) for key, value in shapes.to_dict().items()})
    return row
