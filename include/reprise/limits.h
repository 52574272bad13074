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

/* Import / JSON */
#define RP_LIMIT_IMPORT_FILE     (1024ULL << 20)     /* HAR file size */

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
