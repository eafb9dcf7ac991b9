#!/usr/bin/env bash
# Make a folder of wheels that installs brim on an offline GPU machine whose Python already
# holds the scientific stack, CuPy and torch (a CUDA image) but not brim: brim's own wheel plus
# the pure-Python dependencies such images usually lack.  scripts/gpu_check.sh installs them
# when BRIM_WHEELS points at the folder.
#
#   scripts/gpu_wheels.sh [DIR]        (default: .whl, ignored by git)
#
# Needs pip access to a package index on the machine that runs it.  The wheels are pure Python,
# so they serve any CPython >= 3.11 on any platform.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.whl}
py=${PYTHON:-python3}
rm -rf "$dir"
mkdir -p "$dir"
"$py" -m pip wheel -q --no-deps -w "$dir" .
# The versions the test suite runs with on the CPU machines.
"$py" -m pip download -q --no-deps --only-binary=:all: -d "$dir" \
    "h5netcdf==1.8.3" "array-api-compat==1.16.0"
ls -l "$dir"
