# tests/lib.sh — shared helpers for the shell integration tests.
# Sourced by tests/integration/*.sh.  Every test makes its own temporary
# directory, starts the real servers it needs on loopback, stops them by pid
# and asserts on what it observes.  Exit 77 means "skipped" to automake.

set -u
: "${REPRISE:?REPRISE must point at the reprise binary}"
: "${RP_SRCDIR:?}"
RP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/reprise-test.XXXXXX")
RP_PIDS=""
rp_failures=0

rp_cleanup() {
	for pid in $RP_PIDS; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	rm -rf "$RP_TMP"
}
trap rp_cleanup EXIT

# rp_track PID: stop PID at exit
rp_track() { RP_PIDS="$RP_PIDS $1"; }

rp_fail() { echo "FAIL: $*" >&2; rp_failures=$((rp_failures + 1)); }
rp_ok() { echo "ok: $*"; }

# rp_expect_eq WHAT EXPECTED ACTUAL
rp_expect_eq() {
	if [ "$2" = "$3" ]; then rp_ok "$1"; else rp_fail "$1: expected '$2', got '$3'"; fi
}

# rp_expect_exit WHAT CODE CMD...: run CMD, compare its exit code
rp_expect_exit() {
	local what=$1 want=$2; shift 2
	"$@" >"$RP_TMP/last.out" 2>"$RP_TMP/last.err"
	local rc=$?
	if [ "$rc" = "$want" ]; then rp_ok "$what (exit $rc)"; else
		rp_fail "$what: exit $rc, wanted $want; stderr: $(head -c 400 "$RP_TMP/last.err")"; fi
}

# rp_expect_grep WHAT PATTERN FILE
rp_expect_grep() {
	if grep -qE -- "$2" "$3"; then rp_ok "$1"; else
		rp_fail "$1: /$2/ not in $3: $(head -c 400 "$3")"; fi
}

# rp_free_port: an unused TCP port on 127.0.0.1
rp_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# rp_wait_port PORT [SECONDS]: wait until something listens on 127.0.0.1:PORT
rp_wait_port() {
	local port=$1 secs=${2:-10} i=0
	while [ $i -lt $((secs * 20)) ]; do
		(exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
		sleep 0.05; i=$((i + 1))
	done
	return 1
}

# rp_nginx ROOT PORT [EXTRA_SERVER_DIRECTIVES]: start nginx serving ROOT on
# 127.0.0.1:PORT in the foreground under our own pid; sets RP_NGINX_PID.
rp_nginx() {
	local root=$1 port=$2 extra=${3:-}
	local dir="$RP_TMP/nginx-$port"
	mkdir -p "$dir/logs"
	cat >"$dir/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    default_type application/octet-stream;
    types { application/json json; text/html html; text/plain txt; text/css css; application/javascript js; }
    server {
        listen 127.0.0.1:$port;
        root $root;
        $extra
    }
}
NGX
	nginx -c "$dir/nginx.conf" -p "$dir" &
	RP_NGINX_PID=$!
	rp_track "$RP_NGINX_PID"
	rp_wait_port "$port" || { echo "nginx did not start: $(cat "$dir/logs/error.log")" >&2; return 1; }
}

# rp_done: exit with the test's verdict
rp_done() {
	if [ "$rp_failures" -ne 0 ]; then
		echo "$rp_failures check(s) failed" >&2
		exit 1
	fi
	exit 0
}
