# Run ndis_demo with ARGS writing JSON, then demo_check on that report.
execute_process(COMMAND ${DEMO} ${ARGS} --quiet --json ${JSON}
    RESULT_VARIABLE demo_rc)
if(NOT EXISTS ${JSON})
	message(FATAL_ERROR "ndis_demo wrote no report (exit ${demo_rc})")
endif()
execute_process(COMMAND ${CHECK} ${JSON} RESULT_VARIABLE check_rc)
if(NOT check_rc EQUAL 0)
	message(FATAL_ERROR "demo_check: the report fails its checks")
endif()
if(NOT demo_rc EQUAL 0)
	message(FATAL_ERROR "ndis_demo exited with ${demo_rc}")
endif()
