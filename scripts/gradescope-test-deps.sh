#!/usr/bin/env bash
# Fetch, on the host, what the Gradescope-shaped container test installs offline
# (tests/test_gradescope_container.py; containers here reach no package index or mirror):
#
#   scripts/gradescope-test-deps.sh [DEST]        DEST defaults to build/gradescope
#
#   DEST/wheels/  wheels of micrograde's dependencies, of pip and setuptools (setup.sh
#                 builds micrograde from its source) and of six, the test's "package staff
#                 allow"; the test points pip at them (PIP_NO_INDEX, PIP_FIND_LINKS)
#   DEST/debs/    python3.11-venv for the exact Python of the offline base image, with what
#                 it needs there (the pip and setuptools wheels it bundles, distutils,
#                 ca-certificates and openssl at the base's libssl3 version): Gradescope's
#                 images can make a virtual environment, the debootstrapped base alone cannot
#
# Idempotent: each part keeps a stamp naming what it holds and is skipped when current.
# Without the base image (no Docker) only the wheels are fetched: the sandbox-user tests on
# the host need those alone.
# Needs root for apt-get (the host's apt lists are refreshed when they lack a version).
set -euo pipefail
cd "$(dirname "$0")/.."

dest="${1:-build/gradescope}"
base="${BASE_IMAGE:-micrograde-base:bookworm}"
python="${PYTHON:-.venv/bin/python}"
allowed="six==1.17.0"

say() { printf 'gradescope-test-deps: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# ---- wheels: micrograde's own dependencies, read from pyproject.toml
mapfile -t requirements < <("$python" - <<'PY'
import tomllib
with open("pyproject.toml", "rb") as handle:
    for requirement in tomllib.load(handle)["project"]["dependencies"]:
        print(requirement)
PY
)
requirements+=(pip "setuptools>=64" "$allowed")
stamp="${requirements[*]}"
if [ "$(cat "$dest/wheels/.stamp" 2>/dev/null)" != "$stamp" ]; then
    PYTHON="$python" scripts/download-wheels.sh "$dest/wheels" "${requirements[@]}"
    printf '%s' "$stamp" >"$dest/wheels/.stamp"
else
    say "wheels are current in $dest/wheels"
fi

# ---- debs: python3.11-venv matching the base image's python3.11, to the exact version
if ! docker image inspect "$base" >/dev/null 2>&1; then
    say "no image $base (grader/sandbox/image/build-base-image.sh makes it): debs skipped"
    exit 0
fi
versions=$(docker run --rm --network none "$base" \
    dpkg-query -W -f '${Package} ${Version}\n' python3.11 libssl3)
python_version=$(awk '$1 == "python3.11" { print $2 }' <<<"$versions")
ssl_version=$(awk '$1 == "libssl3" { print $2 }' <<<"$versions")
[ -n "$python_version" ] && [ -n "$ssl_version" ] || die "cannot read versions from $base"
packages=("python3.11-venv=$python_version" python3-pip-whl python3-setuptools-whl
          python3-distutils python3-lib2to3 ca-certificates "openssl=$ssl_version")
if [ "$(cat "$dest/debs/.stamp" 2>/dev/null)" != "${packages[*]}" ]; then
    rm -rf "$dest/debs" && mkdir -p "$dest/debs"
    if ! apt-cache show "python3.11-venv=$python_version" "openssl=$ssl_version" >/dev/null 2>&1; then
        apt-get update -qq || die "apt-get update failed"
    fi
    (cd "$dest/debs" && apt-get download -qq -o APT::Sandbox::User=root "${packages[@]}") \
        || die "apt-get download ${packages[*]} failed"
    printf '%s' "${packages[*]}" >"$dest/debs/.stamp"
    say "downloaded ${packages[*]} into $dest/debs"
else
    say "debs are current in $dest/debs"
fi
