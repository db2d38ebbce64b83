callout_add_test(test_nt test_nt.c THREADED)
callout_add_test(test_nt_leak test_nt_leak.c)
callout_add_test(test_nt_race test_nt_race.c THREADED)
callout_add_test(test_ndis test_ndis.c THREADED)
