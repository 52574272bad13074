/*
 * store: opening, checking and closing a corpus, its meta values, totals and
 * statistics (store.h).  This file and its siblings are the only place that
 * speaks LMDB: every MDB_* code is logged here with its raw value and turned
 * into an enum rp_err.  Invariants: a corpus is recognised by its `meta`
 * database and a schema we can read; a writable handle holds an exclusive
 * flock on data.mdb, so only one process writes a corpus (ids are handed out
 * by that process alone); data.mdb and lock.mdb are 0600 whatever the umask.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-int.h"

static _Thread_local char why_buf[512];

const char *rp_store_why(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return why_buf;
}

static const char *mdb_name(int rc)
{
	switch (rc) {
	case MDB_KEYEXIST: return "MDB_KEYEXIST";
	case MDB_NOTFOUND: return "MDB_NOTFOUND";
	case MDB_PAGE_NOTFOUND: return "MDB_PAGE_NOTFOUND";
	case MDB_CORRUPTED: return "MDB_CORRUPTED";
	case MDB_PANIC: return "MDB_PANIC";
	case MDB_VERSION_MISMATCH: return "MDB_VERSION_MISMATCH";
	case MDB_INVALID: return "MDB_INVALID";
	case MDB_MAP_FULL: return "MDB_MAP_FULL";
	case MDB_DBS_FULL: return "MDB_DBS_FULL";
	case MDB_READERS_FULL: return "MDB_READERS_FULL";
	case MDB_TXN_FULL: return "MDB_TXN_FULL";
	case MDB_MAP_RESIZED: return "MDB_MAP_RESIZED";
	case MDB_INCOMPATIBLE: return "MDB_INCOMPATIBLE";
	case MDB_BAD_RSLOT: return "MDB_BAD_RSLOT";
	case MDB_BAD_TXN: return "MDB_BAD_TXN";
	case MDB_BAD_VALSIZE: return "MDB_BAD_VALSIZE";
	case MDB_BAD_DBI: return "MDB_BAD_DBI";
	}
	return "errno";
}

/* LMDB codes that mean the file's contents cannot be trusted. */
static int mdb_is_corrupt(int rc)
{
	return rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID ||
	       rc == MDB_VERSION_MISMATCH || rc == MDB_INCOMPATIBLE || rc == MDB_PANIC;
}

int rp_store_mdb_err(const struct rp_store *s, int rc, const char *what)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return RP_E_NOTFOUND;
	rp_log(RP_LOG_ERROR, "store=%s op=\"%s\" err=%s code=%d msg=\"%s\"",
	       s && s->path ? s->path : "-", what, mdb_name(rc), rc, mdb_strerror(rc));
	if (mdb_is_corrupt(rc))
		return RP_E_FORMAT;
	if (rc == MDB_MAP_FULL)
		return RP_E_FULL;
	if (rc > 0 && rc != EINVAL)
		return RP_E_IO;
	return RP_E_STORE;
}

void rp_store_key(uint8_t key[KEY_LEN], int64_t ns, uint64_t id)
{
	/* An unknown start (0) and nonsense before 1970 sort first. */
	uint64_t t = ns > 0 ? (uint64_t)ns : 0;
	for (int i = 0; i < 8; i++) {
		key[i] = (uint8_t)(t >> (56 - 8 * i));
		key[8 + i] = (uint8_t)(id >> (56 - 8 * i));
	}
}

uint64_t rp_store_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- where the map is ---- */

/* LMDB trusts the sizes stored in its pages; a damaged page can claim a
 * value that runs past the end of the file, and touching it would fault.
 * LMDB does not say where its map is, so we find it in /proc/self/maps by
 * the data file's device and inode, after every (re)map. */
static void find_map(struct rp_store *s)
{
	struct stat st;
	int fd;
	char line[512];
	uintptr_t base = 0;
	s->map_base = NULL;
	if (mdb_env_get_fd(s->env, &fd) || fstat(fd, &st))
		return;
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off, ino;
		unsigned maj, min;
		if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &lo, &hi, &off, &maj, &min, &ino) != 6)
			continue;
		if (ino == st.st_ino && off == 0 && maj == major(st.st_dev) &&
		    min == minor(st.st_dev)) {
			base = lo;
			break;
		}
	}
	fclose(f);
	s->map_base = (const uint8_t *)base;
}

int rp_store_in_map(const struct rp_store *s, const void *p, size_t n)
{
	MDB_envinfo info;
	const uint8_t *q = p;
	if (!s->map_base)
		return 1; /* unknown: trust LMDB */
	mdb_env_info(s->env, &info);
	/* A write transaction's own pages live on the heap, not in the map. */
	if (q < s->map_base || (size_t)(q - s->map_base) >= info.me_mapsize)
		return 1;
	size_t used = (info.me_last_pgno + 1) * s->psize;
	return (size_t)(q - s->map_base) <= used && n <= used - (size_t)(q - s->map_base);
}

/* ---- read transactions and the map lock ---- */

/* Adopts a map size grown by another process (MDB_MAP_RESIZED). */
static int adopt_map(struct rp_store *s)
{
	pthread_rwlock_wrlock(&s->map_lock);
	int rc = mdb_env_set_mapsize(s->env, 0);
	find_map(s);
	pthread_rwlock_unlock(&s->map_lock);
	if (rc)
		return rp_store_mdb_err(s, rc, "adopt grown map");
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	atomic_store(&s->st.map_size, info.me_mapsize);
	return 0;
}

int rp_store_read_begin(struct rp_store *s, MDB_txn **txn)
{
	for (int tries = 0;; tries++) {
		pthread_rwlock_rdlock(&s->map_lock);
		int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&s->map_lock);
		if (rc != MDB_MAP_RESIZED || tries == 3)
			return rp_store_mdb_err(s, rc, "begin read transaction");
		if ((rc = adopt_map(s)))
			return rc;
	}
}

void rp_store_read_end(struct rp_store *s, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->map_lock);
}

int rp_store_read_renew(struct rp_store *s, MDB_txn *txn)
{
	for (int tries = 0;; tries++) {
		pthread_rwlock_rdlock(&s->map_lock);
		int rc = mdb_txn_renew(txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&s->map_lock);
		if (rc != MDB_MAP_RESIZED || tries == 3)
			return rp_store_mdb_err(s, rc, "renew read transaction");
		if ((rc = adopt_map(s)))
			return rc;
	}
}

void rp_store_read_pause(struct rp_store *s, MDB_txn *txn)
{
	mdb_txn_reset(txn);
	pthread_rwlock_unlock(&s->map_lock);
}

int rp_store_remap(struct rp_store *s, size_t size)
{
	pthread_rwlock_wrlock(&s->map_lock);
	int rc = mdb_env_set_mapsize(s->env, size);
	find_map(s);
	pthread_rwlock_unlock(&s->map_lock);
	if (rc)
		return rp_store_mdb_err(s, rc, "grow map");
	atomic_store(&s->st.map_size, size);
	return 0;
}

struct rctx *rp_store_rctx_get(struct rp_store *s)
{
	pthread_mutex_lock(&s->ctx_mu);
	struct rctx *c = s->rctx_free;
	if (c)
		s->rctx_free = c->next;
	pthread_mutex_unlock(&s->ctx_mu);
	if (!c) {
		c = rp_xcalloc(1, sizeof(*c));
		if (!(c->dctx = ZSTD_createDCtx()))
			rp_oom();
	}
	return c;
}

void rp_store_rctx_put(struct rp_store *s, struct rctx *c)
{
	pthread_mutex_lock(&s->ctx_mu);
	c->next = s->rctx_free;
	s->rctx_free = c;
	pthread_mutex_unlock(&s->ctx_mu);
}

/* ---- opening ---- */

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = rp_xmalloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* 1 when |dir| holds nothing but LMDB's own files, 0 otherwise; -1 when it
 * cannot be read. */
static int dir_is_bare(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int bare = 1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, "lock.mdb"))
			continue;
		bare = 0;
		break;
	}
	closedir(d);
	return bare;
}

/* Makes |file| in the corpus 0600 (|must|: fail when it cannot be, else
 * warn).  Checked with stat afterwards, so a umask cannot widen it. */
static int secure_file(struct rp_store *s, const char *name, int must, const char **why)
{
	char *p = path_join(s->path, name);
	int rc = 0;
	struct stat st;
	if (chmod(p, 0600) != 0 && must) {
		*why = rp_store_why("%s: cannot make %s 0600: %s", s->path, name, strerror(errno));
		rc = RP_E_IO;
		goto out;
	}
	if (stat(p, &st) != 0) {
		if (errno == ENOENT) /* read-only file systems keep no lock file */
			goto out;
		*why = rp_store_why("%s: cannot stat %s: %s", s->path, name, strerror(errno));
		rc = RP_E_IO;
		goto out;
	}
	if ((st.st_mode & 0777) != 0600) {
		if (must) {
			*why = rp_store_why("%s: %s has mode %03o, want 0600", s->path, name,
					    (unsigned)(st.st_mode & 0777));
			rc = RP_E_IO;
			goto out;
		}
		rp_log(RP_LOG_WARN, "store=%s file=%s mode=%03o msg=\"corpus file is not 0600\"",
		       s->path, name, (unsigned)(st.st_mode & 0777));
	}
out:
	free(p);
	return rc;
}

static int meta_get_txn(struct rp_store *s, MDB_txn *txn, const char *key, char *out,
			size_t outlen)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(txn, s->db_meta, &k, &v);
	if (rc)
		return rp_store_mdb_err(s, rc, "read meta");
	if (!rp_store_in_map(s, v.mv_data, v.mv_size))
		return RP_E_FORMAT;
	if (v.mv_size >= outlen)
		return RP_E_LIMIT;
	memcpy(out, v.mv_data, v.mv_size);
	out[v.mv_size] = '\0';
	return 0;
}

static int meta_put_txn(struct rp_store *s, MDB_txn *txn, const char *key, const char *value)
{
	MDB_val k = {strlen(key), (void *)key}, v = {strlen(value), (void *)value};
	return mdb_put(txn, s->db_meta, &k, &v, 0);
}

static int meta_get_u64(struct rp_store *s, MDB_txn *txn, const char *key, uint64_t *out)
{
	char buf[32];
	int rc = meta_get_txn(s, txn, key, buf, sizeof(buf));
	if (rc)
		return rc;
	return rp_slice_to_u64(rp_slice_str(buf), out);
}

/* Opens the named database |name|; a missing one is created when |create|,
 * otherwise it means the environment is not ours. */
static int open_db(struct rp_store *s, MDB_txn *txn, const char *name, int create,
		   MDB_dbi *dbi, const char **why)
{
	int rc = mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, dbi);
	if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
		*why = rp_store_why("%s: not a reprise corpus (no %s database)", s->path, name);
		return RP_E_FORMAT;
	}
	if (rc) {
		int err = rp_store_mdb_err(s, rc, "open database");
		*why = rp_store_why(err == RP_E_FORMAT ? "%s: corrupt corpus (%s database: %s)"
						       : "%s: cannot open the %s database: %s",
				    s->path, name, mdb_strerror(rc));
		return err;
	}
	return 0;
}

/* The last key of |dbi| into |key| (|len| bytes expected); 0 or NOTFOUND. */
static int last_key(struct rp_store *s, MDB_txn *txn, MDB_dbi dbi, uint8_t *key, size_t len)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc)
		return rp_store_mdb_err(s, rc, "open cursor");
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc)
		return rp_store_mdb_err(s, rc, "find last key");
	if (k.mv_size != len)
		return RP_E_FORMAT;
	memcpy(key, k.mv_data, len);
	return 0;
}

/* Checks (and for a new corpus writes) meta, opens the databases, and loads
 * the writer's starting state.  |fresh|: the data file was just created. */
static int load_corpus(struct rp_store *s, int fresh, const char **why)
{
	MDB_txn *txn = NULL;
	char buf[64];
	int rc = mdb_txn_begin(s->env, NULL, s->readonly ? MDB_RDONLY : 0, &txn);
	if (rc) {
		int err = rp_store_mdb_err(s, rc, "begin open transaction");
		*why = rp_store_why("%s: cannot read the corpus: %s", s->path, mdb_strerror(rc));
		rc = err;
		txn = NULL;
		goto out;
	}
	if ((rc = open_db(s, txn, "meta", fresh, &s->db_meta, why)))
		goto out;
	if (fresh) {
		char now[40];
		rp_time_format(rp_now_ns(), now, sizeof(now));
		snprintf(buf, sizeof(buf), "%d", RP_STORE_SCHEMA);
		if ((rc = meta_put_txn(s, txn, META_SCHEMA, buf)) ||
		    (rc = meta_put_txn(s, txn, META_CREATED, now)) ||
		    (rc = meta_put_txn(s, txn, META_CREATED_BY, PACKAGE_VERSION)) ||
		    (rc = meta_put_txn(s, txn, META_NEXT_ID, "1")) ||
		    (rc = meta_put_txn(s, txn, META_BODY_BYTES, "0"))) {
			int err = rp_store_mdb_err(s, rc, "write meta");
			*why = rp_store_why("%s: cannot write meta: %s", s->path, mdb_strerror(rc));
			rc = err;
			goto out;
		}
	}
	uint64_t schema;
	rc = meta_get_u64(s, txn, META_SCHEMA, &schema);
	if (rc == RP_E_NOTFOUND) {
		*why = rp_store_why("%s: not a reprise corpus (meta has no schema)", s->path);
		rc = RP_E_FORMAT;
		goto out;
	}
	if (rc) {
		*why = rp_store_why("%s: corrupt corpus (unreadable schema in meta)", s->path);
		rc = RP_E_FORMAT;
		goto out;
	}
	if (schema > RP_STORE_SCHEMA) {
		*why = rp_store_why("%s: written by schema %" PRIu64 ", this reprise reads up to %d",
				    s->path, schema, RP_STORE_SCHEMA);
		rc = RP_E_VERSION;
		goto out;
	}
	if (schema < 1) {
		*why = rp_store_why("%s: corrupt corpus (schema %" PRIu64 ")", s->path, schema);
		rc = RP_E_FORMAT;
		goto out;
	}
	if ((rc = open_db(s, txn, "exchanges", fresh, &s->db_exchanges, why)) ||
	    (rc = open_db(s, txn, "ids", fresh, &s->db_ids, why)) ||
	    (rc = open_db(s, txn, "conns", fresh, &s->db_conns, why)) ||
	    (rc = open_db(s, txn, "bodies", fresh, &s->db_bodies, why)))
		goto out;

	uint64_t next_id = 1;
	if ((rc = meta_get_u64(s, txn, META_NEXT_ID, &next_id)) && rc != RP_E_NOTFOUND) {
		*why = rp_store_why("%s: corrupt corpus (unreadable next_id in meta)", s->path);
		rc = RP_E_FORMAT;
		goto out;
	}
	if ((rc = meta_get_u64(s, txn, META_BODY_BYTES, &s->body_bytes)) && rc != RP_E_NOTFOUND) {
		*why = rp_store_why("%s: corrupt corpus (unreadable body_bytes in meta)", s->path);
		rc = RP_E_FORMAT;
		goto out;
	}
	/* Ids never repeat, even if meta lags the ids database. */
	uint8_t k[KEY_LEN];
	rc = last_key(s, txn, s->db_ids, k, 8);
	if (rc == 0 && rp_store_be64(k) >= next_id)
		next_id = rp_store_be64(k) + 1;
	if (rc == 0)
		s->last_id = rp_store_be64(k);
	if (rc && rc != RP_E_NOTFOUND) {
		*why = rp_store_why("%s: corrupt corpus (ids database)", s->path);
		rc = RP_E_FORMAT;
		goto out;
	}
	rc = last_key(s, txn, s->db_exchanges, s->last_key, KEY_LEN);
	if (rc && rc != RP_E_NOTFOUND) {
		*why = rp_store_why("%s: corrupt corpus (exchanges database)", s->path);
		rc = RP_E_FORMAT;
		goto out;
	}
	atomic_store(&s->next_id, next_id ? next_id : 1);
	s->stored_next_id = next_id;

	/* Even read-only, commit: the database handles opened in this
	 * transaction survive only a commit. */
	if (!s->readonly && (rc = meta_put_txn(s, txn, META_TOOL_VERSION, PACKAGE_VERSION))) {
		int err = rp_store_mdb_err(s, rc, "write meta");
		*why = rp_store_why("%s: cannot write meta: %s", s->path, mdb_strerror(rc));
		rc = err;
		goto out;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc) {
		int err = rp_store_mdb_err(s, rc, "commit open transaction");
		*why = rp_store_why("%s: cannot write the corpus: %s", s->path, mdb_strerror(rc));
		rc = err;
	}
out:
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

/* Where is the corpus: checks the directory and the data file.  Sets
 * |*fresh| when a new corpus is to be created. */
static int locate(struct rp_store *s, const struct rp_store_opts *opts, int *fresh,
		  const char **why)
{
	struct stat st;
	int creating = opts->create && !opts->readonly;
	*fresh = 0;
	if (stat(s->path, &st) != 0) {
		if (errno != ENOENT) {
			*why = rp_store_why("%s: %s", s->path, strerror(errno));
			return RP_E_IO;
		}
		if (!creating) {
			*why = rp_store_why("%s: no such corpus", s->path);
			return RP_E_NOTFOUND;
		}
		if (mkdir(s->path, 0700) != 0 || chmod(s->path, 0700) != 0) {
			*why = rp_store_why("%s: cannot create the corpus directory: %s", s->path,
					    strerror(errno));
			return RP_E_IO;
		}
		*fresh = 1;
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = rp_store_why("%s: not a reprise corpus (not a directory)", s->path);
		return RP_E_FORMAT;
	}
	char *data = path_join(s->path, "data.mdb");
	int rc = 0;
	if (stat(data, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			*why = rp_store_why("%s: not a reprise corpus (data.mdb is not a file)",
					    s->path);
			rc = RP_E_FORMAT;
		} else if (st.st_size == 0) {
			/* an interrupted create: nothing was ever committed */
			*fresh = creating;
			if (!creating) {
				*why = rp_store_why("%s: not a reprise corpus (empty data.mdb)",
						    s->path);
				rc = RP_E_FORMAT;
			}
		}
		goto out;
	}
	if (errno != ENOENT) {
		*why = rp_store_why("%s: %s", data, strerror(errno));
		rc = RP_E_IO;
		goto out;
	}
	int bare = dir_is_bare(s->path);
	if (bare < 0) {
		*why = rp_store_why("%s: %s", s->path, strerror(errno));
		rc = RP_E_IO;
	} else if (!bare) {
		*why = rp_store_why(creating ? "%s: not a reprise corpus (the directory holds other "
					       "files; refusing to create a corpus there)"
					     : "%s: not a reprise corpus (no data.mdb)",
				    s->path);
		rc = RP_E_FORMAT;
	} else if (!creating) {
		*why = rp_store_why("%s: not a reprise corpus (empty directory)", s->path);
		rc = RP_E_NOTFOUND;
	} else {
		*fresh = 1;
	}
out:
	free(data);
	return rc;
}

/* Takes the one-writer lock: an exclusive flock on data.mdb (created here
 * 0600 when new, so that LMDB finds it with the right mode). */
static int lock_writer(struct rp_store *s, const char **why)
{
	char *data = path_join(s->path, "data.mdb");
	int rc = 0;
	s->lock_fd = open(data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		*why = rp_store_why("%s: cannot open data.mdb: %s", s->path, strerror(errno));
		rc = RP_E_IO;
		goto out;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			*why = rp_store_why("%s: another reprise process is writing this corpus",
					    s->path);
		else
			*why = rp_store_why("%s: cannot lock data.mdb: %s", s->path,
					    strerror(errno));
		rc = RP_E_STORE;
	}
out:
	free(data);
	return rc;
}

int rp_store_sync_parse(const char *name, enum rp_store_sync *out)
{
	static const char *const names[] = {"data", "none", "full"};
	for (int i = 0; i < 3; i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum rp_store_sync)i;
			return 0;
		}
	return RP_E_USAGE;
}

static int env_open(struct rp_store *s, const struct rp_store_opts *opts, const char **why)
{
	unsigned flags = MDB_NOTLS;
	if (s->readonly)
		flags |= MDB_RDONLY;
	else if (opts->sync == RP_STORE_SYNC_NONE)
		flags |= MDB_NOSYNC;
	else if (opts->sync == RP_STORE_SYNC_DATA)
		flags |= MDB_NOMETASYNC;
	uint64_t init = opts->map_init ? opts->map_init : RP_LIMIT_STORE_MAP_INIT;
	init = RP_MIN(init, s->max_size);
	init = init / s->page * s->page;
	if (init < 16 * s->page)
		init = 16 * s->page;
	int rc = mdb_env_create(&s->env);
	if (rc) {
		s->env = NULL;
		rc = rp_store_mdb_err(s, rc, "create environment");
		*why = rp_store_why("%s: cannot create an LMDB environment", s->path);
		return rc;
	}
	if ((rc = mdb_env_set_maxdbs(s->env, 8)) || (rc = mdb_env_set_mapsize(s->env, init))) {
		rc = rp_store_mdb_err(s, rc, "configure environment");
		*why = rp_store_why("%s: cannot configure the LMDB environment", s->path);
		return rc;
	}
	rc = mdb_env_open(s->env, s->path, flags, 0600);
	if (rc) {
		int err = rp_store_mdb_err(s, rc, "open environment");
		if (err == RP_E_FORMAT)
			*why = rp_store_why("%s: not a reprise corpus or corrupt (data.mdb: %s)",
					    s->path, mdb_strerror(rc));
		else
			*why = rp_store_why("%s: cannot open: %s", s->path, mdb_strerror(rc));
		return err;
	}
	s->env_opened = 1;
	MDB_stat est;
	s->psize = mdb_env_stat(s->env, &est) == 0 ? est.ms_psize : s->page;
	find_map(s);
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	atomic_store(&s->st.map_size, info.me_mapsize);
	return 0;
}

int rp_store_open(const struct rp_store_opts *opts, struct rp_store **out, const char **why)
{
	const char *dummy;
	struct rp_store *s = NULL;
	int rc, fresh = 0;
	if (!why)
		why = &dummy;
	*why = "";
	*out = NULL;
	if (!opts || !opts->path || !*opts->path) {
		*why = "store: no corpus path given";
		return RP_E_USAGE;
	}
	if (opts->sync < RP_STORE_SYNC_DATA || opts->sync > RP_STORE_SYNC_FULL) {
		*why = "store: unknown sync mode";
		return RP_E_USAGE;
	}
	s = aligned_alloc(64, (sizeof(*s) + 63) / 64 * 64);
	if (!s)
		rp_oom();
	memset(s, 0, sizeof(*s));
	static _Atomic uint64_t generations;
	s->gen = atomic_fetch_add(&generations, 1) + 1;
	s->path = rp_xstrdup(opts->path);
	s->readonly = opts->readonly;
	s->lock_fd = -1;
	s->page = (size_t)sysconf(_SC_PAGESIZE);
	s->max_size = opts->max_size ? opts->max_size : RP_LIMIT_STORE_MAX_SIZE;
	s->batch_count = opts->batch_count ? opts->batch_count : RP_LIMIT_STORE_BATCH;
	s->batch_ms = opts->batch_ms ? opts->batch_ms : RP_LIMIT_STORE_BATCH_MS;
	s->queue_len = opts->queue_len ? opts->queue_len : RP_LIMIT_STORE_QUEUE;
	s->queue_bytes_max = RP_LIMIT_STORE_QUEUE_BYTES;
	pthread_rwlockattr_t rwa;
	pthread_rwlockattr_init(&rwa);
	/* a growing writer must not starve behind a stream of readers */
	pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->map_lock, &rwa);
	pthread_rwlockattr_destroy(&rwa);
	pthread_mutex_init(&s->ctx_mu, NULL);
	pthread_mutex_init(&s->dcache_mu, NULL);
	pthread_mutex_init(&s->bmemo_mu, NULL);
	pthread_mutex_init(&s->ifree_mu, NULL);
	pthread_mutex_init(&s->q_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->q_nonempty, &ca);
	pthread_cond_init(&s->q_nonfull, &ca);
	pthread_cond_init(&s->q_done, &ca);
	pthread_condattr_destroy(&ca);

	if ((rc = locate(s, opts, &fresh, why)))
		goto out;
	if (!s->readonly && (rc = lock_writer(s, why)))
		goto out;
	if ((rc = env_open(s, opts, why)))
		goto out;
	if (!s->readonly) {
		if ((rc = secure_file(s, "data.mdb", fresh, why)) ||
		    (rc = secure_file(s, "lock.mdb", fresh, why)))
			goto out;
	}
	if ((rc = load_corpus(s, fresh, why)))
		goto out;
	if (!s->readonly && (rc = rp_store_writer_start(s))) {
		*why = rp_store_why("%s: cannot start the writer thread", s->path);
		goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	rp_store_close(s);
	return rc;
}

void rp_store_close(struct rp_store *s)
{
	if (!s)
		return;
	if (s->writer_started)
		rp_store_writer_stop(s);
	if (s->env) {
		/* A clean close is durable whatever the sync mode. */
		if (!s->readonly && s->env_opened) {
			int rc = mdb_env_sync(s->env, 1);
			if (rc)
				rp_store_mdb_err(s, rc, "sync on close");
		}
		mdb_env_close(s->env);
	}
	rp_store_write_dispose(s);
	while (s->rctx_free) {
		struct rctx *c = s->rctx_free;
		s->rctx_free = c->next;
		ZSTD_freeDCtx(c->dctx);
		free(c);
	}
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	pthread_rwlock_destroy(&s->map_lock);
	pthread_mutex_destroy(&s->ctx_mu);
	pthread_mutex_destroy(&s->dcache_mu);
	pthread_mutex_destroy(&s->bmemo_mu);
	pthread_mutex_destroy(&s->ifree_mu);
	pthread_mutex_destroy(&s->q_mu);
	pthread_cond_destroy(&s->q_nonempty);
	pthread_cond_destroy(&s->q_nonfull);
	pthread_cond_destroy(&s->q_done);
	free(s->path);
	free(s);
}

/* ---- meta ---- */

int rp_store_meta_get(struct rp_store *s, const char *key, char *out, size_t outlen)
{
	MDB_txn *txn;
	if (!key || !*key || !out || !outlen)
		return RP_E_USAGE;
	int rc = rp_store_read_begin(s, &txn);
	if (rc)
		return rc;
	rc = meta_get_txn(s, txn, key, out, outlen);
	rp_store_read_end(s, txn);
	return rc;
}

/* ---- totals and statistics ---- */

int rp_store_totals(struct rp_store *s, struct rp_store_totals *out)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_stat st;
	MDB_envinfo info;
	MDB_val k, v;
	memset(out, 0, sizeof(*out));
	int rc = rp_store_read_begin(s, &txn);
	if (rc)
		return rc;
	if ((rc = mdb_stat(txn, s->db_exchanges, &st)))
		goto out;
	out->exchanges = st.ms_entries;
	if ((rc = mdb_stat(txn, s->db_conns, &st)))
		goto out;
	out->conns = st.ms_entries;
	if ((rc = mdb_stat(txn, s->db_bodies, &st)))
		goto out;
	out->bodies = st.ms_entries;
	mdb_env_info(s->env, &info);
	out->map_used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	if (meta_get_u64(s, txn, META_BODY_BYTES, &out->body_bytes_stored))
		out->body_bytes_stored = 0;
	if (!out->exchanges)
		goto out;
	if ((rc = mdb_cursor_open(txn, s->db_exchanges, &cur)))
		goto out;
	if ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)))
		goto out;
	if (k.mv_size == KEY_LEN && rp_store_in_map(s, k.mv_data, KEY_LEN))
		out->first_ns = (int64_t)rp_store_be64(k.mv_data);
	if ((rc = mdb_cursor_get(cur, &k, &v, MDB_LAST)))
		goto out;
	if (k.mv_size == KEY_LEN && rp_store_in_map(s, k.mv_data, KEY_LEN))
		out->last_ns = (int64_t)rp_store_be64(k.mv_data);
out:
	if (cur)
		mdb_cursor_close(cur);
	rp_store_read_end(s, txn);
	return rc ? rp_store_mdb_err(s, rc, "read totals") : 0;
}

void rp_store_get_stats(struct rp_store *s, struct rp_store_stats *out)
{
	out->queued = atomic_load(&s->st.queued);
	out->committed = atomic_load(&s->st.committed);
	out->dropped_full = atomic_load(&s->st.dropped_full);
	out->dropped_ceiling = atomic_load(&s->st.dropped_ceiling);
	out->dropped_error = atomic_load(&s->st.dropped_error);
	out->bodies_new = atomic_load(&s->st.bodies_new);
	out->bodies_dedup = atomic_load(&s->st.bodies_dedup);
	out->bodies_inline = atomic_load(&s->st.bodies_inline);
	out->bytes_record = atomic_load(&s->st.bytes_record);
	out->bytes_body_raw = atomic_load(&s->st.bytes_body_raw);
	out->bytes_body_stored = atomic_load(&s->st.bytes_body_stored);
	out->map_size = atomic_load(&s->st.map_size);
	pthread_mutex_lock(&s->q_mu);
	out->queue_depth = s->q_n;
	pthread_mutex_unlock(&s->q_mu);
}
