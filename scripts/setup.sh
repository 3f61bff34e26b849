#!/usr/bin/env bash
# Installs everything RuVector needs on Debian 12 (run as root, or with sudo available):
# the C libraries and tools from Debian, and the pinned Python packages in ./.venv.
# The Swift 6 toolchain must already be on PATH (swift.org has no Debian package).
#   scripts/setup.sh [--system | --python]
#     --system  only the Debian packages (what `swift build` needs)
#     --python  only the Python venvs (scripts/test.sh runs this beside the build)
set -euo pipefail
cd "$(dirname "$0")/.."

system=1
python=1
case "${1:-}" in
    "") ;;
    --system) python=0 ;;
    --python) system=0 ;;
    *) echo "usage: scripts/setup.sh [--system | --python]" >&2; exit 64 ;;
esac

if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    else
        echo "setup: the Swift 6 toolchain is not on PATH; install it from swift.org first" >&2
        exit 1
    fi
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(
    pkg-config libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev
    libssl-dev openssl zlib1g-dev grpc-proto ruby-grpc nghttp2-client nghttp2-proxy python3 python3-venv python3-pip
    # Tests/e2e/polyglot: Go (grpc-go, GOPATH mode, offline) and C++ (grpc++) clients from our protos.
    golang-go golang-google-grpc-dev golang-google-protobuf-dev protoc-gen-go-grpc
    g++ libgrpc++-dev protobuf-compiler-grpc
    # Tests/e2e/test_console.py: the web console in headless Chromium, driven by Selenium.
    chromium chromium-driver
)
missing=()
if [ "$system" -eq 1 ]; then
    for package in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ "$python" -eq 1 ]; then
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
    # The Python client (clients/python), editable so tests use the working tree's code.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e clients/python
    # A second venv with the client's lowest declared grpcio and protobuf (and the generator of its
    # stubs): clients/python/regenerate.sh and Tests/e2e/test_python_protobuf_range.py use it.
    clients/python/floor-venv.sh >/dev/null
fi
echo "setup: done"
