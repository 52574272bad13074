/*
 * cli-int: what the command files of src/cli share and nothing else sees:
 * opening the corpus with the exit code its failure maps to, compiling a
 * --filter against the corpus start, the option-parsing error messages,
 * and the small formatters of sizes, durations and terminal widths.
 */
#ifndef REPRISE_CLI_INT_H
#define REPRISE_CLI_INT_H

#include <getopt.h>
#include <jansson.h>

#include "reprise/cli.h"
#include "reprise/filter.h"
#include "reprise/store.h"

/* Opens the corpus at |db| for reading (|readonly|) or writing, creating it
 * when |create|.  Returns RP_EXIT_OK and sets |*s|, or prints the store's
 * message ("reprise CMD: DIR: not a reprise corpus ...") and returns
 * RP_EXIT_STORE.  A missing --db (|db| NULL) is a usage error (exit 2). */
int rp_cli_open_store(const char *cmd, const char *db, int readonly, int create,
		      struct rp_store **s);

/* The next exchange of |it| for `reprise CMD` reading the corpus |db|.  A
 * record that does not decode (damaged, or from a newer schema) is reported
 * on standard error, counted in |*bad| and skipped: the command goes on and
 * says so in its exit code.  Returns 1 with |*x| set (the caller frees it);
 * 0 at the end with |*rc| RP_EXIT_OK; or 0 with |*rc| the exit code of a
 * store error, already reported. */
int rp_cli_next_exchange(const char *cmd, const char *db, struct rp_store_iter *it,
			 struct rp_exchange **x, int *bad, int *rc);

/* Compiles |expr| (NULL: match everything, |*f| NULL) with "+offset" times
 * anchored at the first exchange of |s|.  RP_EXIT_OK, or prints the
 * compiler's message and returns RP_EXIT_USAGE. */
int rp_cli_filter(const char *cmd, const char *expr, struct rp_store *s, struct rp_filter **f);

/* Reports what getopt_long returned for a bad option (|c| is '?' or ':')
 * and returns RP_EXIT_USAGE. */
int rp_cli_bad_option(const char *cmd, int c, char **argv);

/* Formats |n| bytes as "812", "12.3K", "4.0M", "1.2G" into |out| (>= 16). */
void rp_cli_human_size(uint64_t n, char *out, size_t outlen);

/* Milliseconds of the span [|from|, |to|] in ns, or a negative number when
 * either end is unknown. */
double rp_cli_span_ms(int64_t from, int64_t to);

/* The end of the exchange as known: response end, else response start, else
 * request end (0 when none is known). */
int64_t rp_cli_end_ns(const struct rp_exchange *x);

/* Columns of the terminal on stdout, $COLUMNS when stdout is not one, or 0
 * (no limit) when neither is known. */
int rp_cli_term_width(void);

/* Writes |s| to stdout with control bytes (which recorded traffic may carry
 * to a terminal as escape sequences) shown as \xNN. */
void rp_cli_put_safe(struct rp_slice s);

/* A JSON string of |s| for display: invalid UTF-8 bytes become U+FFFD. */
json_t *rp_cli_json_str(struct rp_slice s);

#endif
