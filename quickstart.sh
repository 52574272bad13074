#!/usr/bin/env bash
# quickstart.sh — install what is missing, build, and run the reprise demo.
#   ./quickstart.sh          set up, build, run 'reprise demo'
#   ./quickstart.sh check    set up, build, run the whole test suite
# Idempotent: installs only the Debian packages that are missing, configures
# once, and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-run}

# Build dependencies, and the real servers and clients the tests drive.
packages=(
  build-essential autoconf automake libtool pkg-config
  libpcap-dev libnghttp2-dev libssl-dev liblmdb-dev lmdb-utils libevent-dev
  libpcre2-dev libjansson-dev zlib1g-dev libbrotli-dev libzstd-dev libcmocka-dev
  nginx-light curl wrk tcpdump tshark ethtool iproute2 nghttp2-client nghttp2-server haproxy
  python3 python3-yaml node-har-validator libhttp-parser-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "quickstart: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x configure ] || [ configure.ac -nt configure ]; then
  autoreconf -fi
fi
if [ ! -f Makefile ]; then
  ./configure ${REPRISE_CONFIGURE_FLAGS:-}
fi
make -j"$(nproc)"

case "$mode" in
  check)
    make -j"$(nproc)" check
    # The same suite again under AddressSanitizer and UndefinedBehaviorSanitizer,
    # built from the distribution tarball (which also proves the tarball is
    # complete).  REPRISE_NO_SANITIZERS=1 skips it for a quick local run.
    if [ -z "${REPRISE_NO_SANITIZERS:-}" ]; then
      make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-sanitizers
    fi
    ;;
  run)
    # The main job on its embedded default: a sample service recorded through
    # the proxy, changed, replayed and diffed.  No set-up, a few seconds.
    ./reprise demo
    ;;
  *)
    echo "usage: $0 [check]" >&2
    exit 2
    ;;
esac
