/*
 * record_fuzz: libFuzzer target for the record decoder.  Arbitrary bytes go
 * to rp_record_decode, which must return 0, RP_E_FORMAT or RP_E_VERSION
 * (with a reason) and never crash, hang or overread.  Whatever decodes must
 * survive its own round trip: encode it again (body references kept), decode
 * that, and find every field unchanged.  A broken property aborts, which the
 * fuzzer (or tests/fuzz/record_fuzz_replay in make check) reports.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "../unit/record/xgen.h"
#include "reprise/limits.h"
#include "reprise/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *detail)
{
	fprintf(stderr, "record_fuzz: %s: %s\n", what, detail ? detail : "-");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_exchange *x = rp_exchange_new(), *y = NULL;
	struct rp_record_body_ref refs[2], refs2[2];
	const char *why = NULL;
	struct rp_buf b;
	rp_buf_init(&b, RP_LIMIT_RECORD);

	int rc = rp_record_decode(rp_slice(data, size), x, refs, &why);
	if (rc == RP_E_FORMAT || rc == RP_E_VERSION) {
		if (!why)
			broken("error without a reason", rp_err_name(rc));
		goto out;
	}
	if (rc != 0)
		broken("unexpected status", rp_err_name(rc));

	struct rp_record_opts o = xgen_opts(refs);
	rc = rp_record_encode(x, &o, &b);
	if (rc)
		broken("re-encoding a decoded record failed", rp_err_name(rc));
	y = rp_exchange_new();
	rc = rp_record_decode(rp_buf_slice(&b), y, refs2, &why);
	if (rc)
		broken("re-encoded record does not decode", why);
	char buf[256];
	const char *d = xgen_diff(x, refs, y, buf, sizeof(buf));
	if (d)
		broken("round trip changed the exchange", d);
	for (int s = 0; s < 2; s++)
		if (refs[s].present != refs2[s].present || refs[s].len != refs2[s].len ||
		    memcmp(refs[s].digest, refs2[s].digest, RP_DIGEST_LEN) != 0)
			broken("round trip changed a body reference", s ? "response" : "request");
out:
	rp_buf_dispose(&b);
	rp_exchange_free(x);
	rp_exchange_free(y);
	return 0;
}
