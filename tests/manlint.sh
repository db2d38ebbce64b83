#!/bin/sh
# Lint the manual pages: mandoc must report nothing at warning level or
# above, so the pages render the same everywhere mandoc or groff reads them.
# Usage: tests/manlint.sh [man-directory]   (default: man/ beside tests/)
set -u

dir=${1:-$(dirname "$0")/../man}

if ! command -v mandoc >/dev/null 2>&1; then
	echo "manlint: mandoc not found (apt-get install mandoc)" >&2
	exit 1
fi

set -- "$dir"/*.3
if [ ! -e "$1" ]; then
	echo "manlint: no pages in $dir" >&2
	exit 1
fi

# mandoc also prints notes about its own database on some systems; only
# its diagnostics about the pages count.
out=$(mandoc -Tlint -Wwarning "$@" 2>&1 | grep -v 'outdated mandoc.db')
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	echo "manlint: FAILED: mandoc reported the lines above" >&2
	exit 1
fi
echo "manlint: $# pages clean"
exit 0
