#!/usr/bin/env bash
# Makes (or brings up to date) the venv with the client's lowest declared dependencies and the
# stub generator (requirements-floor.txt), at $RUVECTOR_FLOOR_VENV (default: <repo>/.venv-protobuf-floor),
# with the client installed (editable) under those pins as constraints: pip fails there when
# pyproject.toml declares a floor above them. Prints the venv's python; quick when up to date.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${RUVECTOR_FLOOR_VENV:-$here/../../.venv-protobuf-floor}"
pins="$here/requirements-floor.txt"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
fi
# What was installed last: when pins and declared dependencies are unchanged, the index is not asked.
wanted="$(cat "$pins" "$here/pyproject.toml")"
if [ "$wanted" != "$(cat "$venv/installed-requirements.txt" 2>/dev/null)" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$pins" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
        -c "$pins" -e "$here" >&2
    printf '%s' "$wanted" >"$venv/installed-requirements.txt"
fi
echo "$venv/bin/python"
