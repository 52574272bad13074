# base: slices, buffers, pools, errors, logging, time (pure)
libreprise_core_la_SOURCES += src/base/mem.c src/base/buf.c src/base/util.c \
	include/reprise/base.h include/reprise/limits.h

check_PROGRAMS += tests/unit/base/base_test
TESTS += tests/unit/base/base_test
tests_unit_base_base_test_SOURCES = tests/unit/base/base_test.c
tests_unit_base_base_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_base_base_test_LDADD = $(TEST_LIBS)
