"""Raised-cosine temporal bases (sparsefield.rf.basis).

Shapes, placement, coverage, the partition of unity, orthogonalisation, and the
messages on bad input.
"""

import math

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.rf.basis import (
    identity_basis,
    n_lags_for_span,
    orthonormal_columns,
    raised_cosine_basis,
)

FRAME = 1.0 / 120.0


def pillow_basis(n_bases: int, span_s: float, frame_interval_s: float, stretch: float,
                 first_lag: int = 0) -> np.ndarray:
    """The formula of notes/lab-formats.md written out independently, per element."""
    n_lags = math.ceil(round(span_s / frame_interval_s, 9)) - first_lag
    start = math.log(first_lag * frame_interval_s + stretch)
    spacing = (math.log(span_s + stretch) - start) / (n_bases + 1)
    basis = np.empty((n_lags, n_bases))
    for row in range(n_lags):
        axis = math.log((first_lag + row) * frame_interval_s + stretch)
        for j in range(n_bases):
            phase = (axis - (start + j * spacing)) * math.pi / (2 * spacing)
            basis[row, j] = 0.5 * (math.cos(max(-math.pi, min(math.pi, phase))) + 1)
    return basis


def test_120_hz_300_ms_has_36_lags_and_8_bases() -> None:
    """A 120 Hz, 0-300 ms window: 36 lags, and the bases of the notes' formula."""
    basis = raised_cosine_basis(8, 0.3, FRAME)
    assert n_lags_for_span(0.3, FRAME) == 36  # 0.3 * 120 is 36.0000...04 in floating point
    assert basis.shape == (36, 8)
    np.testing.assert_allclose(basis, pillow_basis(8, 0.3, FRAME, 0.05), atol=1e-12)


def test_bases_cover_the_span_and_decay_at_its_end() -> None:
    """Every lag is covered; the first basis peaks at lag 0, the last decays at the end."""
    basis = raised_cosine_basis(8, 0.3, FRAME)
    assert np.all(basis.sum(axis=1) > 0)  # every lag in [0, 300 ms) is covered
    assert basis[0, 0] == pytest.approx(1.0)  # the first basis peaks at lag 0
    assert 0 < basis[-1, -1] < 0.05  # the last one falls towards 0 at 300 ms
    peaks = basis.argmax(axis=0)
    assert np.all(np.diff(peaks) > 0)  # ordered by centre
    # log spacing: the gaps between peaks grow
    assert peaks[-1] - peaks[-2] > peaks[2] - peaks[1]


def test_centres_are_evenly_spaced_on_the_log_axis() -> None:
    """Centres evenly spaced in log(t + c), the last basis ending at the span."""
    # a fine time grid reads the centres off the peaks
    step, stretch = 1e-5, 0.02
    basis = raised_cosine_basis(6, 0.3, step, stretch=stretch)
    centres = basis.argmax(axis=0) * step
    gaps = np.diff(np.log(centres + stretch))
    np.testing.assert_allclose(gaps, gaps.mean(), rtol=1e-3)
    # the last basis reaches 0 exactly at the span: two spacings after its centre
    assert math.log(0.3 + stretch) == pytest.approx(math.log(centres[-1] + stretch)
                                                    + 2 * gaps.mean(), rel=1e-4)


def test_sum_is_two_between_the_second_and_second_to_last_centres() -> None:
    """Partition of unity up to a factor 2 inside the window."""
    basis = raised_cosine_basis(10, 0.5, 1e-3)
    peaks = basis.argmax(axis=0)
    inside = basis[peaks[1] + 1:peaks[-2]].sum(axis=1)  # grid points strictly inside
    np.testing.assert_allclose(inside, 2.0, atol=1e-12)
    assert basis.sum(axis=1).max() <= 2.0 + 1e-12


def test_orthogonalised_basis_is_orthonormal_with_the_same_span() -> None:
    """QR: orthonormal columns spanning the raised cosines, same orientation."""
    basis = raised_cosine_basis(8, 0.3, FRAME)
    orthogonal = raised_cosine_basis(8, 0.3, FRAME, orthogonalise=True)
    np.testing.assert_allclose(orthogonal.T @ orthogonal, np.eye(8), atol=1e-12)
    # the raised cosines are not orthogonal: neighbours overlap
    assert abs(basis[:, 0] @ basis[:, 1]) > 0.1
    projected = orthogonal @ (orthogonal.T @ basis)
    np.testing.assert_allclose(projected, basis, atol=1e-12)
    # Gram-Schmidt order: the first column points along the first bump
    assert orthogonal[:, 0] @ basis[:, 0] > 0
    np.testing.assert_allclose(orthonormal_columns(basis), orthogonal)


def test_history_basis_starts_at_lag_one() -> None:
    """A post-spike basis: rows are lags 1 .., the first basis peaks at lag 1."""
    history = raised_cosine_basis(4, 0.1, FRAME, first_lag=1)
    assert history.shape == (11, 4)  # lags 1 .. 11
    assert history[0, 0] == pytest.approx(1.0)
    np.testing.assert_allclose(history, pillow_basis(4, 0.1, FRAME, 0.1 / 6, first_lag=1),
                               atol=1e-12)


def test_identity_basis() -> None:
    """One weight per lag."""
    np.testing.assert_array_equal(identity_basis(3), np.eye(3))


@pytest.mark.parametrize(("arguments", "options", "key", "words"), [
    ((8, 0.3, FRAME), {"n_frames": 20}, "joint.span_s", "longer than the recording"),
    ((40, 0.3, FRAME), {}, "joint.n_bases", "40 bases for 36 lag"),
    ((4, 0.0, FRAME), {}, "joint.span_s", "must be a finite number > 0"),
    ((4, -0.1, FRAME), {}, "joint.span_s", "must be a finite number > 0"),
    ((4, 0.3, 0.0), {}, "joint.frame_interval_s", "> 0"),
    ((4, 0.3, FRAME), {"stretch": -1.0}, "joint.stretch", "> 0"),
    ((0, 0.3, FRAME), {}, "joint.n_bases", ">= 1"),
    ((12, 0.1, FRAME), {"first_lag": 1, "key": "joint.history"}, "joint.history.n_bases",
     "12 bases for 11 lag"),
    ((2, 0.01, FRAME), {"first_lag": 2}, "joint.span_s", "no lag from 2 on"),
    ((30, 0.3, FRAME), {"stretch": 1e-6}, "joint.n_bases", "not independent"),
])
def test_bad_input_names_the_setting(arguments: tuple, options: dict, key: str, words: str) -> None:
    """Each bad setting raises one InputError naming it."""
    with pytest.raises(InputError) as caught:
        raised_cosine_basis(*arguments, **options)
    assert caught.value.source == key
    assert words in caught.value.problem
