# src/report: progress line, summary table, JSON and JUnit reports (adapter:
# jansson)
libreprise_la_SOURCES += src/report/report.c src/report/json.c src/report/junit.c \
	src/report/report-int.h include/reprise/report.h

check_PROGRAMS += tests/unit/report/report_test
TESTS += tests/unit/report/report_test
tests_unit_report_report_test_SOURCES = tests/unit/report/report_test.c
tests_unit_report_report_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_report_report_test_LDADD = $(TEST_LIBS)
