# mask: rule sets, detectors, keyed tokens and fakes, the exchange walker
# (pure: libc, PCRE2, OpenSSL SHA-256)
libreprise_core_la_SOURCES += src/mask/parse.c src/mask/rules.c src/mask/detect.c \
	src/mask/keyed.c src/mask/apply.c src/mask/json.c src/mask/form.c \
	src/mask/mask-int.h include/reprise/mask.h

# the mask commands and the flags the recording commands share
libreprise_la_SOURCES += src/cli/mask.c src/cli/audit.c src/cli/mask_opts.c
AM_CPPFLAGS += -DRP_PKGDATADIR='"$(pkgdatadir)"'

# shipped rule sets (installed to $(pkgdatadir), found there or in the source tree)
dist_pkgdata_DATA += masks/default.rules masks/pci.rules masks/gdpr.rules

# tests
MASK_TEST_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/src/mask
check_PROGRAMS += tests/unit/mask/detect_test
TESTS += tests/unit/mask/detect_test
tests_unit_mask_detect_test_SOURCES = tests/unit/mask/detect_test.c
tests_unit_mask_detect_test_CFLAGS = $(MASK_TEST_CFLAGS)
tests_unit_mask_detect_test_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/data/mask
check_PROGRAMS += tests/unit/mask/rules_test
TESTS += tests/unit/mask/rules_test
tests_unit_mask_rules_test_SOURCES = tests/unit/mask/rules_test.c
tests_unit_mask_rules_test_CFLAGS = $(MASK_TEST_CFLAGS)
tests_unit_mask_rules_test_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/unit/mask/apply_test
TESTS += tests/unit/mask/apply_test
tests_unit_mask_apply_test_SOURCES = tests/unit/mask/apply_test.c
tests_unit_mask_apply_test_CFLAGS = $(MASK_TEST_CFLAGS)
tests_unit_mask_apply_test_LDADD = $(TEST_LIBS)

# integration: the commands, and end to end through the proxy (nginx, python3)
check_PROGRAMS += tests/integration/mask_tool
tests_integration_mask_tool_SOURCES = tests/integration/mask_tool.c
tests_integration_mask_tool_CFLAGS = $(TEST_CFLAGS)
tests_integration_mask_tool_LDADD = $(TEST_LIBS)
TESTS += tests/integration/mask_cli.sh tests/integration/mask_proxy.sh
EXTRA_DIST += tests/integration/mask_cli.sh tests/integration/mask_proxy.sh tests/integration/mask_upstream.py

# benchmarks (make bench)
EXTRA_PROGRAMS += bench/mask_bench
BENCHES += bench/mask_bench
bench_mask_bench_SOURCES = bench/mask_bench.c
bench_mask_bench_CFLAGS = $(TEST_CFLAGS)
bench_mask_bench_LDADD = $(TEST_LIBS)
BENCH_SH += bench/mask_proxy_bench.sh
EXTRA_DIST += bench/mask_proxy_bench.sh

# fuzzing: the corpus replayed (and mutated) in make check; the libFuzzer
# binary with --enable-fuzz (CC=clang), make fuzz-mask for a bounded run
check_PROGRAMS += tests/fuzz/mask_fuzz_replay
TESTS += tests/fuzz/mask_fuzz_replay
tests_fuzz_mask_fuzz_replay_SOURCES = tests/fuzz/replay_util.c tests/fuzz/replay_util.h tests/fuzz/mask_fuzz_replay.c tests/fuzz/mask_fuzz.c
tests_fuzz_mask_fuzz_replay_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_mask_fuzz_replay_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/fuzz/corpus/mask
if FUZZ
EXTRA_PROGRAMS += tests/fuzz/mask_fuzz
tests_fuzz_mask_fuzz_SOURCES = tests/fuzz/mask_fuzz.c
tests_fuzz_mask_fuzz_CFLAGS = $(TEST_CFLAGS) -fsanitize=fuzzer
tests_fuzz_mask_fuzz_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_mask_fuzz_LDADD = $(TEST_LIBS)
fuzz-mask: tests/fuzz/mask_fuzz
	@mkdir -p fuzz-out/mask
	./tests/fuzz/mask_fuzz -max_total_time=$(FUZZ_TIME) -timeout=5 -rss_limit_mb=2048 \
		fuzz-out/mask $(abs_top_srcdir)/tests/fuzz/corpus/mask
endif
