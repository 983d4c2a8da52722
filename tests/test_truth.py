"""Truth archives are checked at load time: a missing array, a wrong map size or lags
the truth does not cover are errors naming the file and the unit."""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.rf.simulate_session import session_models, simulate_session
from sparsefield.rf.truth import TRUTH_ARRAYS, check_truth, read_truth


def _one_unit():
    return {"spatial": np.zeros(30), "lags": np.arange(8), "temporal_lags": np.ones(8),
            "sta_taus": np.linspace(0, 0.5, 11), "sta_temporal": np.zeros(11)}


def test_a_complete_one_unit_truth_passes(tmp_path):
    path = tmp_path / "truth.npz"
    np.savez(path, **_one_unit())
    check_truth(path, read_truth(path), [1], 30, lags=[0, 1, 7])


@pytest.mark.parametrize("name", TRUTH_ARRAYS)
def test_each_missing_array_is_named(name):
    truth = _one_unit()
    del truth[name]
    with pytest.raises(InputError, match=f"truth.npz: has no array {name} "):
        check_truth("truth.npz", truth, [1], 30)


def test_session_truth_names_the_unit():
    truth = {"unit_ids": np.array([3, 5])}
    for unit in (3, 5):
        truth.update({f"u{unit}_{key}": value for key, value in _one_unit().items()})
    check_truth("t.npz", truth, [3, 5], 30, lags=[0, 2])
    del truth["u5_sta_taus"]
    with pytest.raises(InputError, match="unit 5: has no array u5_sta_taus"):
        check_truth("t.npz", truth, [3, 5], 30)
    with pytest.raises(InputError, match=r"has no truth for units \[9\]"):
        check_truth("t.npz", truth, [3, 9], 30)


def test_wrong_map_size_and_uncovered_lags():
    with pytest.raises(InputError, match="spatial has 30 values but the stimulus has 300 pixels"):
        check_truth("t.npz", _one_unit(), [1], 300)
    with pytest.raises(InputError, match=r"fitted lags \[8, 9\] are not in the truth's lags \(0..7\)"):
        check_truth("t.npz", _one_unit(), [1], 30, lags=range(10))


def test_not_an_npz(tmp_path):
    path = tmp_path / "truth.npz"
    path.write_bytes(b"junk")
    with pytest.raises(InputError, match="cannot be read as a truth archive"):
        read_truth(path)


def test_the_simulated_session_truth_passes():
    """What the simulation writes is what the check asks for (same layout as the
    workflow's simulate_session rule)."""
    models = session_models((6, 5), n_units=4, n_frames=300, seed=3)
    raw, truths = simulate_session(models, n_frames=300, frame_shape=(6, 5),
                                   mean_frame_duration=0.2, seed=3)
    truth = {"unit_ids": np.asarray(raw["unit_ids"], dtype=np.int64)}
    for unit_id, arrays in truths.items():
        truth.update({f"u{unit_id}_{key}": value for key, value in arrays.items()})
    n_pixels = 6 * 5
    check_truth("t.npz", truth, raw["unit_ids"], n_pixels, lags=[0, 1, 2, 3, 4])
