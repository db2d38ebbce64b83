# The manual pages lint clean, and the library installs and is usable
# from another project through pkg-config and find_package.
find_program(MANDOC mandoc)
if(MANDOC)
	add_test(NAME manlint COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/manlint.sh
	    ${PROJECT_SOURCE_DIR}/man)
	set_tests_properties(manlint PROPERTIES LABELS docs)
endif()
find_program(PKG_CONFIG_EXECUTABLE pkg-config)
if(PKG_CONFIG_EXECUTABLE AND NOT CALLOUT_SANITIZE)
	add_test(NAME install_and_consume COMMAND sh
	    ${CMAKE_CURRENT_SOURCE_DIR}/install_test.sh ${PROJECT_BINARY_DIR}
	    ${PROJECT_SOURCE_DIR})
	set_tests_properties(install_and_consume PROPERTIES LABELS docs
	    TIMEOUT 300)
endif()
