"""Receptive fields from sparse coding: images, patches, whitening, compression, inference,
dictionaries.

The scikit-learn estimators (:mod:`sparsefield.sparse.estimators`) are exported
here lazily (PEP 562): ``from sparsefield.sparse import DictionaryLearner``
imports scikit-learn and the learning modules on first use, so that ``import
sparsefield.sparse`` stays cheap.
"""

import importlib
from typing import Any

#: Lazily exported names and the module that defines each.
_LAZY = {
    "CompressedDictionaryLearner": "sparsefield.sparse.estimators",
    "DictionaryLearner": "sparsefield.sparse.estimators",
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
