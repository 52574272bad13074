/*
 * junit: the --junit FILE.xml output, the form CI servers read.  One test
 * suite; one test case per route, which fails (type "regression") when any
 * exchange of the route differed and errors (type "replay") when the only
 * problems were replay failures; the failure text carries the route's
 * example differences.  Text is escaped for XML 1.0 (characters XML cannot
 * carry become '?').  Written via a temporary file and a rename.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "report-int.h"

static void xml(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if (*p < 0x20 && *p != '\n' && *p != '\t')
				fputc('?', f);
			else
				fputc(*p, f);
		}
	}
}

int rp_report_junit(const struct rp_report *r, const char *path, const struct rp_replay_stats *st,
		    char *err, size_t errlen)
{
	size_t n = strlen(path) + 16;
	char *tmp = rp_xmalloc(n);
	FILE *f = NULL;
	struct route **routes = NULL;
	int rc = 0;

	snprintf(tmp, n, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "--junit %s: cannot create: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		rc = RP_E_IO;
		goto out;
	}
	size_t nr = rp_report_routes(r, &routes);
	size_t failures = 0, errors = 0;
	for (size_t i = 0; i < nr; i++) {
		if (routes[i]->differ)
			failures++;
		else if (routes[i]->failed)
			errors++;
	}
	double el = (double)(st->end - st->start) / 1e9;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"reprise replay\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		   "time=\"%.3f\">\n", nr, failures, errors, el);
	fprintf(f, "  <testsuite name=\"reprise replay ");
	xml(f, r->o.target ? r->o.target : "-");
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n", nr, failures,
		errors, el);
	for (size_t i = 0; i < nr; i++) {
		const struct route *rt = routes[i];
		double t = rt->rep->count ? rt->rep->sum / 1e9 : 0;
		fprintf(f, "    <testcase classname=\"reprise.replay\" name=\"");
		xml(f, rt->name);
		fprintf(f, "\" time=\"%.3f\">\n", t);
		if (rt->differ || rt->failed) {
			const char *tag = rt->differ ? "failure" : "error";
			fprintf(f, "      <%s type=\"%s\" message=\"", tag,
				rt->differ ? "regression" : "replay");
			fprintf(f, "%llu of %llu exchanges differ, %llu failed (parity %.1f%%)",
				(unsigned long long)rt->differ, (unsigned long long)rt->requests,
				(unsigned long long)rt->failed, rp_report_route_parity(rt));
			fprintf(f, "\">");
			size_t idx[5];
			size_t k = rp_report_top_paths(rt->paths, rt->npaths, idx, 5);
			for (size_t j = 0; j < k; j++) {
				char line[600];
				snprintf(line, sizeof(line), "differs at %s in %llu exchange%s\n",
					 rt->paths[idx[j]].path, (unsigned long long)rt->paths[idx[j]].n,
					 rt->paths[idx[j]].n == 1 ? "" : "s");
				xml(f, line);
			}
			for (size_t j = 0; j < rt->nex; j++) {
				const struct example *ex = &rt->ex[j];
				char line[700];
				snprintf(line, sizeof(line), "\nexchange %llu: %s\n",
					 (unsigned long long)ex->id, ex->request);
				xml(f, line);
				if (ex->failure) {
					xml(f, "  ");
					xml(f, ex->failure);
					xml(f, "\n");
				}
				for (size_t m = 0; m < ex->nitems; m++) {
					xml(f, "  ");
					xml(f, ex->items[m]);
					xml(f, "\n");
				}
				if (ex->more)
					fprintf(f, "  ... and %zu more\n", ex->more);
			}
			fprintf(f, "</%s>\n", tag);
		}
		fprintf(f, "    </testcase>\n");
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
	int bad = ferror(f);
	bad |= fclose(f) != 0;
	f = NULL;
	if (bad || rename(tmp, path) != 0) {
		snprintf(err, errlen, "--junit %s: cannot write: %s", path, strerror(errno));
		unlink(tmp);
		rc = RP_E_IO;
	}
out:
	free(routes);
	free(tmp);
	return rc;
}
