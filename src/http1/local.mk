# http1: the HTTP/1 message codec (pure, libc only)
libreprise_core_la_SOURCES += src/http1/parse.c src/http1/names.c include/reprise/http1.h

# Tests: the llhttp and http-desync-guardian corpora, hand-written cases,
# and the fuzz corpus replay.  They share the h1_driver harness.
H1_DRIVER = tests/unit/http1/h1_driver.c tests/unit/http1/h1_driver.h
check_PROGRAMS += tests/unit/http1/llhttp_test
TESTS += tests/unit/http1/llhttp_test
tests_unit_http1_llhttp_test_SOURCES = tests/unit/http1/llhttp_test.c $(H1_DRIVER)
tests_unit_http1_llhttp_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_http1_llhttp_test_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/data/http1/README tests/data/http1/llhttp2vec.py tests/data/http1/llhttp.vec
check_PROGRAMS += tests/unit/http1/desync_test
TESTS += tests/unit/http1/desync_test
tests_unit_http1_desync_test_SOURCES = tests/unit/http1/desync_test.c $(H1_DRIVER)
tests_unit_http1_desync_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_http1_desync_test_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/data/http1/desync2vec.py tests/data/http1/desync.vec
check_PROGRAMS += tests/unit/http1/parse_test
TESTS += tests/unit/http1/parse_test
tests_unit_http1_parse_test_SOURCES = tests/unit/http1/parse_test.c $(H1_DRIVER)
tests_unit_http1_parse_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_http1_parse_test_LDADD = $(TEST_LIBS)

# The fuzz target: make check replays the seed corpus and a fixed set of
# mutations; with --enable-fuzz (CC=clang, add --enable-sanitizers for ASan
# and UBSan), `make fuzz-h1` runs libFuzzer for FUZZ_SECONDS (default 60) in
# a scratch corpus seeded from ours.
check_PROGRAMS += tests/fuzz/h1_fuzz_replay
TESTS += tests/fuzz/h1_fuzz_replay
tests_fuzz_h1_fuzz_replay_SOURCES = tests/fuzz/h1_fuzz.c tests/fuzz/h1_fuzz_replay.c
tests_fuzz_h1_fuzz_replay_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_h1_fuzz_replay_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/fuzz/corpus/h1 tests/data/http1/make_fuzz_seeds.py
if FUZZ
EXTRA_PROGRAMS += tests/fuzz/h1_fuzz
# The parser is compiled into the target (it needs only libc) so that its
# code carries libFuzzer's coverage instrumentation.
tests_fuzz_h1_fuzz_SOURCES = tests/fuzz/h1_fuzz.c src/http1/parse.c src/http1/names.c
tests_fuzz_h1_fuzz_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_h1_fuzz_LDFLAGS = -fsanitize=fuzzer
fuzz-h1: tests/fuzz/h1_fuzz
	mkdir -p tests/fuzz/h1-run-corpus
	./tests/fuzz/h1_fuzz -max_total_time=$${FUZZ_SECONDS:-60} -max_len=4096 tests/fuzz/h1-run-corpus $(srcdir)/tests/fuzz/corpus/h1
endif
.PHONY: fuzz-h1

# Benchmark: make bench
EXTRA_PROGRAMS += bench/h1_bench
BENCHES += bench/h1_bench
bench_h1_bench_SOURCES = bench/h1_bench.c
bench_h1_bench_LDADD = libreprise.la $(HTTP_PARSER_LIBS)
