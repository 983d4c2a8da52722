"""Known answers on the real recording: the lag-0 ML receptive field is an ON centre at (12, 4).

Reads the MATLAB file directly with scipy.io.loadmat (independent of sparsefield.io).
Skipped when the recording is absent.
"""

import numpy as np
import pytest

from sparsefield.rf.binning import bin_spikes
from sparsefield.rf.ml import fit_ml

pytestmark = pytest.mark.realdata

HEIGHT, WIDTH = 20, 15


@pytest.fixture
def recording(real_recording):
    return (real_recording["spike_times"], real_recording["trigger_times"],
            real_recording["stimulus"])


def test_lag0_ml_rf_peaks_at_row12_col4(recording):
    spike_times, trigger_times, stimulus = recording
    assert stimulus.shape == (1489, 300)
    binned = bin_spikes(spike_times, trigger_times)
    fit = fit_ml(stimulus, binned.counts, binned.durations, lags=(0, 1, 2, 3, 4))
    assert fit.converged.all()
    lag0 = fit.weights[fit.lag_position(0)]
    assert np.argmax(lag0) == 12 * WIDTH + 4
    assert fit.best_lag == 0
    # the peak stands out: larger than any weight at the later lags
    assert lag0.max() > np.abs(fit.weights[1:]).max()
    # exp(intercept) is about the mean rate: 5493 spikes over ~321 s
    assert np.exp(fit.intercepts[0]) == pytest.approx(
        binned.counts.sum() / binned.durations.sum(), rel=0.2
    )
