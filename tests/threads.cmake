# Threads and real time: dispatchers, halt, the giant lock, the threaded
# and external clocks, and the FreeBSD personality.
callout_add_test(test_freebsd test_freebsd.c SERIAL THREADED TIMEOUT 120)
callout_add_test(test_threads test_threads.c SERIAL THREADED TIMEOUT 300)
callout_add_test(test_threaded_clock test_threaded_clock.c SERIAL THREADED
    TIMEOUT 120)
callout_add_test(test_external test_external.c SERIAL TIMEOUT 120)
callout_add_test(test_freebsd_stress test_freebsd_stress.c THREADED
    TIMEOUT 300)
callout_add_test(test_freebsd_sbt test_freebsd_sbt.c SERIAL THREADED
    TIMEOUT 120)
callout_add_test(test_freebsd_mixed test_freebsd_mixed.c
    test_freebsd_mixed_netbsd.c)
