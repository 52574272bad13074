/*
 * tmpdir: scratch directories for unit tests that write files (corpora),
 * made with mkdtemp and removed with everything in them.
 */
#ifndef REPRISE_TEST_TMPDIR_H
#define REPRISE_TEST_TMPDIR_H

#include <stddef.h>

/* Makes /tmp/rp-|name|-XXXXXX into |dir| (|len| bytes).  0, or -1. */
int rp_test_tmpdir(char *dir, size_t len, const char *name);

/* Removes |dir| and everything under it (symbolic links not followed). */
void rp_test_rm_tree(const char *dir);

#endif
