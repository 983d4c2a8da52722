"""numba, with its code-generation target pinned so that results do not depend on where
a kernel was compiled.

Every kernel module imports numba from here (``from sparsefield._numba import numba``).

Why: with numba's default target (the host CPU by name, AVX-512 features included), a
kernel compiled in the running process and the same kernel loaded from numba's cache
(``cache=True``) gave results that differ in the last bits wherever ``fastmath`` lets
LLVM reorder a reduction: the lasso path's intercepts by ~1e-13 on the tiny test
config, so the first run of a fresh checkout (kernels compiled inside the jobs) and
every later run (kernels from the cache) wrote different bytes.  With the generic CPU
name and the host's own features minus AVX-512 / AMX (AVX2 and FMA kept where the CPU
has them), both give the same bytes, and the per-unit lasso path is as fast (measured
here on 20000 x 300 frames: 10.6 s vs 10.1 s, within the noise).  A user's own
``NUMBA_CPU_NAME`` or ``NUMBA_CPU_FEATURES`` is left alone.  Numba keys its cache on the
target, so caches of another target are not reused.
"""

import os
import sys

#: Feature-name prefixes left out of the target: the 512-bit vector and matrix
#: extensions, whose code differs between numba's in-process and cached compilation.
WIDE_FEATURES = ("avx512", "avx10", "amx", "evex512")


def target_features() -> str:
    """The host CPU's features as an LLVM feature string, minus :data:`WIDE_FEATURES`.

    Returns
    -------
    str
        ``"+sse2,+avx2,-avx512f,..."``.
    """
    import llvmlite.binding as llvm

    features = llvm.get_host_cpu_features()
    return ",".join(("+" if enabled and not name.startswith(WIDE_FEATURES) else "-") + name
                    for name, enabled in sorted(features.items()))


def pin_target() -> None:
    """Set ``NUMBA_CPU_NAME=generic`` and ``NUMBA_CPU_FEATURES`` (:func:`target_features`)
    unless the user set either; if numba's config was already read, read it again.
    """
    if "NUMBA_CPU_NAME" in os.environ or "NUMBA_CPU_FEATURES" in os.environ:
        return
    os.environ["NUMBA_CPU_NAME"] = "generic"
    os.environ["NUMBA_CPU_FEATURES"] = target_features()
    config = sys.modules.get("numba.core.config")
    if config is not None:
        config.reload_config()


pin_target()

import numba  # noqa: E402  (after the target is pinned)

__all__ = ["numba"]
