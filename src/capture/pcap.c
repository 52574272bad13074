/*
 * pcap: the packet source adapter, the only part of the capture path that
 * does I/O.  A capture file (or standard input) is read into one reused
 * buffer and parsed in place by pcapfile.c, BPF filters applied with
 * pcap_offline_filter (a reused buffer stays in the CPU's caches and TLB; a
 * mapping of the file costs a page-table walk per page on first touch, and
 * libpcap copies every packet twice); a live
 * interface, standard input, or a file format pcapfile.c does not know goes
 * through libpcap, with nanosecond timestamps (microseconds are scaled when
 * the kernel offers no better).  Packets reach a callback in batches.  libpcap
 * errors are translated here into enum rp_err plus a message; nothing of
 * libpcap travels upward but link types, as LINKTYPE_ numbers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reprise/capture.h"

/* Read buffer for capture files: libpcap reads each packet through stdio,
 * and a large buffer turns that into few large reads. */
#define FILE_BUFFER (1u << 20)

#define READ_BUFFER (1u << 20)   /* file read buffer, grown for larger records */
#define MAX_BUFFER (64u << 20)   /* no record of a readable file needs more */
#define MAX_FILTER_LINKS 8

struct rp_pcap {
	pcap_t *p;             /* libpcap handle (live, stdin, fallback) */
	char *fbuf;
	/* file read by pcapfile.c */
	int fd;
	uint8_t *buf;
	size_t cap;
	int64_t consumed;      /* file bytes before the window */
	struct rp_pcapfile file;
	int mapped;            /* (the file is read by pcapfile.c) */
	int timeout_ms;        /* live: longest wait for packets */
	volatile sig_atomic_t brk;
	char *filter;
	struct {
		int link;
		int ok;
		struct bpf_program prog;
	} progs[MAX_FILTER_LINKS];
	unsigned nprogs;
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

/* The filter program for link type |link| of a mapped file (compiled on
 * first use), or NULL when it does not compile for that link. */
static struct bpf_program *file_prog(struct rp_pcap *pc, int link)
{
	for (unsigned i = 0; i < pc->nprogs; i++)
		if (pc->progs[i].link == link)
			return pc->progs[i].ok ? &pc->progs[i].prog : NULL;
	if (pc->nprogs == MAX_FILTER_LINKS)
		return NULL;
	unsigned i = pc->nprogs++;
	pc->progs[i].link = link;
	pcap_t *dead = pcap_open_dead(link, 262144);
	pc->progs[i].ok = dead && pcap_compile(dead, &pc->progs[i].prog, pc->filter, 1,
					       PCAP_NETMASK_UNKNOWN) == 0;
	if (dead)
		pcap_close(dead);
	return pc->progs[i].ok ? &pc->progs[i].prog : NULL;
}

static int set_filter(struct rp_pcap *pc, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;
	if (!filter || !*filter)
		return 0;
	if (pc->mapped) {
		pc->filter = rp_xstrdup(filter);
		if (!file_prog(pc, pc->link)) {
			pcap_t *dead = pcap_open_dead(pc->link, 262144);
			snprintf(err, errlen, "bad filter '%s': %s", filter,
				 dead && pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0
					 ? pcap_geterr(dead) : "does not compile for this link type");
			if (dead)
				pcap_close(dead);
			return RP_E_FORMAT;
		}
		return 0;
	}
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

/* Fills the window from the file: keeps the unread bytes, reads at least
 * |need| bytes in all when the file has them.  0 or RP_E_IO. */
static int refill(struct rp_pcap *pc, size_t need, char *err, size_t errlen)
{
	struct rp_pcapfile *f = &pc->file;
	size_t keep = f->n - f->off;
	if (need > MAX_BUFFER) {
		snprintf(err, errlen, "a record of %zu bytes: not a sane capture file", need);
		return RP_E_IO;
	}
	if (need > pc->cap) {
		size_t cap = pc->cap;
		while (cap < need)
			cap *= 2;
		uint8_t *nb = rp_xmalloc(cap);
		memcpy(nb, pc->buf + f->off, keep);
		free(pc->buf);
		pc->buf = nb;
		pc->cap = cap;
	} else if (keep) {
		memmove(pc->buf, pc->buf + f->off, keep);
	}
	pc->consumed += (int64_t)f->off;
	size_t n = keep;
	while (n < pc->cap && !f->eof) {
		ssize_t r = read(pc->fd, pc->buf + n, pc->cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			return RP_E_IO;
		}
		if (r == 0)
			f->eof = 1;
		n += (size_t)r;
		if (n >= need && n >= pc->cap / 2)
			break;
	}
	f->p = pc->buf;
	f->n = n;
	f->off = 0;
	return 0;
}

/* Opens |path| for pcapfile.c.  Returns 0, 1 (a format only libpcap reads),
 * or an error. */
static int read_file(struct rp_pcap *pc, const char *path, char *err, size_t errlen)
{
	const char *why = NULL;
	pc->fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
	if (pc->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? RP_E_NOTFOUND : RP_E_IO;
	}
	posix_fadvise(pc->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	pc->cap = READ_BUFFER;
	pc->buf = rp_xmalloc(pc->cap);
	int rc = refill(pc, 24, err, errlen);
	if (rc)
		return rc;
	struct rp_pcapfile_pkt pk;
	uint8_t eof = pc->file.eof;
	if (rp_pcapfile_open(&pc->file, pc->buf, pc->file.n, &why) != 0) {
		if (strcmp(path, "-") == 0) { /* cannot be read again */
			snprintf(err, errlen, "standard input: %s", why);
			return RP_E_FORMAT;
		}
		close(pc->fd);
		pc->fd = -1;
		return 1;
	}
	pc->file.eof = eof;
	/* The link type of the first packet's interface (pcapng declares
	 * interfaces in blocks of their own). */
	pc->link = pc->file.link;
	if (pc->file.ng) {
		struct rp_pcapfile peek = pc->file;
		pc->link = rp_pcapfile_next(&peek, &pk, &why) == 0 ? pk.link
			   : peek.nifs ? peek.ifs[0].link : RP_LINK_ETHERNET;
	}
	pc->mapped = 1;
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
	int rc = read_file(pc, o->file, err, errlen);
	if (rc <= 0)
		return rc;
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
	/* Blocking reads on Linux may not time out while no packet comes:
	 * read without blocking and wait in poll(2), with our own timeout. */
	pc->fd = pcap_get_selectable_fd(pc->p);
	pc->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 200;
	if (pc->fd < 0 || pcap_setnonblock(pc->p, 1, ebuf) != 0) {
		snprintf(err, errlen, "%s: cannot read without blocking: %s", o->iface, ebuf);
		return RP_E_IO;
	}
	return 0;
}

int rp_pcap_open(const struct rp_pcap_opts *o, struct rp_pcap **out, char *err, size_t errlen)
{
	struct rp_pcap *pc = rp_xcalloc(1, sizeof(*pc));
	int rc;
	pc->fd = -1;
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
	if (!pc->mapped)
		pc->link = dlt_to_linktype(pcap_datalink(pc->p));
	if ((rc = set_filter(pc, o->filter, err, errlen)))
		goto out;
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
	if (pc->fd >= 0 && !pc->live)
		close(pc->fd);
	free(pc->buf);
	for (unsigned i = 0; i < pc->nprogs; i++)
		if (pc->progs[i].ok)
			pcap_freecode(&pc->progs[i].prog);
	free(pc->filter);
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
	pc->fn(pc->ctx, ts, pc->link, bytes, h->caplen, h->len);
}

static int dispatch_mapped(struct rp_pcap *pc, int max, rp_pcap_packet_fn fn, void *ctx,
			   char *err, size_t errlen)
{
	struct rp_pcapfile_pkt pk;
	const char *why = NULL;
	int n = 0;
	if (max <= 0)
		max = 4096;
	while (n < max) {
		if (pc->brk) {
			pc->brk = 0;
			return RP_E_CLOSED;
		}
		int rc = rp_pcapfile_next(&pc->file, &pk, &why);
		if (rc == RP_E_AGAIN) {
			size_t need = pc->file.need;
			if (need < 16)
				need = 16;
			if ((rc = refill(pc, need, err, errlen)))
				return rc;
			continue;
		}
		if (rc == RP_E_CLOSED)
			return n ? n : RP_E_CLOSED;
		if (rc) {
			snprintf(err, errlen, "damaged capture file at byte %lld: %s",
				 (long long)(pc->consumed + (int64_t)pc->file.off), why);
			return RP_E_IO;
		}
		if (pc->filter) {
			struct bpf_program *prog = file_prog(pc, pk.link);
			struct pcap_pkthdr h = {.caplen = pk.caplen, .len = pk.len};
			if (!prog || !pcap_offline_filter(prog, &h, pk.data))
				continue;
		}
		fn(ctx, pk.ts, pk.link, pk.data, pk.caplen, pk.len);
		n++;
	}
	return n;
}

int rp_pcap_dispatch(struct rp_pcap *pc, int max, rp_pcap_packet_fn fn, void *ctx, char *err,
		     size_t errlen)
{
	if (pc->mapped)
		return dispatch_mapped(pc, max, fn, ctx, err, errlen);
	pc->fn = fn;
	pc->ctx = ctx;
	int n = pcap_dispatch(pc->p, max, on_packet, (u_char *)pc);
	if (n == 0 && pc->live) {
		if (pc->brk) {
			pc->brk = 0;
			return RP_E_CLOSED;
		}
		struct pollfd pfd = {.fd = pc->fd, .events = POLLIN};
		int r = poll(&pfd, 1, pc->timeout_ms);
		if (pc->brk) {
			pc->brk = 0;
			return RP_E_CLOSED;
		}
		if (r < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return RP_E_IO;
		}
		if (r > 0)
			n = pcap_dispatch(pc->p, max, on_packet, (u_char *)pc);
	}
	if (n == PCAP_ERROR_BREAK) {
		pc->brk = 0;
		return RP_E_CLOSED;
	}
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
	pc->brk = 1;
	if (!pc->mapped)
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
	if (pc->mapped) {
		out->file_pos = pc->consumed + (int64_t)pc->file.off;
		return;
	}
	FILE *f = pcap_file(pc->p);
	if (f) {
		long pos = ftell(f);
		if (pos >= 0)
			out->file_pos = pos;
	}
}
