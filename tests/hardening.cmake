# The misuse catalogue of libcallout(3): one program provokes every row
# and checks each report's call and text exactly; a script checks that
# the manual page's table and the code's co_misuse calls say the same.
callout_add_test(test_misuse_catalogue test_misuse_catalogue.c
    test_misuse_catalogue_fbsd.c THREADED)
find_program(CALLOUT_AWK NAMES awk)
if(CALLOUT_AWK)
	add_test(NAME misuse_catalogue_matches_code_and_man_page
	    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/misuse_catalogue.sh
	    $<TARGET_FILE:test_misuse_catalogue> ${PROJECT_SOURCE_DIR})
	set_tests_properties(misuse_catalogue_matches_code_and_man_page
	    PROPERTIES LABELS docs)
endif()
