#!/bin/sh
# Install the library into a temporary prefix, then build and run one
# example against the installed copy twice: through pkg-config and through
# find_package(callout).  Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
example=$src/examples/basic_virtual.c

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/callout.h include/callout/timeout.h \
    include/callout/ntoskrnl.h include/callout/ndis.h \
    include/callout/freebsd.h share/man/man3/callout.3; do
	test -f "$prefix/$f" || { echo "missing after install: $f"; exit 1; }
done
libdir=$(ls -d "$prefix"/lib*/pkgconfig | head -n 1)
libdir=${libdir%/pkgconfig}

echo "== pkg-config"
PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_PATH
cc -o "$work/pc_example" "$example" $(pkg-config --cflags callout) \
    $(pkg-config --libs callout) -pthread
LD_LIBRARY_PATH=$libdir "$work/pc_example" >/dev/null
echo "pkg-config build runs"

echo "== find_package(callout)"
cmake -S "$src/tests/install" -B "$work/consumer" \
    -DCMAKE_PREFIX_PATH="$prefix" -DEXAMPLE="$example" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/consumer_static" >/dev/null
LD_LIBRARY_PATH=$libdir "$work/consumer/consumer_shared" >/dev/null
echo "find_package builds run (static and shared)"
