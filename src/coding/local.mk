# coding: HTTP content codings (pure; zlib, brotli, zstd)
libreprise_core_la_SOURCES += src/coding/coding.c include/reprise/coding.h

check_PROGRAMS += tests/unit/coding/coding_test
TESTS += tests/unit/coding/coding_test
tests_unit_coding_coding_test_SOURCES = tests/unit/coding/coding_test.c
tests_unit_coding_coding_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_coding_coding_test_LDADD = $(TEST_LIBS)
