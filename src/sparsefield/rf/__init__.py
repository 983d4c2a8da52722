"""Receptive fields from spikes: binning, Poisson ML fits, separation, STA, simulation.

The scikit-learn estimators (:mod:`sparsefield.rf.estimators_glm`,
:mod:`sparsefield.rf.estimators_lasso`) are exported here lazily (PEP 562):
``from sparsefield.rf import PoissonGLM`` imports scikit-learn and the fitting
modules on first use, so that ``import sparsefield.rf`` stays cheap.
"""

import importlib
from typing import Any

#: Lazily exported names and the module that defines each.
_LAZY = {
    "PoissonGLM": "sparsefield.rf.estimators_glm",
    "PoissonLasso": "sparsefield.rf.estimators_lasso",
    "PoissonLassoCV": "sparsefield.rf.estimators_lasso",
    "PopulationPoissonLassoCV": "sparsefield.rf.estimators_lasso",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    """Import a lazily exported name on first access (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy exports included."""
    return sorted(set(globals()) | set(__all__))
