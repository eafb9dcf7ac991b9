#!/usr/bin/env bash
# Build the documentation site: HTML in docs/_build/html, warnings are errors.
# Every notebook of examples/ is executed (BRIM_DOCS_EXECUTE=cache re-runs only changed ones),
# then docs/check_gallery.py checks that each gallery page shows its notebook's figures.
# Usage: scripts/build_docs.sh [extra sphinx-build options]   (needs the `docs` extra)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
if [ -n "${BRIM_EXTERNAL_DATA:-}" ]; then
    # notebooks run with docs/gallery/ as their working directory: make the path absolute
    BRIM_EXTERNAL_DATA="$(cd "$BRIM_EXTERNAL_DATA" && pwd)"
    export BRIM_EXTERNAL_DATA
fi
# the gallery must show figures, whatever backend the environment chose for the tests
export MPLBACKEND="module://matplotlib_inline.backend_inline"
export PYDEVD_DISABLE_FILE_VALIDATION=1
# By default every page is read again (-E), so every notebook runs against the code as it is
# now; BRIM_DOCS_EXECUTE=cache builds incrementally and re-runs only the notebooks that changed.
fresh=()
if [ "${BRIM_DOCS_EXECUTE:-force}" = force ]; then
    fresh=(-E)
fi
sphinx-build "${fresh[@]}" -W --keep-going -q -b html docs docs/_build/html "$@"
echo "docs: built in $(( $(date +%s) - start )) s -> docs/_build/html/index.html"
python docs/check_gallery.py docs/_build/html
