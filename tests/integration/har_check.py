#!/usr/bin/env python3
"""har_check: checks for HAR files, written from the HAR 1.2 specification
(http://www.softwareishard.com/blog/har-12-spec/) for reprise's tests.

  har_check.py validate FILE       every field HAR 1.2 requires, with its type;
                                   custom fields must start with "_"
  har_check.py compare ORIG NEW    same entries: method, URL, status, status
                                   text, request and response headers (as
                                   name/value multisets) and bodies (base64
                                   decoded on both sides)

Exit 0 when the check passes, 1 with one line per problem otherwise.
"""
import base64
import collections
import json
import re
import sys

NUM = (int, float)
ISO8601 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")

# object name -> {field: (types, required)}; types of None means any object
SPEC = {
    "log": {"version": (str, True), "creator": (dict, True), "browser": (dict, False),
            "pages": (list, False), "entries": (list, True), "comment": (str, False)},
    "creator": {"name": (str, True), "version": (str, True), "comment": (str, False)},
    "page": {"startedDateTime": (str, True), "id": (str, True), "title": (str, True),
             "pageTimings": (dict, True), "comment": (str, False)},
    "pageTimings": {"onContentLoad": (NUM, False), "onLoad": (NUM, False),
                    "comment": (str, False)},
    "entry": {"pageref": (str, False), "startedDateTime": (str, True), "time": (NUM, True),
              "request": (dict, True), "response": (dict, True), "cache": (dict, True),
              "timings": (dict, True), "serverIPAddress": (str, False),
              "connection": (str, False), "comment": (str, False)},
    "request": {"method": (str, True), "url": (str, True), "httpVersion": (str, True),
                "cookies": (list, True), "headers": (list, True),
                "queryString": (list, True), "postData": (dict, False),
                "headersSize": (int, True), "bodySize": (int, True),
                "comment": (str, False)},
    "response": {"status": (int, True), "statusText": (str, True),
                 "httpVersion": (str, True), "cookies": (list, True),
                 "headers": (list, True), "content": (dict, True),
                 "redirectURL": (str, True), "headersSize": (int, True),
                 "bodySize": (int, True), "comment": (str, False)},
    "cookie": {"name": (str, True), "value": (str, True), "path": (str, False),
               "domain": (str, False), "expires": (str, False),
               "httpOnly": (bool, False), "secure": (bool, False),
               "comment": (str, False)},
    "pair": {"name": (str, True), "value": (str, True), "comment": (str, False)},
    "postData": {"mimeType": (str, True), "params": (list, False), "text": (str, False),
                 "comment": (str, False)},
    "param": {"name": (str, True), "value": (str, False), "fileName": (str, False),
              "contentType": (str, False), "comment": (str, False)},
    "content": {"size": (int, True), "compression": (int, False),
                "mimeType": (str, True), "text": (str, False), "encoding": (str, False),
                "comment": (str, False)},
    "cache": {"beforeRequest": (dict, False), "afterRequest": (dict, False),
              "comment": (str, False)},
    "cacheEntry": {"expires": (str, False), "lastAccess": (str, True),
                   "eTag": (str, True), "hitCount": (int, True), "comment": (str, False)},
    "timings": {"blocked": (NUM, False), "dns": (NUM, False), "connect": (NUM, False),
                "send": (NUM, True), "wait": (NUM, True), "receive": (NUM, True),
                "ssl": (NUM, False), "comment": (str, False)},
}

problems = []


def bad(where, what):
    problems.append("%s: %s" % (where, what))


def check(obj, kind, where):
    """Checks |obj| against SPEC[kind]; returns it when it is an object."""
    if not isinstance(obj, dict):
        bad(where, "not an object")
        return None
    spec = SPEC[kind]
    for field, (types, required) in spec.items():
        if field not in obj:
            if required:
                bad(where, "required field %r missing" % field)
            continue
        v = obj[field]
        # bool is an int in Python: never accept it for a number
        if isinstance(v, bool) and types is not bool:
            bad(where, "%r is a boolean" % field)
        elif not isinstance(v, types):
            bad(where, "%r has type %s" % (field, type(v).__name__))
    for field in obj:
        if field not in spec and not field.startswith("_"):
            bad(where, "unknown field %r (custom fields must start with '_')" % field)
    return obj


def check_list(obj, field, kind, where):
    for i, item in enumerate(obj.get(field) or []):
        check(item, kind, "%s.%s[%d]" % (where, field, i))


def validate(path):
    with open(path, "rb") as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or "log" not in doc:
        bad(path, "no top-level log object")
        return
    log = check(doc["log"], "log", "log")
    if log is None:
        return
    if log.get("version") not in ("1.1", "1.2"):
        bad("log", "version %r is not 1.2" % log.get("version"))
    check(log.get("creator"), "creator", "log.creator")
    if "browser" in log:
        check(log["browser"], "creator", "log.browser")
    page_ids = set()
    for i, p in enumerate(log.get("pages") or []):
        w = "log.pages[%d]" % i
        if check(p, "page", w):
            page_ids.add(p.get("id"))
            check(p.get("pageTimings", {}), "pageTimings", w + ".pageTimings")
    for i, e in enumerate(log.get("entries") or []):
        w = "log.entries[%d]" % i
        if check(e, "entry", w) is None:
            continue
        if "pageref" in e and e["pageref"] not in page_ids:
            bad(w, "pageref %r names no page" % e["pageref"])
        if isinstance(e.get("startedDateTime"), str) and not ISO8601.match(e["startedDateTime"]):
            bad(w, "startedDateTime %r is not ISO 8601" % e["startedDateTime"])
        rq = check(e.get("request"), "request", w + ".request")
        if rq:
            for f, k in (("cookies", "cookie"), ("headers", "pair"), ("queryString", "pair")):
                check_list(rq, f, k, w + ".request")
            if "postData" in rq and check(rq["postData"], "postData", w + ".request.postData"):
                pd = rq["postData"]
                if "text" not in pd and "params" not in pd:
                    bad(w + ".request.postData", "neither text nor params")
                if pd.get("text") and pd.get("params"):
                    bad(w + ".request.postData", "text and params are mutually exclusive")
                check_list(pd, "params", "param", w + ".request.postData")
            for f in ("headersSize", "bodySize"):
                if isinstance(rq.get(f), int) and rq[f] < -1:
                    bad(w + ".request", "%s %d below -1" % (f, rq[f]))
        rs = check(e.get("response"), "response", w + ".response")
        if rs:
            for f, k in (("cookies", "cookie"), ("headers", "pair")):
                check_list(rs, f, k, w + ".response")
            c = check(rs.get("content"), "content", w + ".response.content")
            if c and c.get("encoding") not in (None, "base64"):
                bad(w + ".response.content", "encoding %r" % c.get("encoding"))
            if c and c.get("encoding") == "base64" and isinstance(c.get("text"), str):
                try:
                    base64.b64decode(c["text"], validate=True)
                except ValueError:
                    bad(w + ".response.content", "text is not base64")
            for f in ("headersSize", "bodySize"):
                if isinstance(rs.get(f), int) and rs[f] < -1:
                    bad(w + ".response", "%s %d below -1" % (f, rs[f]))
        cache = check(e.get("cache"), "cache", w + ".cache")
        if cache:
            for f in ("beforeRequest", "afterRequest"):
                if f in cache and cache[f] is not None:
                    check(cache[f], "cacheEntry", w + ".cache." + f)
        t = check(e.get("timings"), "timings", w + ".timings")
        if t:
            for f in ("send", "wait", "receive"):
                if isinstance(t.get(f), NUM) and t[f] < 0:
                    bad(w + ".timings", "%s is negative" % f)
            for f in ("blocked", "dns", "connect", "ssl"):
                if isinstance(t.get(f), NUM) and t[f] < 0 and t[f] != -1:
                    bad(w + ".timings", "%s is negative but not -1" % f)
            # the spec says both "time is the sum of the timings not -1" and
            # "ssl is included in connect": accept the sum with or without ssl
            parts = sum(t[f] for f in ("blocked", "dns", "connect", "send", "wait", "receive")
                        if isinstance(t.get(f), NUM) and t[f] != -1)
            ssl = t["ssl"] if isinstance(t.get("ssl"), NUM) and t["ssl"] > 0 else 0
            if isinstance(e.get("time"), NUM) and min(
                    abs(parts - e["time"]), abs(parts + ssl - e["time"])) > 0.01:
                bad(w, "time %r is not the sum of the timings %r" % (e["time"], parts))


def body(text, encoding):
    if text is None:
        return b""
    if encoding == "base64":
        return base64.b64decode(text)
    return text.encode("utf-8")


def summary(e):
    rq, rs = e["request"], e["response"]
    pd = rq.get("postData") or {}
    content = rs.get("content") or {}
    return {
        "method": rq["method"],
        "url": rq["url"],
        "status": rs["status"],
        "statusText": rs.get("statusText", ""),
        "request headers": collections.Counter(
            (h["name"], h["value"]) for h in rq["headers"] if not h["name"].startswith(":")),
        "response headers": collections.Counter((h["name"], h["value"]) for h in rs["headers"]),
        "request body": body(pd.get("text"), pd.get("encoding") or pd.get("_encoding")),
        "response body": body(content.get("text"), content.get("encoding")),
    }


def compare(orig_path, new_path):
    with open(orig_path, "rb") as f:
        orig = json.load(f)["log"]["entries"]
    with open(new_path, "rb") as f:
        new = json.load(f)["log"]["entries"]
    if len(orig) != len(new):
        bad(new_path, "%d entries, the original has %d" % (len(new), len(orig)))
        return
    for i, (a, b) in enumerate(zip(orig, new)):
        sa, sb = summary(a), summary(b)
        for k in sa:
            if sa[k] != sb[k]:
                bad("entry %d" % i, "%s differs: %r != %r" % (k, sa[k], sb[k]))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "validate":
        validate(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
