#!/usr/bin/env bash
# Download the wheels the sandbox image installs, for CPython 3.11 on
# manylinux x86_64, into DEST (the `wheels/` directory of the build context).
#
#   scripts/download-wheels.sh DEST [REQUIREMENT ...]
#
# Default requirements: pip pytest pytest-json-report (and, through pip's
# resolver, all their dependencies). pip is included because the Dockerfile
# runs pip straight from its wheel: Debian's python3 has no pip of its own.
# Give REQUIREMENTs to pin versions, e.g. to match the host's pytest:
#   scripts/download-wheels.sh wheels pip 'pytest==9.0.3' 'pytest-json-report==1.5.0'
#
# Uses this machine's pip configuration (index, extra indexes, find-links,
# certificates), so it works wherever `pip download` reaches a package index.
# Idempotent: pip skips wheels already in DEST. Wheels only, never an sdist:
# the image build has no compiler and no network.
# Environment: PYTHON (default python3) is the interpreter whose pip is used.
set -euo pipefail

say() { printf 'download-wheels: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ $# -ge 1 ] || die "usage: $0 DEST [REQUIREMENT ...]"
dest="$1"; shift
if [ $# -gt 0 ]; then
    requirements=("$@")
else
    requirements=(pip pytest pytest-json-report)
fi
python="${PYTHON:-python3}"

"$python" -m pip --version >/dev/null 2>&1 || die "$python has no pip; install python3-pip"
mkdir -p "$dest"

# --python-version/--implementation/--abi/--platform make pip choose wheels
# for the image's interpreter, not for whatever runs this script; pip then
# requires --only-binary=:all:. Pure-Python wheels (py3-none-any) match any
# platform; the manylinux tags cover packages with compiled parts.
say "downloading ${requirements[*]} into $dest"
"$python" -m pip download \
    --disable-pip-version-check --no-input --progress-bar off \
    --dest "$dest" \
    --only-binary=:all: \
    --implementation cp --python-version 3.11 --abi cp311 --abi abi3 --abi none \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any \
    "${requirements[@]}" >"$dest/.download.log" 2>&1 || {
    tail -n 20 "$dest/.download.log" >&2
    die "pip download failed (full log: $dest/.download.log)"
}
rm -f "$dest/.download.log"

shopt -s nullglob
wheels=("$dest"/*.whl)
[ ${#wheels[@]} -gt 0 ] || die "no wheel in $dest after the download"
say "${#wheels[@]} wheels in $dest:"
printf '  %s\n' "${wheels[@]##*/}" >&2
