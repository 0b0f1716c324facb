#!/usr/bin/env bash
# Set up the course and open it in JupyterLab on the course map.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e .
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)  # JupyterLab refuses root without it
exec python3 -m jupyter lab "${extra[@]}" notebooks/00-course-map.ipynb "$@"
