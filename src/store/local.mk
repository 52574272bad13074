# store: the corpus in LMDB (adapter: LMDB, OpenSSL SHA-256, zstd)
libreprise_la_SOURCES += src/store/store.c src/store/write.c src/store/read.c \
	src/store/conn.c src/store/store-int.h include/reprise/store.h

check_PROGRAMS += tests/unit/store/store_test
TESTS += tests/unit/store/store_test
tests_unit_store_store_test_SOURCES = tests/unit/store/store_test.c $(TEST_TMPDIR)
tests_unit_store_store_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_store_store_test_LDADD = $(TEST_LIBS)

EXTRA_PROGRAMS += bench/store_bench
BENCHES += bench/store_bench
bench_store_bench_SOURCES = bench/store_bench.c
bench_store_bench_CFLAGS = $(TEST_CFLAGS)
bench_store_bench_LDADD = $(TEST_LIBS)
