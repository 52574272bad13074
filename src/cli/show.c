/* show: placeholder until the read-side commands land (issue 2). */
#include "config.h"

#include "reprise/cli.h"

int rp_cmd_show(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return rp_cli_fail("show", RP_EXIT_USAGE, "not built yet");
}
