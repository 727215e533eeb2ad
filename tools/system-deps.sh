#!/usr/bin/env bash
# The Debian runtime libraries Qt needs. As root: installs the missing ones. Otherwise: prints the
# exact apt-get line and fails, so nobody meets an obscure "could not load the Qt platform plugin".
#   tools/system-deps.sh test   offscreen only (make test, CI)
#   tools/system-deps.sh run    plus a real window on X11 (make run)
#   tools/system-deps.sh screenshots   plus a virtual X server (make screenshots)
set -euo pipefail
mode=${1:-run}

# libpulse0: QtTextToSpeech (read aloud) and Qt Virtual Keyboard load it, even when silent.
# libcups2: Qt's printing (the staff console prints consents).
packages=(libglib2.0-0 libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libxkbcommon0 libpulse0
          libcups2)
if [ "$mode" = test ]; then
  # A second reader for every PDF the tests make: poppler's pdfsig/pdffonts/pdftoppm, qpdf --check.
  packages+=(poppler-utils qpdf)
  # A real CUPS (lp and a private cupsd the printing tests start) to print consents through.
  packages+=(cups-client cups-daemon)
  # A real X server and a second X client: the idle wipe must empty the PRIMARY selection.
  packages+=(xvfb xauth xclip)
fi
if [ "$mode" = run ] || [ "$mode" = screenshots ] || [ "$mode" = test ]; then
  packages+=(libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
             libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0)
fi
if [ "$mode" = screenshots ]; then
  packages+=(xvfb xauth)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "system-deps: not a Debian system; make sure Qt's runtime libraries are installed." >&2
  exit 0
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  packages+=(python3-venv)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "system-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "system-deps: these Debian packages are missing. Please run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
