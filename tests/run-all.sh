#!/bin/sh
# Every test, in every build CI requires (quality.md): the plain build with
# -Werror, AddressSanitizer + UndefinedBehaviorSanitizer with leak checking,
# ThreadSanitizer, valgrind memcheck of the non-threaded tests, the manual
# page lint, and a short libFuzzer run.  Stops at the first failure.
# Scaling (CALLOUT_TEST_SCALE) only shortens the random and stress loops:
# the tick-wrap (test_wrap), wheel-level boundary and largest-delay cases
# are fixed and run in every build.
#
# Usage: sh tests/run-all.sh [stage...]
#   stages: plain asan tsan valgrind lint fuzz   (default: all, in order)
# Environment:
#   CALLOUT_BUILD_ROOT  where the build directories go (default: build-all/)
#   CALLOUT_FUZZ_SECONDS  length of the fuzz run (default 60)
#   CALLOUT_TEST_SCALE  overrides the per-build scales below
#   JOBS  parallel build and test jobs (default 2)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
root=${CALLOUT_BUILD_ROOT:-$top/build-all}
jobs=${JOBS:-2}
fuzz_seconds=${CALLOUT_FUZZ_SECONDS:-60}
stages=${*:-plain asan tsan valgrind lint fuzz}

# Sanitizer reports must fail the run: stop at the first report, exit
# non-zero, and show where it came from.
asan_env='ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1'
ubsan_env='UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1'
tsan_env='TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:exitcode=66'

now() {
	date +%s
}

started=$(now)
summary=""

# header NAME: start a stage.
header() {
	stage_name=$1
	stage_start=$(now)
	printf '\n==== %s ====\n' "$1"
}

# footer: close the stage and note its time.
footer() {
	t=$(($(now) - stage_start))
	printf '==== %s: passed in %d s ====\n' "$stage_name" "$t"
	summary="$summary$(printf '  %-48s %4d s' "$stage_name" "$t")
"
}

fail() {
	printf '==== %s: FAILED after %d s ====\n' "$stage_name" \
	    $(($(now) - stage_start)) >&2
	exit 1
}

need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "run-all: $1 not found (.ci/run installs it)" >&2
		fail
	fi
}

# configure DIR CC ARGS...: a fresh-enough build directory.
configure() {
	dir=$1
	cc=$2
	shift 2
	CC=$cc cmake -S "$top" -B "$dir" -DCALLOUT_WERROR=ON "$@" >"$dir.log" \
	    2>&1 || { cat "$dir.log"; fail; }
	cmake --build "$dir" -j "$jobs" >>"$dir.log" 2>&1 ||
	    { cat "$dir.log"; fail; }
}

# run_ctest DIR SCALE [ENV...] -- [CTEST ARGS...]
run_ctest() {
	dir=$1
	scale=${CALLOUT_TEST_SCALE:-$2}
	shift 2
	envs=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		envs="$envs $1"
		shift
	done
	[ $# -gt 0 ] && shift
	echo "CALLOUT_TEST_SCALE=$scale$envs"
	# shellcheck disable=SC2086
	(cd "$dir" && env CALLOUT_TEST_SCALE="$scale" $envs \
	    ctest -j "$jobs" --output-on-failure "$@") || fail
}

mkdir -p "$root"
for stage in $stages; do
	case $stage in
	plain)
		header "plain build (cc, -Werror), every test"
		need cmake
		configure "$root/plain" "${CC:-cc}"
		run_ctest "$root/plain" 1 --
		footer
		;;
	asan)
		header "AddressSanitizer + UndefinedBehaviorSanitizer"
		need clang
		configure "$root/asan" clang -DCALLOUT_SANITIZE=address \
		    -DCALLOUT_BUILD_BENCH=OFF
		run_ctest "$root/asan" 0.3 "$asan_env" "$ubsan_env" --
		footer
		;;
	tsan)
		header "ThreadSanitizer"
		need clang
		configure "$root/tsan" clang -DCALLOUT_SANITIZE=thread \
		    -DCALLOUT_BUILD_BENCH=OFF
		run_ctest "$root/tsan" 0.1 "$tsan_env" --
		footer
		;;
	valgrind)
		# Every test program labelled "single" (no threads of its
		# own) runs under memcheck; the "poison" test reads freed
		# memory on purpose and is not labelled "single".
		header "valgrind memcheck, non-threaded tests"
		need valgrind
		configure "$root/valgrind" "${CC:-cc}" \
		    -DCALLOUT_BUILD_BENCH=OFF \
		    "-DCMAKE_CROSSCOMPILING_EMULATOR=valgrind;-q;--error-exitcode=99;--leak-check=full;--errors-for-leak-kinds=definite;--show-leak-kinds=definite;--track-origins=yes"
		run_ctest "$root/valgrind" 0.1 -- -L '^single$'
		footer
		;;
	lint)
		header "manual page lint"
		need mandoc
		sh "$top/tests/manlint.sh" "$top/man" || fail
		footer
		;;
	fuzz)
		header "libFuzzer, $fuzz_seconds s"
		need clang
		configure "$root/fuzz" clang -DCALLOUT_FUZZ=ON \
		    -DCALLOUT_SANITIZE=address -DCALLOUT_BUILD_TESTS=OFF \
		    -DCALLOUT_BUILD_BENCH=OFF
		# Work on a copy: new inputs the run finds stay out of the
		# repository's seed corpus.
		rm -rf "$root/fuzz-corpus"
		mkdir -p "$root/fuzz-corpus"
		cp "$top"/fuzz/corpus/* "$root/fuzz-corpus/"
		(cd "$root/fuzz" && env "$asan_env" "$ubsan_env" \
		    ./fuzz/fuzz_calls -max_total_time="$fuzz_seconds" \
		    -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		    "$root/fuzz-corpus") || fail
		footer
		;;
	*)
		echo "run-all: unknown stage '$stage'" \
		    "(plain asan tsan valgrind lint fuzz)" >&2
		exit 2
		;;
	esac
done

printf '\nrun-all: every stage passed in %d s\n%s' $(($(now) - started)) \
    "$summary"
