/*
 * main: the command dispatcher and helpers shared by every command (usage
 * errors, size parsing).  Commands themselves live one per file.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reprise/cli.h"

static const struct rp_cli_cmd commands[] = {
	{"ls", "list recorded exchanges", rp_cmd_ls},
	{"show", "show one exchange with headers and body", rp_cmd_show},
	{"export", "export a corpus as HAR 1.2 or JSON lines", rp_cmd_export},
	{"import", "import a HAR file or JSON lines into a corpus", rp_cmd_import},
	{"stats", "summarise a corpus", rp_cmd_stats},
	{"proxy", "record HTTP/1.1 traffic as a reverse proxy", rp_cmd_proxy},
	{"capture", "record HTTP/1 traffic passively, live or from a pcap file", rp_cmd_capture},
	{"mask", "check rule files; show what masks do to sample traffic", rp_cmd_mask},
	{"audit", "scan a corpus for personal data the masks missed", rp_cmd_audit},
	{"replay", "replay a corpus at a target and diff every response", rp_cmd_replay},
	{"demo", "record, change, replay, diff: a sample service, no setup", rp_cmd_demo},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: reprise [--version] [--help] <command> [options]\n\n"
		   "Record HTTP traffic, mask personal data, replay it and diff.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < RP_ARRAY_LEN(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'reprise <command> --help' and 'man reprise-<command>' tell more.\n"
		   "exit codes: 0 ok, 1 regressions, 2 usage, 3 unreachable, 4 store error\n");
}

int rp_cli_main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return RP_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return RP_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("reprise %s\n", PACKAGE_VERSION);
		return RP_EXIT_OK;
	}
	for (size_t i = 0; i < RP_ARRAY_LEN(commands); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "reprise: unknown command '%s'\n", cmd);
	usage(stderr);
	return RP_EXIT_USAGE;
}

int rp_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "reprise %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'reprise %s --help')\n", cmd);
	return RP_EXIT_USAGE;
}

int rp_cli_fail(const char *cmd, int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "reprise %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int rp_cli_store_error(const char *cmd, const char *path, int err, const char *why)
{
	/* the store's messages already start with the corpus path */
	if (why && strncmp(why, path, strlen(path)) == 0)
		return rp_cli_fail(cmd, RP_EXIT_STORE, "%s", why);
	return rp_cli_fail(cmd, RP_EXIT_STORE, "%s: %s", path, why ? why : rp_err_name(err));
}

int rp_cli_parse_u64(const char *s, uint64_t *out)
{
	return rp_slice_to_u64(rp_slice_str(s), out) ? RP_E_USAGE : 0;
}

int rp_cli_parse_size(const char *s, uint64_t *out)
{
	size_t n = strlen(s);
	uint64_t mul = 1;
	if (n && strchr("kKmMgGtT", s[n - 1])) {
		switch (s[n - 1] | 0x20) {
		case 'k': mul = 1ULL << 10; break;
		case 'm': mul = 1ULL << 20; break;
		case 'g': mul = 1ULL << 30; break;
		case 't': mul = 1ULL << 40; break;
		}
		n--;
	}
	uint64_t v;
	if (rp_slice_to_u64(rp_slice(s, n), &v) || (v && mul > UINT64_MAX / v))
		return RP_E_USAGE;
	*out = v * mul;
	return 0;
}
