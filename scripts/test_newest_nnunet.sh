#!/usr/bin/env bash
# Does nnunet_weak work with the newest nnunetv2 release, past the upper bound pinned in pyproject.toml?
#
#   scripts/test_newest_nnunet.sh                 # throwaway venv in a temporary folder, removed at the end
#   scripts/test_newest_nnunet.sh -k geodesic     # extra arguments go to pytest
#   VENV=/tmp/upstream scripts/test_newest_nnunet.sh   # keep (and reuse) the venv
#
# It builds a fresh virtual environment, installs this package with its test extras (the pinned
# nnunetv2 and the rest), then upgrades nnunetv2 alone to the newest release on PyPI, ignoring
# our pin (pip warns about the conflict; with the release's own new dependencies), and runs the
# fast tests (-m "not slow") on one thread. Exit status: pytest's. When it passes on a new minor,
# raise the bound in pyproject.toml; when it fails, the failures say what upstream changed.
# Costs a PyTorch download (several GB) unless pip's cache has it.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VENV:-}
if [ -z "$venv" ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  venv="$scratch/venv"
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"

echo "+ installing nnunet_weak into $venv"
"$venv/bin/pip" install -q ".[test]"
echo "+ upgrading nnunetv2 past the pin"
"$venv/bin/pip" install -q --upgrade nnunetv2  # pip warns about the pin conflict and goes on
pinned=$(grep -o '"nnunetv2[^"]*"' pyproject.toml)
echo "nnunetv2 $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("nnunetv2"))') (pyproject: $pinned)"

export nnUNet_weak_threads=1 nnUNet_n_proc_DA=0 OMP_NUM_THREADS=1
"$venv/bin/python" -m pytest -q -m "not slow" "$@"
