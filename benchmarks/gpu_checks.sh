#!/usr/bin/env bash
# The figures and tests that need a CUDA GPU, in one go, on a machine with one.
#
#   bash benchmarks/gpu_checks.sh | tee gpu_checks.log
#
# Runs, each under a time limit so that the whole takes less than 8 minutes:
#
# 1. bench_fcm.py at Vehicle-X's full size (77,516 x 2048 float32) with torch
#    tensors on the GPU beside the NumPy path on the CPU, for c = 11 and
#    c = 1362 (one cluster per identity); with CuPy too where it is installed;
# 2. the CUDA and CuPy tests of FuzzyCMeans under array API dispatch, and the
#    CUDA tests of PruningCallback and PrunedMLPClassifier.
#
# Everything is printed on stdout. Nothing is downloaded: run it from the
# repository in the project's environment (pip install -e ".[test]" with a
# CUDA build of torch).
# PYTHON names the interpreter (default: python). The exit status is the
# number of steps that failed or ran out of time.

set -u
exec 2>&1
cd "$(dirname "$0")/.." || exit 1
PYTHON=${PYTHON:-python}
failures=0

# step SECONDS DESCRIPTION COMMAND...: run COMMAND for at most SECONDS.
step() {
    local limit=$1 description=$2
    shift 2
    echo
    echo "=== ${description} (at most ${limit} s): $*"
    local start=${SECONDS}
    timeout --kill-after=10 "${limit}" "$@"
    local status=$?
    if [ "${status}" -eq 124 ] || [ "${status}" -eq 137 ]; then
        echo "=== ${description}: ran out of time after ${limit} s"
    fi
    if [ "${status}" -ne 0 ]; then
        failures=$((failures + 1))
    fi
    echo "=== ${description}: exit status ${status}, $((SECONDS - start)) s"
}

echo "=== machine"
date -u
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv \
    || echo "nvidia-smi is not available"
if ! "${PYTHON}" -c "
import sys, torch
print('torch', torch.__version__, 'CUDA', torch.version.cuda)
if not torch.cuda.is_available():
    sys.exit('torch sees no CUDA device: the CUDA tests would only be skipped')
print(torch.cuda.get_device_name(0))
"; then
    exit 1
fi

bench_fcm=("${PYTHON}" benchmarks/bench_fcm.py --namespace torch --device cuda --peers)
step 80 "FuzzyCMeans, c=11, torch on CUDA beside NumPy" "${bench_fcm[@]}"
# One iteration costs about 120 times more at c=1362: best of one round.
step 200 "FuzzyCMeans, c=1362, torch on CUDA beside NumPy" \
    "${bench_fcm[@]}" --n-clusters 1362 --repeats 1
if "${PYTHON}" -c "import cupy" 2> /dev/null; then
    step 60 "FuzzyCMeans, c=11, CuPy beside NumPy" \
        "${PYTHON}" benchmarks/bench_fcm.py --namespace cupy --device cuda --peers
else
    echo
    echo "=== CuPy is not installed: no CuPy row"
fi

# -rs lists every skipped test with its reason: none should say "CUDA".
pytest=("${PYTHON}" -m pytest -p no:cacheprovider -v -rs -m "slow or not slow")
step 60 "array API tests on CUDA and CuPy" \
    "${pytest[@]}" tests/test_array_api.py -k "cuda or cupy"
step 40 "PruningCallback and PrunedMLPClassifier on CUDA" \
    "${pytest[@]}" tests/test_pruning.py tests/test_mlp.py -k cuda

echo
echo "=== ${failures} step(s) failed or ran out of time; ${SECONDS} s in all"
exit "${failures}"
