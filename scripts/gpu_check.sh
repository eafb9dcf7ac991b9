#!/usr/bin/env bash
# brim's GPU checks in one run: the `gpu`-marked tests (CuPy against the CPU kernels), then the
# benchmarks that have a GPU row, each beside its CPU baseline timed in the same run.
#
#   scripts/gpu_check.sh [OUTDIR]      (default: gpu-check/ in the repository)
#
# OUTDIR receives env.txt (GPU, driver, library versions), gpu_tests.log, gpu_tests.xml (JUnit)
# and one log per benchmark.  brim must import with CuPy and see a CUDA device.  On an offline
# machine whose Python holds the scientific stack and CuPy but not brim, make a wheel folder
# with scripts/gpu_wheels.sh where pip works, copy it over and set BRIM_WHEELS to it: the wheels
# are installed into a private folder put first on PYTHONPATH, nothing else is touched.
# PYTHON picks the interpreter (default python3); BENCH_TIMEOUT bounds each benchmark (s).
#
# Exit status: 3 when no GPU is usable (nothing is run, so a GPU-less machine cannot pass for
# one); 4 when the tests passed but some GPU test was skipped; else that of the tests (non-zero
# when one failed).  A benchmark that fails or runs out
# of time is reported in its log and in the summary, and does not change the status.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/gpu-check}
py=${PYTHON:-python3}
bench_timeout=${BENCH_TIMEOUT:-240}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$repo" || exit 1

if [ -n "${BRIM_WHEELS:-}" ]; then
    site=$(mktemp -d)
    "$py" -m pip install -q --no-index --no-deps --no-compile --target "$site" "$BRIM_WHEELS"/*.whl \
        || { echo "gpu_check: installing the wheels in $BRIM_WHEELS failed" >&2; exit 1; }
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1

# -P: the repository root must not shadow the installed brim (its folders are mapped on install).
{
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1
    "$py" -P - <<'PY'
import platform

import numpy

import brim
from brim.backend import cupy_available

print("python", platform.python_version(), "| numpy", numpy.__version__, "| brim", brim.__version__,
      "from", brim.__file__)
if cupy_available():
    import cupy

    dev = cupy.cuda.runtime.getDeviceProperties(0)
    print("cupy", cupy.__version__, "| CUDA runtime", cupy.cuda.runtime.runtimeGetVersion(),
          "|", dev["name"].decode(), "| SMs", dev["multiProcessorCount"])
else:
    print("cupy: not usable")
PY
} 2>&1 | tee "$out/env.txt"

if ! "$py" -P -c "import sys; from brim.backend import cupy_available; sys.exit(not cupy_available())"; then
    echo "gpu_check: no CUDA GPU usable through CuPy here; nothing was run" >&2
    exit 3
fi

# The GPU tests, with the project's addopts spelled out (a CUDA image may lack optional plugins).
"$py" -P -m pytest -m gpu -p no:cacheprovider -o addopts="" -ra --strict-markers \
    --import-mode=importlib --junitxml="$out/gpu_tests.xml" tests 2>&1 | tee "$out/gpu_tests.log"
status=${PIPESTATUS[0]}
# On a GPU machine a skipped GPU test is a check not done: count it as a failure.
skipped=$("$py" -c "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); \
s = r if r.tag == 'testsuite' else r[0]; print(s.get('skipped', '0'))" "$out/gpu_tests.xml" 2>/dev/null)
if [ "$status" -eq 0 ] && [ "${skipped:-1}" != "0" ]; then
    echo "gpu_check: ${skipped:-?} GPU test(s) skipped on a GPU machine; see gpu_tests.log" >&2
    status=4
fi

summary=()
bench() {  # bench NAME ARGS...: one benchmark, time-limited, its output in OUTDIR/NAME.log
    local name=$1
    shift
    echo "== $name: $*" | tee "$out/$name.log"
    timeout "$bench_timeout" "$py" "$@" 2>&1 | tee -a "$out/$name.log"
    local rc=${PIPESTATUS[0]}
    summary+=("$name: exit $rc$([ "$rc" -eq 124 ] && echo " (ran past ${bench_timeout} s)")")
}
bench radar benchmarks/microwave_radar.py
bench tomography_forward_cpu benchmarks/microwave_tomography.py --only-forward --backend numpy
bench tomography_forward_gpu benchmarks/microwave_tomography.py --only-forward --backend cupy
bench tomography_inverse_cpu benchmarks/microwave_tomography.py --only-inverse --backend numpy
bench tomography_inverse_gpu benchmarks/microwave_tomography.py --only-inverse --backend cupy
bench thermo_pennes benchmarks/thermo_pennes.py
bench elasto_displacement benchmarks/elasto_displacement.py --quick

{
    echo "== summary"
    echo "gpu tests: exit $status"
    printf '%s\n' "${summary[@]}"
} | tee "$out/summary.txt"
exit "$status"
