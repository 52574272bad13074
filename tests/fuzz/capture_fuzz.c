/*
 * capture_fuzz: libFuzzer target for the whole passive path below the
 * recorder — a capture file (pcap or pcapng) parsed in place, every packet
 * decoded (link layers, IP, fragments), reassembled per flow and parsed as
 * HTTP/1 into exchanges.  Small ceilings (1 MiB of flow memory, 64 flows,
 * 4 KiB bodies) so that eviction, skipping and truncation are reached by
 * small inputs.  The target aborts when an invariant breaks:
 *
 *   - the memory charged never passes the ceiling by more than one
 *     segment's worth, and is zero once everything is finished;
 *   - no flow is left after rp_capture_finish;
 *   - every exchange handed out has a request or a response, and a body
 *     no longer than the cap.
 *
 * ASan and UBSan (the sanitizer build) catch the rest.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reprise/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                     \
	do {                         \
		if (!(c))            \
			abort();     \
	} while (0)

#define MAX_MEM (1u << 20)
#define MAX_BODY 4096u

static void sink(void *ctx, struct rp_exchange *x)
{
	(void)ctx;
	CHECK(x->req.method.n || x->resp.status);
	CHECK(x->req.m.body.n <= MAX_BODY && x->resp.m.body.n <= MAX_BODY);
	rp_exchange_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_pcapfile f;
	struct rp_pcapfile_pkt pk;
	const char *why;
	if (rp_pcapfile_open(&f, data, size, &why))
		return 0;
	f.eof = 1;
	static const uint16_t ports[] = {80, 8080, 21080};
	struct rp_capture_opts o = {.max_flow_memory = MAX_MEM, .max_flows = 64,
				    .max_body = MAX_BODY, .idle_ns = 30000000000LL,
				    .server_ports = ports, .nserver_ports = 3};
	struct rp_capture_sink s = {sink, NULL};
	struct rp_capture *c = rp_capture_new(&o, &s);
	struct rp_capture_stats st;
	int n = 0;
	while (n++ < 100000 && rp_pcapfile_next(&f, &pk, &why) == 0) {
		rp_capture_packet(c, pk.link, pk.ts, pk.data, pk.caplen);
		rp_capture_get_stats(c, &st);
		CHECK(st.mem_used <= MAX_MEM + 70000);
	}
	rp_capture_finish(c);
	rp_capture_get_stats(c, &st);
	CHECK(st.mem_used == 0);
	CHECK(st.flows_active == 0);
	rp_capture_free(c);
	return 0;
}
