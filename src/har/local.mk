# src/har: HAR 1.2 and JSON lines, in and out (adapter: jansson)
libreprise_la_SOURCES += src/har/har.c src/har/har_in.c src/har/har_out.c src/har/jsonl.c \
	src/har/json.c src/har/har_int.h include/reprise/har.h
check_PROGRAMS += tests/unit/har/har_test
TESTS += tests/unit/har/har_test
tests_unit_har_har_test_SOURCES = tests/unit/har/har_test.c
tests_unit_har_har_test_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/src/har
tests_unit_har_har_test_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/data/har/chromium-teashop.har tests/data/har/README.md
