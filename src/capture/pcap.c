/*
 * pcap: the libpcap adapter, the only part of the capture path that does
 * I/O.  Opens a pcap or pcapng file or a live interface with nanosecond
 * timestamps (microseconds are scaled when the kernel offers no better),
 * applies the BPF filter, and hands packets to a callback in batches.  libpcap
 * errors are translated here into enum rp_err plus a message; nothing of
 * libpcap travels upward but the link type, mapped to its LINKTYPE_ number.
 */
#include "config.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "reprise/capture.h"

/* Read buffer for capture files: libpcap reads each packet through stdio,
 * and a large buffer turns that into few large reads. */
#define FILE_BUFFER (1u << 20)

struct rp_pcap {
	pcap_t *p;
	char *fbuf;
	int live;
	int nano;
	int link;
	int64_t file_size;
	rp_pcap_packet_fn fn;
	void *ctx;
};

/* DLT_ values (what pcap_datalink returns) to LINKTYPE_ values. */
static int dlt_to_linktype(int dlt)
{
	switch (dlt) {
	case DLT_NULL: return RP_LINK_NULL;
	case DLT_EN10MB: return RP_LINK_ETHERNET;
	case DLT_RAW: return RP_LINK_RAW;
#ifdef DLT_LOOP
	case DLT_LOOP: return RP_LINK_LOOP;
#endif
	case DLT_LINUX_SLL: return RP_LINK_LINUX_SLL;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2: return RP_LINK_LINUX_SLL2;
#endif
#ifdef DLT_IPV4
	case DLT_IPV4: return RP_LINK_IPV4;
#endif
#ifdef DLT_IPV6
	case DLT_IPV6: return RP_LINK_IPV6;
#endif
	default: return 100000 + dlt; /* not one we decode */
	}
}

static int set_filter(struct rp_pcap *pc, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;
	if (!filter || !*filter)
		return 0;
	if (pcap_compile(pc->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "bad filter '%s': %s", filter, pcap_geterr(pc->p));
		return RP_E_FORMAT;
	}
	int rc = pcap_setfilter(pc->p, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		snprintf(err, errlen, "cannot apply filter '%s': %s", filter, pcap_geterr(pc->p));
		return RP_E_IO;
	}
	return 0;
}

static int open_file(struct rp_pcap *pc, const struct rp_pcap_opts *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	pc->file_size = -1;
	if (strcmp(o->file, "-") != 0) {
		if (stat(o->file, &st) != 0) {
			snprintf(err, errlen, "%s: %s", o->file, strerror(errno));
			return errno == ENOENT ? RP_E_NOTFOUND : RP_E_IO;
		}
		if (S_ISREG(st.st_mode))
			pc->file_size = (int64_t)st.st_size;
	}
	FILE *fp = strcmp(o->file, "-") == 0 ? stdin : fopen(o->file, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", o->file, strerror(errno));
		return errno == ENOENT ? RP_E_NOTFOUND : RP_E_IO;
	}
	pc->fbuf = rp_xmalloc(FILE_BUFFER);
	setvbuf(fp, pc->fbuf, _IOFBF, FILE_BUFFER);
	/* libpcap owns |fp| from here and closes it. */
	pc->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!pc->p) {
		if (fp != stdin)
			fclose(fp);
		snprintf(err, errlen, "%s: not a pcap or pcapng file (%s)", o->file, ebuf);
		return RP_E_FORMAT;
	}
	pc->nano = 1;
	return 0;
}

static int open_live(struct rp_pcap *pc, const struct rp_pcap_opts *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pc->live = 1;
	pc->file_size = -1;
	pc->p = pcap_create(o->iface, ebuf);
	if (!pc->p) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		return RP_E_IO;
	}
	pcap_set_snaplen(pc->p, o->snaplen > 0 ? o->snaplen : 262144);
	pcap_set_promisc(pc->p, o->promisc ? 1 : 0);
	pcap_set_timeout(pc->p, o->timeout_ms > 0 ? o->timeout_ms : 200);
	if (o->buffer_size)
		pcap_set_buffer_size(pc->p, o->buffer_size > INT32_MAX ? INT32_MAX
								       : (int)o->buffer_size);
	pc->nano = pcap_set_tstamp_precision(pc->p, PCAP_TSTAMP_PRECISION_NANO) == 0;
	int rc = pcap_activate(pc->p);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", o->iface,
			 rc == PCAP_ERROR ? pcap_geterr(pc->p) : pcap_statustostr(rc));
		switch (rc) {
		case PCAP_ERROR_NO_SUCH_DEVICE: return RP_E_NOTFOUND;
		default: return RP_E_IO;
		}
	}
	pc->nano = pcap_get_tstamp_precision(pc->p) == PCAP_TSTAMP_PRECISION_NANO;
	return 0;
}

int rp_pcap_open(const struct rp_pcap_opts *o, struct rp_pcap **out, char *err, size_t errlen)
{
	struct rp_pcap *pc = rp_xcalloc(1, sizeof(*pc));
	int rc;
	*out = NULL;
	if (o->file)
		rc = open_file(pc, o, err, errlen);
	else if (o->iface)
		rc = open_live(pc, o, err, errlen);
	else {
		snprintf(err, errlen, "no file and no interface");
		rc = RP_E_USAGE;
	}
	if (rc)
		goto out;
	if ((rc = set_filter(pc, o->filter, err, errlen)))
		goto out;
	pc->link = dlt_to_linktype(pcap_datalink(pc->p));
	*out = pc;
out:
	if (rc)
		rp_pcap_close(pc);
	return rc;
}

void rp_pcap_close(struct rp_pcap *pc)
{
	if (!pc)
		return;
	if (pc->p)
		pcap_close(pc->p);
	free(pc->fbuf); /* after the stream using it is closed */
	free(pc);
}

int rp_pcap_link(const struct rp_pcap *pc)
{
	return pc->link;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct rp_pcap *pc = (struct rp_pcap *)user;
	int64_t ts = (int64_t)h->ts.tv_sec * 1000000000LL +
		     (int64_t)h->ts.tv_usec * (pc->nano ? 1 : 1000);
	pc->fn(pc->ctx, ts, bytes, h->caplen, h->len);
}

int rp_pcap_dispatch(struct rp_pcap *pc, int max, rp_pcap_packet_fn fn, void *ctx, char *err,
		     size_t errlen)
{
	pc->fn = fn;
	pc->ctx = ctx;
	int n = pcap_dispatch(pc->p, max, on_packet, (u_char *)pc);
	if (n == PCAP_ERROR_BREAK)
		return RP_E_CLOSED;
	if (n < 0) {
		snprintf(err, errlen, "%s", pcap_geterr(pc->p));
		return RP_E_IO;
	}
	if (n == 0 && !pc->live)
		return RP_E_CLOSED;
	return n;
}

void rp_pcap_break(struct rp_pcap *pc)
{
	pcap_breakloop(pc->p);
}

void rp_pcap_get_stats(struct rp_pcap *pc, struct rp_pcap_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->file_pos = -1;
	out->file_size = pc->file_size;
	if (pc->live) {
		struct pcap_stat ps;
		if (pcap_stats(pc->p, &ps) == 0) {
			out->received = ps.ps_recv;
			out->dropped = ps.ps_drop;
			out->if_dropped = ps.ps_ifdrop;
		}
		return;
	}
	FILE *f = pcap_file(pc->p);
	if (f) {
		long pos = ftell(f);
		if (pos >= 0)
			out->file_pos = pos;
	}
}
