/*
 * patch_test: the JSON diff checked against an oracle.  For every case of
 * the JSON Patch test suite (tests/data/diff, RFC 6902) that has a before
 * and an after document, the diff of before -> after is applied to before,
 * item by item, and must give after; the diff of the result against after
 * must then be empty.  Skipped cases are printed with their reason.
 */
#include "config.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "reprise/diff.h"

/* Navigates |root| along all but the last segment of |p|. */
static json_t *parent_of(json_t *root, const struct rp_jpath *p)
{
	json_t *cur = root;
	for (size_t i = 0; i + 1 < p->n && cur; i++) {
		const struct rp_jseg *g = &p->v[i];
		cur = g->kind == RP_JSEG_KEY ? json_object_get(cur, g->key)
					     : json_array_get(cur, g->index);
	}
	return cur;
}

/* Applies one item to |*root|.  Returns 0 or -1 (with a message printed). */
static int apply(json_t **root, const struct rp_diff_item *it)
{
	struct rp_jpath p;
	const char *why = NULL;
	json_t *v = NULL;
	int rc = -1;

	if (rp_jpath_parse(it->path, strlen(it->path), &p, NULL, &why)) {
		printf("  unparsable path %s: %s\n", it->path, why);
		return -1;
	}
	if (it->actual) {
		v = json_loads(it->actual, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (!v) {
			printf("  unparsable value %s\n", it->actual);
			goto out;
		}
	}
	if (p.n == 0) {
		if (it->op == RP_DIFF_REMOVED)
			goto out;
		json_decref(*root);
		*root = json_incref(v);
		rc = 0;
		goto out;
	}
	json_t *par = parent_of(*root, &p);
	const struct rp_jseg *last = &p.v[p.n - 1];
	if (!par)
		goto out;
	if (last->kind == RP_JSEG_KEY && json_is_object(par)) {
		if (it->op == RP_DIFF_REMOVED)
			rc = json_object_del(par, last->key);
		else
			rc = json_object_set(par, last->key, v);
	} else if (last->kind == RP_JSEG_INDEX && json_is_array(par)) {
		if (it->op == RP_DIFF_REMOVED)
			rc = json_array_remove(par, last->index);
		else if (it->op == RP_DIFF_ADDED)
			rc = json_array_insert(par, last->index, v);
		else
			rc = json_array_set(par, last->index, v);
	}
out:
	json_decref(v);
	rp_jpath_dispose(&p);
	return rc;
}

static int tried, skipped;

static void run_case(const char *file, size_t idx, json_t *tc)
{
	json_t *doc = json_object_get(tc, "doc"), *exp = json_object_get(tc, "expected");
	const char *comment = json_string_value(json_object_get(tc, "comment"));
	const char *reason = NULL;

	if (json_is_true(json_object_get(tc, "disabled")))
		reason = "disabled in the suite";
	else if (json_object_get(tc, "error"))
		reason = "an error case: no after document";
	else if (!doc || !exp)
		reason = "no expected document";
	if (reason) {
		printf("skip %s #%zu (%s): %s\n", file, idx, comment ? comment : "-", reason);
		skipped++;
		return;
	}
	tried++;
	char *sa = json_dumps(doc, JSON_ENCODE_ANY | JSON_COMPACT);
	char *sb = json_dumps(exp, JSON_ENCODE_ANY | JSON_COMPACT);
	struct rp_diff_opts opts = {.max_items = 100000, .max_value = SIZE_MAX};
	struct rp_diff d;
	rp_diff_init(&d);
	assert_int_equal(rp_diff_json(&opts, rp_slice_str(sa), rp_slice_str(sb), &d), 0);
	assert_int_equal(d.dropped, 0);
	json_t *cur = json_deep_copy(doc);
	for (size_t i = 0; i < d.n; i++) {
		if (apply(&cur, &d.v[i]) != 0) {
			printf("%s #%zu (%s): cannot apply %s %s\n", file, idx, comment ? comment : "-",
			       rp_diff_op_name(d.v[i].op), d.v[i].path);
			fail();
		}
	}
	char *sc = json_dumps(cur, JSON_ENCODE_ANY | JSON_COMPACT);
	struct rp_diff check;
	rp_diff_init(&check);
	assert_int_equal(rp_diff_json(&opts, rp_slice_str(sc), rp_slice_str(sb), &check), 0);
	if (check.real != 0 || (!json_equal(cur, exp) && d.n != 0)) {
		printf("%s #%zu (%s): got %s, want %s\n", file, idx, comment ? comment : "-", sc, sb);
		fail();
	}
	rp_diff_dispose(&check);
	rp_diff_dispose(&d);
	json_decref(cur);
	free(sa);
	free(sb);
	free(sc);
}

static void run_file(const char *name)
{
	char path[1024];
	json_error_t err;
	snprintf(path, sizeof(path), "%s/tests/data/diff/%s", RP_SRCDIR, name);
	json_t *cases = json_load_file(path, 0, &err);
	if (!cases)
		printf("%s: %s (line %d)\n", path, err.text, err.line);
	assert_non_null(cases);
	for (size_t i = 0; i < json_array_size(cases); i++)
		run_case(name, i, json_array_get(cases, i));
	json_decref(cases);
}

static void test_suite(void **state)
{
	(void)state;
	run_file("json-patch-tests.json");
	run_file("json-patch-spec-tests.json");
	printf("json-patch oracle: %d cases checked, %d skipped\n", tried, skipped);
	assert_true(tried >= 70);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
