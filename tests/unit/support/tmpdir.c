/*
 * tmpdir: see tmpdir.h.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpdir.h"

int rp_test_tmpdir(char *dir, size_t len, const char *name)
{
	snprintf(dir, len, "/tmp/rp-%s-XXXXXX", name);
	return mkdtemp(dir) ? 0 : -1;
}

void rp_test_rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[512];
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rp_test_rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}
