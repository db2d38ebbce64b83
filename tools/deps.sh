#!/bin/sh
# Install, with apt-get, the Debian packages that building, testing and
# benchmarking libcallout need, skipping those already installed.  The
# library itself needs only libc and pthreads; the rest is for the tests
# (clang sanitizers and libFuzzer, valgrind, mandoc, pkg-config), the
# benchmark peers (libevent, libuv) and the charts (gnuplot).
set -eu
packages="build-essential cmake clang libclang-rt-14-dev valgrind mandoc
pkg-config libevent-dev libuv1-dev gnuplot-nox"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "deps.sh: need root (or sudo) to install:$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
