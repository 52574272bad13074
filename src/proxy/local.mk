# proxy: the HTTP/1.1 recording reverse proxy (adapter: libevent)
libreprise_la_SOURCES += src/proxy/server.c src/proxy/conn.c src/proxy/head.c \
	src/proxy/metrics.c src/proxy/proxy-int.h include/reprise/proxy.h

# The corpus walker the integration tests check recordings with.
check_PROGRAMS += tests/integration/corpus_dump
tests_integration_corpus_dump_SOURCES = tests/integration/corpus_dump.c
tests_integration_corpus_dump_CFLAGS = $(TEST_CFLAGS)
tests_integration_corpus_dump_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/proxy/head_test
TESTS += tests/unit/proxy/head_test
tests_unit_proxy_head_test_SOURCES = tests/unit/proxy/head_test.c
tests_unit_proxy_head_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_proxy_head_test_LDADD = $(TEST_LIBS)

# Integration tests: a real nginx upstream on loopback, curl, wrk, python3.
PROXY_IT = tests/integration/proxy_forward.sh tests/integration/proxy_faults.sh \
	tests/integration/proxy_strict.sh tests/integration/proxy_recording.sh
TESTS += $(PROXY_IT)
EXTRA_DIST += $(PROXY_IT) tests/integration/proxy_lib.sh tests/integration/rawhttp.py

BENCH_SH += bench/proxy_bench.sh
EXTRA_DIST += bench/proxy_bench.sh
