"""The scikit-learn way: PoissonLassoCV on a simulated neuron's frames.

``sparsefield.rf.PoissonLassoCV`` wraps ``sparsefield.rf.lasso_cv.lasso_cv``: ``X`` holds
one stimulus frame per row (centred), ``y`` the spike counts of the same frames (the
neuron's latency is shorter than a frame, so lag 0), and ``exposure`` the frame
durations. The penalty is chosen by 5-fold cross-validation over contiguous blocks of
frames with the one-standard-error rule; ``coef_`` is the receptive field at that
penalty and ``score`` the mean Poisson log-likelihood per frame.
"""

import numpy as np

from sparsefield.rf import PoissonLassoCV
from sparsefield.rf.binning import bin_spikes
from sparsefield.rf.metrics import correlation
from sparsefield.rf.neuron import NeuronModel
from sparsefield.rf.simulate import simulate_recording


def main() -> dict:
    """Run the example; print its results and return them."""
    model = NeuronModel(kind="gaussian", center_row=3.0, center_col=6.0, sigma=1.3,
                        latency=0.08, gain=1.0)
    n_frames = 2500
    raw, truth = simulate_recording(model, n_frames=n_frames, frame_shape=(10, 10), seed=7)
    binned = bin_spikes(raw["spike_times"], raw["trigger_times"])
    X = raw["stimulus_hwt"][:, :, :n_frames].transpose(2, 0, 1).reshape(n_frames, -1)
    X = X - X.mean(axis=0)

    # Train on the first 80 % of the frames, score on the last 20 %.
    split = int(0.8 * n_frames)
    estimator = PoissonLassoCV(n_lambdas=10, n_folds=5, rule="1se")
    estimator.fit(X[:split], binned.counts[:split], exposure=binned.durations[:split])
    held_out = estimator.score(X[split:], binned.counts[split:],
                               exposure=binned.durations[split:])

    result = {
        "alpha": float(estimator.alpha_),
        "n_nonzero": int(np.count_nonzero(estimator.coef_)),
        "spatial_corr": correlation(estimator.coef_, truth["spatial"]),
        "held_out_loglik": float(held_out),
        "rate_hz": float(np.exp(estimator.intercept_)),
    }
    print(f"alpha_ = {result['alpha']:.3e} (grid {estimator.alphas_[0]:.3e} ... "
          f"{estimator.alphas_[-1]:.3e}); {result['n_nonzero']} of {X.shape[1]} weights "
          "non-zero")
    print(f"spatial correlation with the truth {result['spatial_corr']:.3f}; held-out "
          f"log-likelihood {result['held_out_loglik']:.4f} nats per frame; "
          f"baseline rate {result['rate_hz']:.1f} Hz")
    return result


if __name__ == "__main__":
    main()
