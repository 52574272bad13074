# exchange: the data model (pure)
libreprise_core_la_SOURCES += src/exchange/exchange.c include/reprise/exchange.h

check_PROGRAMS += tests/unit/exchange/exchange_test
TESTS += tests/unit/exchange/exchange_test
tests_unit_exchange_exchange_test_SOURCES = tests/unit/exchange/exchange_test.c
tests_unit_exchange_exchange_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_exchange_exchange_test_LDADD = $(TEST_LIBS)
