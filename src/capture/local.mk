# capture: the passive source — link layers, IP, fragments, TCP reassembly,
# flow table and HTTP/1 pairing (pure), and the libpcap adapter.
libreprise_core_la_SOURCES += src/capture/decode.c src/capture/ipfrag.c src/capture/tcp.c \
	src/capture/flow.c src/capture/conv.c src/capture/pcapfile.c \
	src/capture/capture-int.h include/reprise/capture.h
libreprise_la_SOURCES += src/capture/pcap.c

# Against tshark: the captures of tests/data/capture and their ground truth.
TESTS += tests/integration/capture_tshark.sh
EXTRA_DIST += tests/integration/capture_tshark.sh tests/integration/capture_tshark.py \
	tests/data/capture

# Real traffic: tcpdump then -r, live -i lo with SIGINT/SIGTERM, and real
# segment sizes in a network namespace.
TESTS += tests/integration/capture_live.sh
EXTRA_DIST += tests/integration/capture_live.sh

# The command line: flags, errors and exit codes.
TESTS += tests/integration/capture_cli.sh
EXTRA_DIST += tests/integration/capture_cli.sh

# Crafted segment orderings, written by a small pcap writer.
TESTS += tests/integration/capture_craft.sh
EXTRA_DIST += tests/integration/capture_craft.sh tests/integration/capture_craft.py

# Benchmark (make bench): reprise capture -r vs tshark on a capture made in
# a network namespace with real segment sizes, cached in bench-cache/.
BENCH_SH += bench/capture_bench.sh
EXTRA_DIST += bench/capture_bench.sh

# Unit tests: decoder and fragments, pcap/pcapng files, TCP reassembly, the
# engine (flows and HTTP/1 pairing).
CAPTURE_FRAMES = tests/unit/capture/frames.c tests/unit/capture/frames.h
check_PROGRAMS += tests/unit/capture/decode_test
TESTS += tests/unit/capture/decode_test
tests_unit_capture_decode_test_SOURCES = tests/unit/capture/decode_test.c $(CAPTURE_FRAMES)
tests_unit_capture_decode_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_capture_decode_test_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/unit/capture/tcp_test
TESTS += tests/unit/capture/tcp_test
tests_unit_capture_tcp_test_SOURCES = tests/unit/capture/tcp_test.c
tests_unit_capture_tcp_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_capture_tcp_test_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/unit/capture/engine_test
TESTS += tests/unit/capture/engine_test
tests_unit_capture_engine_test_SOURCES = tests/unit/capture/engine_test.c $(CAPTURE_FRAMES)
tests_unit_capture_engine_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_capture_engine_test_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/unit/capture/pcapfile_test
TESTS += tests/unit/capture/pcapfile_test
tests_unit_capture_pcapfile_test_SOURCES = tests/unit/capture/pcapfile_test.c
tests_unit_capture_pcapfile_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_capture_pcapfile_test_LDADD = $(TEST_LIBS)

# The fuzz target (a capture file in, exchanges out): make check replays the
# seed corpus and a fixed set of mutations; with --enable-fuzz (CC=clang),
# `make fuzz-capture` runs libFuzzer for FUZZ_SECONDS (default 60).
check_PROGRAMS += tests/fuzz/capture_fuzz_replay
TESTS += tests/fuzz/capture_fuzz_replay
tests_fuzz_capture_fuzz_replay_SOURCES = tests/fuzz/replay_util.c tests/fuzz/replay_util.h tests/fuzz/capture_fuzz.c tests/fuzz/capture_fuzz_replay.c
tests_fuzz_capture_fuzz_replay_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_capture_fuzz_replay_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/fuzz/corpus/capture
if FUZZ
EXTRA_PROGRAMS += tests/fuzz/capture_fuzz
tests_fuzz_capture_fuzz_SOURCES = tests/fuzz/capture_fuzz.c
tests_fuzz_capture_fuzz_CFLAGS = $(TEST_CFLAGS) -fsanitize=fuzzer
tests_fuzz_capture_fuzz_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_capture_fuzz_LDADD = $(TEST_LIBS)
fuzz-capture: tests/fuzz/capture_fuzz
	mkdir -p tests/fuzz/capture-run-corpus
	./tests/fuzz/capture_fuzz -max_total_time=$${FUZZ_SECONDS:-60} -max_len=65536 \
		tests/fuzz/capture-run-corpus $(srcdir)/tests/fuzz/corpus/capture
endif
.PHONY: fuzz-capture
