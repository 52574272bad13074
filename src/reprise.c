/* reprise: the binary.  Everything but this lives in libreprise. */
#include "config.h"

#include "reprise/cli.h"

int main(int argc, char **argv)
{
	return rp_cli_main(argc, argv);
}
