# src/replay: select, rewrite, schedule, send, collect (adapter: libevent,
# PCRE2)
libreprise_la_SOURCES += src/replay/replay.c src/replay/client_h1.c src/replay/request.c \
	src/replay/sched.c src/replay/replay-int.h include/reprise/replay.h
libreprise_la_LIBADD += -lm

check_PROGRAMS += tests/unit/replay/sched_test tests/unit/replay/request_test
TESTS += tests/unit/replay/sched_test tests/unit/replay/request_test
tests_unit_replay_sched_test_SOURCES = tests/unit/replay/sched_test.c
tests_unit_replay_sched_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_replay_sched_test_LDADD = $(TEST_LIBS)
tests_unit_replay_request_test_SOURCES = tests/unit/replay/request_test.c
tests_unit_replay_request_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_replay_request_test_LDADD = $(TEST_LIBS)

# Integration tests against a real nginx on loopback (and the recording proxy).
REPLAY_IT = tests/integration/replay_parity.sh tests/integration/replay_speed.sh \
	tests/integration/replay_demo.sh tests/integration/replay_masks.sh \
	tests/integration/replay_rate.sh
TESTS += $(REPLAY_IT)
EXTRA_DIST += $(REPLAY_IT) tests/integration/replay_corpus.py
BENCH_SH += bench/replay_bench.sh
EXTRA_DIST += bench/replay_bench.sh
