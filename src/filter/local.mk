# src/filter
libreprise_core_la_SOURCES += src/filter/filter.c include/reprise/filter.h
check_PROGRAMS += tests/unit/filter/filter_test
TESTS += tests/unit/filter/filter_test
tests_unit_filter_filter_test_SOURCES = tests/unit/filter/filter_test.c
tests_unit_filter_filter_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_filter_filter_test_LDADD = $(TEST_LIBS)
