# record: the versioned binary encoding of an exchange (pure)
libreprise_core_la_SOURCES += src/record/record.c include/reprise/record.h

# Shared by the record tests, the fuzz tools and the benchmark.
RECORD_XGEN = tests/unit/record/xgen.c tests/unit/record/xgen.h

check_PROGRAMS += tests/unit/record/codec_test
TESTS += tests/unit/record/codec_test
tests_unit_record_codec_test_SOURCES = tests/unit/record/codec_test.c $(RECORD_XGEN)
tests_unit_record_codec_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_record_codec_test_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/data/record

# Fuzzing: the target replayed over the committed corpus plus seeded random
# mutations on every make check; the seed generator on demand; with
# --enable-fuzz (CC=clang), the libFuzzer binary and a bounded run,
# make fuzz-record (FUZZ_TIME seconds, default 60).
check_PROGRAMS += tests/fuzz/record_fuzz_replay
TESTS += tests/fuzz/record_fuzz_replay
tests_fuzz_record_fuzz_replay_SOURCES = tests/fuzz/replay_util.c tests/fuzz/replay_util.h tests/fuzz/record_fuzz_replay.c tests/fuzz/record_fuzz.c \
	$(RECORD_XGEN)
tests_fuzz_record_fuzz_replay_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_record_fuzz_replay_LDADD = $(TEST_LIBS)

EXTRA_PROGRAMS += tests/fuzz/record_seeds
tests_fuzz_record_seeds_SOURCES = tests/fuzz/record_seeds.c $(RECORD_XGEN)
tests_fuzz_record_seeds_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_record_seeds_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/fuzz/corpus/record

if FUZZ
EXTRA_PROGRAMS += tests/fuzz/record_fuzz
# record.c is compiled in (it then shadows the library's copy) so that it gets
# the fuzzer's coverage instrumentation, which the library does not have.
tests_fuzz_record_fuzz_SOURCES = tests/fuzz/record_fuzz.c src/record/record.c $(RECORD_XGEN)
tests_fuzz_record_fuzz_CFLAGS = $(TEST_CFLAGS) -fsanitize=fuzzer
tests_fuzz_record_fuzz_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_record_fuzz_LDADD = $(TEST_LIBS)
FUZZ_TIME = 60
fuzz-record: tests/fuzz/record_fuzz
	@mkdir -p fuzz-out/record
	./tests/fuzz/record_fuzz -max_total_time=$(FUZZ_TIME) -timeout=5 -rss_limit_mb=2048 \
		fuzz-out/record $(abs_top_srcdir)/tests/fuzz/corpus/record
endif

# Benchmark: make bench (or bench/record_bench [seconds-per-round]).
EXTRA_PROGRAMS += bench/record_bench
BENCHES += bench/record_bench
bench_record_bench_SOURCES = bench/record_bench.c $(RECORD_XGEN)
bench_record_bench_CFLAGS = $(TEST_CFLAGS)
bench_record_bench_LDADD = $(TEST_LIBS)
