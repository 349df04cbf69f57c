#!/usr/bin/env bash
# One-time set-up on a fresh machine: system packages (BART, dicom3tools, Xvfb + Mesa for napari tests),
# a virtual environment in .venv with the pinned CPU torch wheel, then this package with its napari and test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(bart dicom3tools xvfb xauth libgl1-mesa-dri libegl1 libxkbcommon-x11-0 libxcb-cursor0
  libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
  libxcb-xfixes0 libdbus-1-3 libfontconfig1)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages (install them as root): ${missing[*]}" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The CPU wheel first: a plain `torch` requirement would pull several GB of CUDA packages.
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e ".[napari,test]"
touch .venv/.installed
echo "setup: done (.venv)"
