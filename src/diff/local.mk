# src/diff: response parity diff, noise rules, route templates (pure: libc,
# jansson, PCRE2)
libreprise_core_la_SOURCES += src/diff/diff.c src/diff/json.c src/diff/text.c \
	src/diff/jpath.c src/diff/noise.c src/diff/route.c src/diff/sha256.c \
	src/diff/diff-int.h include/reprise/diff.h

check_PROGRAMS += tests/unit/diff/diff_test tests/unit/diff/patch_test
TESTS += tests/unit/diff/diff_test tests/unit/diff/patch_test
tests_unit_diff_diff_test_SOURCES = tests/unit/diff/diff_test.c
tests_unit_diff_diff_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_diff_diff_test_LDADD = $(TEST_LIBS)
tests_unit_diff_patch_test_SOURCES = tests/unit/diff/patch_test.c
tests_unit_diff_patch_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_diff_patch_test_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/data/diff

# Fuzzing: the target replayed over the committed seeds plus seeded random
# mutations on every make check.
check_PROGRAMS += tests/fuzz/diff_fuzz_replay
TESTS += tests/fuzz/diff_fuzz_replay
tests_fuzz_diff_fuzz_replay_SOURCES = tests/fuzz/replay_util.c tests/fuzz/replay_util.h tests/fuzz/diff_fuzz_replay.c tests/fuzz/diff_fuzz.c
tests_fuzz_diff_fuzz_replay_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_diff_fuzz_replay_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/fuzz/corpus/diff
if FUZZ
EXTRA_PROGRAMS += tests/fuzz/diff_fuzz
tests_fuzz_diff_fuzz_SOURCES = tests/fuzz/diff_fuzz.c
tests_fuzz_diff_fuzz_CFLAGS = $(TEST_CFLAGS) -fsanitize=fuzzer
tests_fuzz_diff_fuzz_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_diff_fuzz_LDADD = $(TEST_LIBS)
endif
