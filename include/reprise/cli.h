/*
 * cli: `reprise <command>`.  One file per command under src/cli/, each only
 * parsing its options and wiring modules together.  A command returns a
 * process exit code (enum rp_exit).
 */
#ifndef REPRISE_CLI_H
#define REPRISE_CLI_H

#include <stdio.h>

#include "reprise/base.h"

/* Runs reprise with the process arguments; returns the exit code. */
int rp_cli_main(int argc, char **argv);

/* One command: name, one-line summary, entry point. */
struct rp_cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* Prints "reprise CMD: MESSAGE" to stderr, followed by a hint to run
 * `reprise CMD --help`, and returns RP_EXIT_USAGE. */
int rp_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "reprise CMD: MESSAGE" to stderr and returns |code|. */
int rp_cli_fail(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Maps a store error to its exit code (RP_EXIT_STORE) with a message. */
int rp_cli_store_error(const char *cmd, const char *path, int err, const char *why);

/* Parses a size with optional K/M/G/T suffix (powers of 1024). 0/RP_E_USAGE */
int rp_cli_parse_size(const char *s, uint64_t *out);
/* Parses an unsigned integer flag value.  0 or RP_E_USAGE. */
int rp_cli_parse_u64(const char *s, uint64_t *out);

/* Commands (src/cli/<name>.c). */
int rp_cmd_ls(int argc, char **argv);
int rp_cmd_show(int argc, char **argv);
int rp_cmd_export(int argc, char **argv);
int rp_cmd_import(int argc, char **argv);
int rp_cmd_stats(int argc, char **argv);
int rp_cmd_replay(int argc, char **argv);

#endif
