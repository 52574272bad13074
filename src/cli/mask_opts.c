/*
 * mask_opts: the mask flags every recording command shares (--masks,
 * --no-masks, --mask-key-file) and what they turn into — a compiled mask,
 * the key it is keyed with, and the two facts the corpus keeps about them.
 * Masking is on unless --no-masks is said: a recording command that is given
 * nothing masks with the shipped default.rules.
 *
 * The key never comes from the corpus.  Without a key file or
 * $REPRISE_MASK_KEY the run gets a random key and says so: nothing personal
 * is stored either way, but tokens then match only within this run.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reprise/cli.h"
#include "reprise/mask.h"
#include "reprise/store.h"

#ifndef RP_PKGDATADIR
#define RP_PKGDATADIR "/usr/local/share/reprise"
#endif

int rp_cli_mask_option(int code, const char *arg, struct rp_cli_mask_opts *o)
{
	switch (code) {
	case RP_CLI_OPT_MASKS:
		o->rules = arg;
		return 1;
	case RP_CLI_OPT_NO_MASKS:
		o->none = 1;
		return 1;
	case RP_CLI_OPT_MASK_KEY_FILE:
		o->key_file = arg;
		return 1;
	}
	return 0;
}

const char *rp_cli_masks_path(const char *name, char *buf, size_t n)
{
	const char *dir = getenv("REPRISE_MASKS_DIR");
	if (dir && *dir) {
		snprintf(buf, n, "%s/%s", dir, name);
		return buf;
	}
	snprintf(buf, n, "%s/%s", RP_PKGDATADIR, name);
	if (access(buf, R_OK) == 0)
		return buf;
	snprintf(buf, n, "%s/masks/%s", RP_SRCDIR, name);
	return buf;
}

int rp_cli_mask_open(const char *cmd, const struct rp_cli_mask_opts *o, struct rp_mask **out)
{
	*out = NULL;
	if (o->none && (o->rules || o->key_file))
		return rp_cli_usage_error(cmd, "--no-masks cannot be combined with --masks or "
					       "--mask-key-file");
	if (o->none)
		return RP_EXIT_OK;
	char def[4096];
	const char *path = o->rules ? o->rules : rp_cli_masks_path("default.rules", def, sizeof(def));
	struct rp_mask_rules *rules = NULL;
	struct rp_mask_error err;
	if (rp_mask_rules_load(path, &rules, &err)) {
		char msg[1024];
		rp_mask_error_format(&err, msg, sizeof(msg));
		return rp_cli_fail(cmd, RP_EXIT_USAGE, "masks: %s", msg);
	}
	uint8_t key[RP_MASK_KEY_MAX];
	size_t keylen = 0;
	const char *why = NULL;
	int rc = rp_mask_key_load(o->key_file, key, sizeof(key), &keylen, &why);
	if (rc == RP_E_NOTFOUND) {
		keylen = 32;
		if (rp_mask_key_random(key, keylen)) {
			rp_mask_rules_free(rules);
			return rp_cli_fail(cmd, RP_EXIT_USAGE, "masks: cannot draw a random key");
		}
		fprintf(stderr, "reprise %s: masks: no key given (--mask-key-file or %s); using a "
				"one-off random key, so tokens match only within this run\n",
			cmd, RP_MASK_KEY_ENV);
	} else if (rc) {
		rp_mask_rules_free(rules);
		return rp_cli_fail(cmd, RP_EXIT_USAGE, "masks: %s%s%s", o->key_file ? o->key_file : RP_MASK_KEY_ENV,
				   ": ", why);
	} else if (o->key_file) {
		struct stat st;
		if (stat(o->key_file, &st) == 0 && (st.st_mode & 077))
			fprintf(stderr, "reprise %s: masks: %s is readable by others (chmod 600 it)\n",
				cmd, o->key_file);
	}
	rc = rp_mask_new(rules, key, keylen, out);
	memset(key, 0, sizeof(key));
	if (rc)
		return rp_cli_fail(cmd, RP_EXIT_USAGE, "masks: unusable key");
	return RP_EXIT_OK;
}

/* Sets |key| to |value|, or to "mixed" when the corpus already holds records
 * made under another value: a corpus fact must be true of every record. */
static int record_one(struct rp_store *s, const char *key, const char *value)
{
	char old[256];
	if (rp_store_meta_get(s, key, old, sizeof(old)) == 0 && strcmp(old, value) != 0) {
		if (strcmp(old, "mixed") != 0)
			fprintf(stderr, "reprise: %s: this corpus was recorded with %s, this run uses "
					"%s; it now holds both (run reprise audit)\n",
				key, old, value);
		value = "mixed";
	}
	return rp_store_meta_set(s, key, value);
}

int rp_cli_mask_record(struct rp_store *s, const struct rp_mask *m)
{
	int rc = record_one(s, "mask.rules_digest", m ? rp_mask_digest(m) : "none");
	if (!rc)
		rc = record_one(s, "mask.key_fingerprint", m ? rp_mask_key_fingerprint(m) : "none");
	return rc;
}

int rp_cli_mask_hook(struct rp_exchange *x, void *ctx)
{
	return rp_mask_apply(ctx, x, NULL);
}
