callout_add_test(test_nt test_nt.c THREADED)
