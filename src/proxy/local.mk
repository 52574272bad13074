# proxy: the HTTP/1.1 recording reverse proxy (adapter: libevent)
libreprise_la_SOURCES += src/proxy/server.c src/proxy/conn.c src/proxy/head.c \
	src/proxy/metrics.c src/proxy/proxy-int.h include/reprise/proxy.h

# The corpus walker the integration tests check recordings with.
check_PROGRAMS += tests/integration/corpus_dump
tests_integration_corpus_dump_SOURCES = tests/integration/corpus_dump.c
tests_integration_corpus_dump_CFLAGS = $(TEST_CFLAGS)
tests_integration_corpus_dump_LDADD = $(TEST_LIBS)
