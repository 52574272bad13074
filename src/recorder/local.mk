# recorder: bounded queue and threads between traffic sources and the store
# (adapter: it drives the store)
libreprise_la_SOURCES += src/recorder/recorder.c include/reprise/recorder.h

check_PROGRAMS += tests/unit/recorder/recorder_test
TESTS += tests/unit/recorder/recorder_test
tests_unit_recorder_recorder_test_SOURCES = tests/unit/recorder/recorder_test.c $(TEST_TMPDIR)
tests_unit_recorder_recorder_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_recorder_recorder_test_LDADD = $(TEST_LIBS)
