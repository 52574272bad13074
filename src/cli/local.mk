# cli: one file per command; only option parsing and wiring
libreprise_la_SOURCES += src/cli/main.c src/cli/ls.c src/cli/show.c src/cli/export.c src/cli/import.c src/cli/stats.c src/cli/proxy.c src/cli/capture.c include/reprise/cli.h
