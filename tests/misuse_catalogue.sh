#!/bin/sh
# The misuse catalogue of libcallout(3) says what the code does: every
# (call, WHAT) row is one that test_misuse_catalogue provoked and checked
# word for word, every report that program checked has its row, every
# co_misuse text in src/ is in the table, and every TEST named exists.
# Usage: tests/misuse_catalogue.sh TEST_PROGRAM SOURCE_DIR
set -eu

prog=$1
top=$2
page=$top/man/libcallout.3
tmp=${TMPDIR:-/tmp}/misuse_catalogue.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
status=0

# Rows of the tables between ".Sh MISUSE CATALOGUE" and "Resource
# failures": CALL1, CALL2 Ta WHAT Ta TEST1, TEST2.
awk '
/^\.Sh MISUSE CATALOGUE/ { on = 1; next }
/^\.Ss Resource failures/ || /^\.Sh / { on = 0 }
on && /^\.It / && !/^\.It Sy/ {
	sub(/^\.It /, "")
	n = split($0, f, / Ta /)
	if (n != 3) { print "BAD ROW: " $0 > "/dev/stderr"; exit 1 }
	sub(/ \(.*\)$/, "", f[1])	# "DPC (a queued DPC as it runs)"
	nc = split(f[1], calls, /, /)
	for (i = 1; i <= nc; i++)
		print calls[i] "|" f[2] > "'"$tmp"'/rows"
	nt = split(f[3], tests, /, /)
	for (i = 1; i <= nt; i++)
		print tests[i] > "'"$tmp"'/tests"
	print f[2] > "'"$tmp"'/whats"
}' "$page"
sort -u "$tmp/rows" >"$tmp/rows.s"
sort -u "$tmp/whats" >"$tmp/whats.s"

# What the program proved.
"$prog" 2>"$tmp/stderr" | sed -n 's/^catalogue: //p' | sort -u >"$tmp/proved" ||
    { cat "$tmp/stderr"; echo "misuse_catalogue: $prog failed" >&2; exit 1; }

missing=$(comm -23 "$tmp/rows.s" "$tmp/proved")
if [ -n "$missing" ]; then
	echo "rows of the table no test proves:"
	printf '  %s\n' "$missing"
	status=1
fi
extra=$(comm -13 "$tmp/rows.s" "$tmp/proved")
if [ -n "$extra" ]; then
	echo "reports proved by test_misuse_catalogue but not in the table:"
	printf '  %s\n' "$extra"
	status=1
fi

# Every co_misuse text in the sources (the last argument, literals
# joined) is in the table.
for f in "$top"/src/*.c "$top"/src/nt/*.c; do
	tr '\n\t' '  ' <"$f" | grep -o 'co_misuse([^;]*;' || true
done | grep -v 'const char \*call' |
    sed 's/" *"//g; s/.*, *"//; s/") *;$//' | sort -u >"$tmp/src"
unlisted=$(comm -23 "$tmp/src" "$tmp/whats.s")
if [ -n "$unlisted" ]; then
	echo "misuse texts in src/ missing from the table:"
	printf '  %s\n' "$unlisted"
	status=1
fi
gone=$(comm -13 "$tmp/src" "$tmp/whats.s")
if [ -n "$gone" ]; then
	echo "texts in the table that src/ no longer reports:"
	printf '  %s\n' "$gone"
	status=1
fi

# Every TEST named is a test case.
for t in $(sort -u "$tmp/tests"); do
	if ! grep -q "^$t(void)" "$top"/tests/test_misuse_catalogue.c \
	    "$top"/tests/test_misuse_catalogue_fbsd.c; then
		echo "TEST $t is not a function of test_misuse_catalogue"
		status=1
	fi
done

[ $status -eq 0 ] && echo "misuse catalogue: $(wc -l <"$tmp/rows.s") (call, WHAT) rows, all proved, all in src/"
exit $status
