"""Frame lags from a window of delays in seconds, and edge flags for summaries."""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.rf.lags import edge_lag_flags, lags_from_window


@pytest.mark.parametrize(
    "window, frame_duration, expected",
    [
        ((0, 0.3), 0.2, np.arange(5)),  # [0, 1] extended to 5 lags
        ((0, 0.3), 1 / 120, np.arange(37)),
        ((0, 0.3), 1 / 60, np.arange(19)),
        ((0.0, 1.0), 0.2, np.arange(6)),  # 1.0 / 0.2 = 5 (lag 5 starts at 1.0 s)
        ((0.1, 0.3), 0.1, np.arange(1, 6)),  # 0.1 / 0.1 and 0.3 / 0.1 despite rounding
        ((0.25, 0.25), 0.2, np.arange(1, 6)),
    ],
)
def test_known_answers(window, frame_duration, expected):
    lags = lags_from_window(window, frame_duration)
    np.testing.assert_array_equal(lags, expected)
    assert lags.dtype == np.int64


def test_min_lags_and_rounding_tolerance():
    np.testing.assert_array_equal(lags_from_window((0, 0.3), 0.2, min_lags=1), [0, 1])
    np.testing.assert_array_equal(lags_from_window((0, 0.3), 1 / 120, min_lags=40),
                                  np.arange(40))
    # Just below a lag start (beyond the 1e-9 s tolerance) does not include it.
    assert lags_from_window((0, 0.3 - 1e-6), 1 / 120, min_lags=1)[-1] == 35
    assert lags_from_window((0, 0.3 - 1e-12), 1 / 120, min_lags=1)[-1] == 36


@pytest.mark.parametrize(
    "arguments, message",
    [
        (((0.3, 0.1), 0.2), "window stop"),
        (((-0.1, 0.3), 0.2), "window start"),
        (((0, np.nan), 0.2), "window stop"),
        (((0, 0.3, 0.5), 0.2), r"window: expected \(start_s, stop_s\)"),
        ((0.3, 0.2), r"window: expected \(start_s, stop_s\)"),
        (((0, 0.3), 0.0), "frame_duration"),
        (((0, 0.3), 0.2, 0), "min_lags"),
        ((("0", "0.3"), 0.2), "window start"),
    ],
)
def test_bad_windows_are_refused(arguments, message):
    with pytest.raises(InputError, match=message):
        lags_from_window(*arguments)


def test_edge_flags():
    assert edge_lag_flags(0, 5) == "first"
    assert edge_lag_flags(4, 5) == "last"
    assert edge_lag_flags(2, 5) == ""
    assert edge_lag_flags(np.int64(0), 1) == ""  # a single position is no edge
    assert edge_lag_flags(0, 5, first_is_edge=False) == ""
    assert edge_lag_flags(4, 5, first_is_edge=False) == "last"
    assert isinstance(edge_lag_flags(3, 5), str)
    flags = edge_lag_flags(np.array([0, 1, 4, -1]), 5)
    np.testing.assert_array_equal(flags, ["first", "", "last", ""])


def test_edge_flags_bad_input():
    with pytest.raises(InputError, match="best_index: positions must be below n_lags = 5"):
        edge_lag_flags(5, 5)
    with pytest.raises(InputError, match="best_index: expected integer"):
        edge_lag_flags(1.0, 5)
    with pytest.raises(InputError, match="n_lags"):
        edge_lag_flags(0, 0)
