"""Sub-frame STA of the real recording: ON centre at (12, 4), peak ~100 ms before the spike."""

import numpy as np
import pytest

from sparsefield.rf.binning import frame_edges
from sparsefield.rf.separation import separate
from sparsefield.rf.sta import spike_triggered_average

pytestmark = pytest.mark.realdata

WIDTH = 15
RF_PIXEL = 12 * WIDTH + 4  # row 12, col 4 in C order


@pytest.fixture(scope="module")
def real_sta(real_recording):
    spike_times = real_recording["spike_times"]
    stimulus = real_recording["stimulus"]
    edges = frame_edges(real_recording["trigger_times"])
    return spike_triggered_average(spike_times, edges, stimulus, tau_max=0.5, tau_step=0.01,
                                   n_shifts=200, seed=0)


def test_sta_peaks_at_the_rf_pixel_about_100_ms_before_the_spike(real_sta):
    zscore = real_sta.zscore
    assert real_sta.n_spikes == 5493
    tau_index, pixel = np.unravel_index(np.argmax(np.abs(zscore)), zscore.shape)
    assert pixel == RF_PIXEL
    assert zscore[tau_index, pixel] > 8  # ON: brighter than the null
    peak_tau = real_sta.taus[np.argmax(np.abs(zscore[:, RF_PIXEL]))]
    assert 0.06 <= peak_tau <= 0.16


def test_svd_temporal_peak_agrees(real_sta):
    separation = separate(real_sta.sta - real_sta.null_mean, centering="none")
    assert np.argmax(separation.spatial) == RF_PIXEL
    assert 0.06 <= real_sta.taus[np.argmax(separation.temporal)] <= 0.16
