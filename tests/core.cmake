# The wheel, the callout(9) state machine on the virtual clock, the model
# test and the misuse catalogue of the core.
callout_add_test(test_wheel test_wheel.c ${PROJECT_SOURCE_DIR}/src/wheel.c)
callout_add_test(test_callout test_callout.c)
callout_add_test(test_model test_model.c)
callout_add_test(test_misuse test_misuse.c)
# Clocks starting just below int wrap (2^31) and 32-bit wrap (2^32) of
# callout_ticks(), and the 64-bit tick count far beyond both.
add_executable(test_wrap test_wrap.c)
target_link_libraries(test_wrap PRIVATE callout_static)
target_include_directories(test_wrap PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
foreach(start 0x80000000 0x100000000 0x7ffffffff0000000)
	add_test(NAME test_wrap_${start} COMMAND test_wrap ${start})
	set_tests_properties(test_wrap_${start} PROPERTIES LABELS single)
endforeach()
