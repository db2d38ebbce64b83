# timeout(9) and the callout pool (timeout.md).
callout_add_test(test_pool test_pool.c THREADED)
callout_add_test(test_timeout test_timeout.c THREADED)
callout_add_test(test_timeout_leak test_timeout_leak.c)
callout_add_test(test_timeout_threads test_timeout_threads.c THREADED)

# Reads a returned callout on purpose: AddressSanitizer must stop it.  A
# plain build cannot see the bug and passes.  Not labelled "single": under
# valgrind the read is (rightly) an error, which would fail the run.
callout_add_test(test_timeout_pool_uaf test_timeout_pool_uaf.c)
set_tests_properties(test_timeout_pool_uaf PROPERTIES LABELS poison)
# Under ASan the test passes only on ASan's own report: a crash of another
# kind, or a clean exit, fails.  abort_on_error=0 so that ASan exits with a
# status instead of a signal, which CTest would count as a failure.
if(CALLOUT_SANITIZE STREQUAL "address")
	set_tests_properties(test_timeout_pool_uaf PROPERTIES
	    ENVIRONMENT "ASAN_OPTIONS=abort_on_error=0:halt_on_error=1"
	    PASS_REGULAR_EXPRESSION "AddressSanitizer: use-after-poison")
endif()
