# cli: one file per command; only option parsing and wiring
libreprise_la_SOURCES += src/cli/main.c src/cli/ls.c src/cli/show.c src/cli/export.c \
	src/cli/import.c src/cli/stats.c src/cli/common.c src/cli/cli-int.h include/reprise/cli.h \
	src/cli/proxy.c src/cli/capture.c src/cli/replay.c src/cli/demo.c
TESTS += tests/integration/har_roundtrip.sh tests/integration/cli_man.sh tests/integration/cli_damaged.sh
EXTRA_DIST += tests/integration/har_roundtrip.sh tests/integration/cli_man.sh tests/integration/cli_damaged.sh \
	tests/integration/har_check.py tests/integration/har_validate.js
