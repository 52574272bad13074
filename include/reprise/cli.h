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
int rp_cmd_proxy(int argc, char **argv);
int rp_cmd_capture(int argc, char **argv);

/* ---- masks: shared by the recording commands (proxy, capture, import) ---- */

struct rp_mask;
struct rp_store;

/* What the mask flags said. */
struct rp_cli_mask_opts {
	const char *rules;    /* --masks FILE; NULL: the shipped default.rules */
	int none;             /* --no-masks: record without masking (said explicitly) */
	const char *key_file; /* --mask-key-file FILE; NULL: $REPRISE_MASK_KEY, else a
				 one-off random key (tokens then match only this run) */
};

/* getopt_long codes and entries for the three mask flags; put
 * RP_CLI_MASK_OPTIONS in a command's option table and hand the codes to
 * rp_cli_mask_option. */
enum { RP_CLI_OPT_MASKS = 0x4d00, RP_CLI_OPT_NO_MASKS, RP_CLI_OPT_MASK_KEY_FILE };
#define RP_CLI_MASK_OPTIONS                                                  \
	{"masks", required_argument, NULL, RP_CLI_OPT_MASKS},                \
	{"no-masks", no_argument, NULL, RP_CLI_OPT_NO_MASKS},                \
	{"mask-key-file", required_argument, NULL, RP_CLI_OPT_MASK_KEY_FILE}
/* Help text for the three flags, to print in a command's --help; |pad| (a
 * string literal of spaces) moves the descriptions from column 25 to the
 * command's own column. */
#define RP_CLI_MASK_HELP(pad)                                                                  \
	"  --masks FILE        " pad "  mask with the rules of FILE (default: default.rules)\n"   \
	"  --no-masks          " pad "  record without masking (nothing else turns masking off)\n" \
	"  --mask-key-file FILE" pad "  key for tokens and fakes (default: $REPRISE_MASK_KEY)\n"

/* Records a getopt_long result: returns 1 when |code| was a mask flag (its
 * argument |arg| kept), 0 otherwise. */
int rp_cli_mask_option(int code, const char *arg, struct rp_cli_mask_opts *o);

/* Builds the mask the flags ask for: loads the rules (default.rules when none
 * is named) and the key, and prints what is wrong (rule file, line and
 * column; key problems) to stderr under |cmd|.  Sets |*out| (NULL with
 * --no-masks) and returns 0, or returns the exit code to leave with
 * (RP_EXIT_USAGE). */
int rp_cli_mask_open(const char *cmd, const struct rp_cli_mask_opts *o, struct rp_mask **out);

/* Records in the corpus which rules masked it and under which key
 * (meta mask.rules_digest, mask.key_fingerprint; "none" for both when |m| is
 * NULL, i.e. --no-masks).  0 or the store's error. */
int rp_cli_mask_record(struct rp_store *s, const struct rp_mask *m);

/* The recorder's mask hook (recorder.h rp_recorder_mask_fn) with |ctx| the
 * struct rp_mask: masks |x| in place.  Always 0. */
struct rp_exchange;
int rp_cli_mask_hook(struct rp_exchange *x, void *ctx);

/* The path of the shipped rule set |name| ("default.rules"): from
 * $REPRISE_MASKS_DIR, the installed data folder, or the source tree. */
const char *rp_cli_masks_path(const char *name, char *buf, size_t n);

int rp_cmd_mask(int argc, char **argv);
int rp_cmd_audit(int argc, char **argv);
int rp_cmd_replay(int argc, char **argv);
int rp_cmd_demo(int argc, char **argv);

#endif
