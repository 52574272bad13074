/*
 * limits: every cap in reprise in one table, so that a reader sees at a
 * glance how much memory any input can make us hold.  Modules take their
 * defaults from here; flags may override them per run.
 */
#ifndef REPRISE_LIMITS_H
#define REPRISE_LIMITS_H

/* HTTP/1 codec */
#define RP_LIMIT_H1_START_LINE   (8 * 1024)   /* request/status line bytes */
#define RP_LIMIT_H1_HEADER_BYTES (64 * 1024)  /* all header bytes of a message */
#define RP_LIMIT_H1_HEADER_COUNT 128          /* header fields per message */
#define RP_LIMIT_H1_CHUNK_LINE   1024         /* chunk-size line incl. extensions */

/* Exchange model */
#define RP_LIMIT_BODY_RECORD     (16 * 1024 * 1024) /* body bytes kept per message */
#define RP_LIMIT_BODY_DECODED    (64 * 1024 * 1024) /* content-decoding output cap */
#define RP_LIMIT_POOL_CHUNK      (8 * 1024)

/* Record codec */
#define RP_LIMIT_RECORD          (256 * 1024 * 1024) /* one encoded record */
#define RP_LIMIT_RECORD_FIELDS   4096                /* headers per list in a record */

/* Store */
#define RP_LIMIT_STORE_QUEUE     8192                /* records waiting for the writer */
#define RP_LIMIT_STORE_QUEUE_BYTES (256ULL << 20)    /* bytes waiting for the writer */
#define RP_LIMIT_STORE_BATCH     1000                /* records per transaction */
#define RP_LIMIT_STORE_BATCH_MS  50                  /* max wait before a commit */
#define RP_LIMIT_STORE_MAP_INIT  (64ULL << 20)       /* initial map size */
#define RP_LIMIT_STORE_MAX_SIZE  (8ULL << 30)        /* default --max-size */

/* Recorder (between sources and the store) */
#define RP_LIMIT_RECORDER_QUEUE  8192                /* exchanges waiting to be recorded */
#define RP_LIMIT_RECORDER_QUEUE_BYTES (256ULL << 20) /* bytes those exchanges hold */

/* Proxy: defaults of the flags of `reprise proxy` */
#define RP_LIMIT_PROXY_CONNS     10000               /* client connections (--max-conns) */
#define RP_LIMIT_PROXY_POOL      64                  /* idle upstream conns per worker */
#define RP_LIMIT_PROXY_READ      (64 * 1024)         /* bytes asked of one read() */
#define RP_LIMIT_PROXY_HIWAT     (256 * 1024)        /* output queued before the other
                                                        side stops being read */
#define RP_LIMIT_PROXY_PIPELINE  (64 * 1024)         /* pipelined request bytes read
                                                        ahead while a response is due */

/* Import / JSON */
#define RP_LIMIT_IMPORT_FILE     (1024ULL << 20)     /* HAR file size */

/* Capture (passive sniffer) */
#define RP_LIMIT_CAPTURE_FLOW_MEMORY (256u << 20) /* default --max-flow-memory:
                                                     out-of-order data, unparsed
                                                     tails and bodies in flight */
#define RP_LIMIT_CAPTURE_FLOWS   (1u << 18)  /* flows tracked at once */
#define RP_LIMIT_CAPTURE_INFLIGHT 128        /* exchanges in flight per connection */
#define RP_LIMIT_CAPTURE_CARRY   (2 * RP_LIMIT_H1_HEADER_BYTES + RP_LIMIT_H1_START_LINE)
                                             /* unparsed bytes held per direction */
#define RP_LIMIT_CAPTURE_SNAPLEN 262144      /* default --snaplen */
#define RP_LIMIT_IPFRAG_DATAGRAMS 256        /* datagrams being reassembled */
#define RP_LIMIT_IPFRAG_MEMORY   (8u << 20)  /* fragment bytes held in all */
#define RP_LIMIT_IPFRAG_FRAGS    64          /* fragments per datagram */
#define RP_LIMIT_IPFRAG_TIMEOUT_S 30         /* seconds a datagram may stay incomplete */

/* Masking */
#define RP_LIMIT_MASK_FILE       (1024 * 1024) /* one rule file */
#define RP_LIMIT_MASK_LINE       4096          /* one rule line */
#define RP_LIMIT_MASK_RULES      10000         /* rules in a set, includes expanded */
#define RP_LIMIT_MASK_INCLUDE    16            /* include nesting */
#define RP_LIMIT_MASK_JSON_DEPTH 256           /* JSON nesting masked structurally */
#define RP_LIMIT_MASK_PARTS      1024          /* multipart parts per body */
#define RP_LIMIT_MASK_NEST       4             /* multipart/JSON-in-part nesting */
#define RP_LIMIT_MASK_REGEX_WORK 10000000      /* PCRE2 match limit per match */

/* Diff */
#define RP_LIMIT_DIFF_BODY       (8 * 1024 * 1024)   /* bodies parsed (JSON, lines);
                                                         larger ones by digest */
#define RP_LIMIT_DIFF_LCS_CELLS  (1024 * 1024)       /* alignment table of one array
                                                         or text; past it, positional */
#define RP_LIMIT_DIFF_DEPTH      512                 /* JSON nesting compared */
#define RP_LIMIT_NOISE_FILE      (1024 * 1024)       /* noise rule file */

/* Replay */
#define RP_LIMIT_REPLAY_WINDOW   4096                /* exchanges read ahead */
#define RP_LIMIT_REPLAY_WINDOW_BYTES (64ULL << 20)   /* body bytes read ahead */
#define RP_LIMIT_REPLAY_CONNS    10000               /* --concurrency ceiling */
#define RP_LIMIT_REPLAY_READ     (64 * 1024)         /* read size per response read */

#endif
