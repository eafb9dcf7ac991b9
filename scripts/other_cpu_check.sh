#!/usr/bin/env bash
# Run the test suite as if on another CPU: a test that compares floats bit for bit with a file
# made on this machine fails here the way it would fail on a CI runner of another make.
#
#   scripts/other_cpu_check.sh [avx2|sse4] [PYTEST ARGS...]     (default: avx2)
#
# avx2  an AMD Zen 3-like machine: no AVX-512 anywhere
# sse4  an old or virtualised x86-64-v2 machine: no AVX at all
#
# What changes, each by its library's own switch (nothing is faked):
#   Numba       NUMBA_CPU_NAME             compiles every kernel for that CPU (its cache is per CPU)
#   NumPy       NPY_DISABLE_CPU_FEATURES   turns off the SIMD loops above the chosen level
#   OpenBLAS    OPENBLAS_CORETYPE          picks that CPU's BLAS kernels (SciPy's too)
#   PyTorch     ATEN_CPU_CAPABILITY        picks the ATen kernels of that level
# `np.show_runtime()` under the same variables shows the NumPy features that stay on.
# Run it from the repository root with brim installed (README, command 1). The whole suite takes
# about twice its usual time (the kernels are compiled again, and run slower).
set -euo pipefail
cd "$(dirname "$0")/.."
level=${1:-avx2}
[ $# -gt 0 ] && shift
case "$level" in
    avx2)
        export NUMBA_CPU_NAME=znver3 OPENBLAS_CORETYPE=Zen ATEN_CPU_CAPABILITY=avx2
        export NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"
        ;;
    sse4)
        export NUMBA_CPU_NAME=nehalem OPENBLAS_CORETYPE=Nehalem ATEN_CPU_CAPABILITY=default
        export NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR"
        ;;
    *)
        echo "usage: scripts/other_cpu_check.sh [avx2|sse4] [PYTEST ARGS...]" >&2
        exit 2
        ;;
esac
python -c "import numpy as np; np.show_runtime()" 2>/dev/null | grep -A3 simd_extensions || true
exec pytest "$@"
