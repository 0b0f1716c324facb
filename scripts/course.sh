#!/usr/bin/env bash
# Set up the course and open it in JupyterLab on the course map.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e .
exec python3 -m jupyter lab notebooks/00-course-map.ipynb "$@"
