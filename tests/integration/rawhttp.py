#!/usr/bin/env python3
"""rawhttp: raw-socket HTTP/1 tools for the proxy's integration tests.

Everything talks to 127.0.0.1 only, and every wait is bounded.

  rawhttp.py send PORT < REQUEST      send the bytes in one write, print every
                                      byte received until the peer closes
  rawhttp.py split METHOD... < RAW    split a stream of responses (answers to
                                      METHODs, in order) into one line each:
                                      status, body length, SHA-256 of the body
                                      as framed on the wire, SHA-256 of the
                                      de-chunked body, the framing
  rawhttp.py abort PORT PATH N        GET PATH, read N bytes of the answer,
                                      then reset the connection
  rawhttp.py stall PORT               a server that accepts, reads and never
                                      answers (until killed)
  rawhttp.py flaky PORT               a server that answers the first request
                                      of each connection (keep-alive) and
                                      closes the connection on the second
                                      without answering, as a server whose
                                      idle timeout fires just then would
  rawhttp.py eof PORT                 an HTTP/1.0 server whose answers have
                                      no length: the body ends with the
                                      connection
"""
import hashlib
import socket
import struct
import sys
import time

DEADLINE = 30.0


def connect(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=DEADLINE)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def send(port):
    req = sys.stdin.buffer.read()
    s = connect(port)
    s.sendall(req)
    out = bytearray()
    end = time.time() + DEADLINE
    while time.time() < end:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    sys.stdout.buffer.write(out)


def split(methods):
    data = sys.stdin.buffer.read()
    i = 0
    for m in methods:
        while True:  # 1xx interim responses come before the final one
            j = data.index(b"\r\n\r\n", i)
            head = data[i:j].decode("latin-1").split("\r\n")
            i = j + 4
            status = int(head[0].split(" ")[1])
            if not (100 <= status < 200):
                break
        fields = {}
        for line in head[1:]:
            k, v = line.split(":", 1)
            fields.setdefault(k.strip().lower(), []).append(v.strip())
        start = i
        body = b""
        framing = "none"
        if m == "HEAD" or status in (204, 304):
            pass
        elif "chunked" in ",".join(fields.get("transfer-encoding", [])).lower():
            framing = "chunked"
            while True:
                e = data.index(b"\r\n", i)
                size = int(data[i:e].split(b";")[0], 16)
                i = e + 2
                if size == 0:
                    while True:  # trailers, then the empty line
                        e = data.index(b"\r\n", i)
                        empty = e == i
                        i = e + 2
                        if empty:
                            break
                    break
                body += data[i:i + size]
                i += size + 2
        elif "content-length" in fields:
            framing = "length"
            n = int(fields["content-length"][0])
            body = data[i:i + n]
            i += n
        else:
            framing = "close"
            body = data[i:]
            i = len(data)
        wire = data[start:i]
        print(status, len(body), hashlib.sha256(wire).hexdigest(),
              hashlib.sha256(body).hexdigest(), framing)
    if i != len(data):
        print("trailing", len(data) - i)


def abort(port, path, n):
    s = connect(port)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path.encode())
    got = 0
    while got < int(n):
        b = s.recv(65536)
        if not b:
            break
        got += len(b)
    # RST instead of FIN: the proxy sees a reset mid-body
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print(got)


def stall(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(port)))
    ls.listen(1024)
    held = []
    while True:
        c, _ = ls.accept()
        c.settimeout(0.01)
        try:
            c.recv(65536)
        except OSError:
            pass
        held.append(c)  # never answered, never closed


def read_head(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = c.recv(65536)
        if not b:
            return None
        buf += b
    return buf


def serve(port, handle):
    import threading
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(port)))
    ls.listen(128)
    while True:
        c, _ = ls.accept()
        c.settimeout(DEADLINE)
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def flaky_conn(c):
    try:
        if read_head(c) is None:
            return
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfirst\n")
        read_head(c)
    except OSError:
        pass
    c.close()


def eof_conn(c):
    try:
        if read_head(c) is not None:
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" +
                      b"until the end\n" * 1000)
    except OSError:
        pass
    c.close()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "send":
        send(*args)
    elif cmd == "split":
        split(args)
    elif cmd == "abort":
        abort(*args)
    elif cmd == "stall":
        stall(*args)
    elif cmd == "flaky":
        serve(args[0], flaky_conn)
    elif cmd == "eof":
        serve(args[0], eof_conn)
    else:
        sys.exit("unknown command " + cmd)
