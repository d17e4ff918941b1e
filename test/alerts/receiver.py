#!/usr/bin/env python3
"""receiver.py PORTFILE LOG [SECRETS]: a local webhook receiver for the
alert delivery tests (contract §6.6).  Writes its port to PORTFILE, and one
JSON line per request to LOG: path, the Standard Webhooks headers, the body,
and "verified": whether webhook-signature checks out against one of the
secrets (whsec_..., one per line in the file SECRETS, reread per request),
computed here independently with Python's hmac.  Answers by path:
  /ok 200, /gone 410, /bad 400, /retry 503 with Retry-After: 1 the first
  time for a webhook-id and 200 after, /error 500 (no Retry-After) the
  first time and 200 after, /ratelimit 429 with Retry-After: 1 the first
  time and 200 after, /timeout 200 after 3 seconds the first time and at
  once after, /flaky 500 always, /slow 200 after 4 seconds; anything else
  200."""
import base64, hashlib, hmac, json, os, sys, time
from http.server import HTTPServer, BaseHTTPRequestHandler
from socketserver import ThreadingMixIn

PORTFILE, LOG = sys.argv[1], sys.argv[2]
SECRETS = sys.argv[3] if len(sys.argv) > 3 else None
seen = set()


def verify(msg_id, ts, body, sig):
    if not (SECRETS and msg_id and ts and sig and os.path.exists(SECRETS)):
        return False
    for line in open(SECRETS):
        secret = line.strip()
        if not secret.startswith("whsec_"):
            continue
        key = base64.b64decode(secret[len("whsec_"):])
        expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
        for part in sig.split(" "):
            if part.startswith("v1,") and hmac.compare_digest(part[3:], expected):
                return True
    return False


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        mid = self.headers.get("webhook-id")
        rec = {"path": self.path, "webhook_id": mid, "timestamp": self.headers.get("webhook-timestamp"),
               "signature": self.headers.get("webhook-signature"),
               "verified": verify(mid, self.headers.get("webhook-timestamp"), body, self.headers.get("webhook-signature")),
               "body": body.decode("utf-8", "replace"), "at": time.time()}
        with open(LOG, "a") as f:
            f.write(json.dumps(rec) + "\n")
        code, extra = 200, {}
        if self.path == "/gone":
            code = 410
        elif self.path == "/bad":
            code = 400
        elif self.path == "/flaky":
            code = 500
        elif self.path == "/retry" and mid not in seen:
            seen.add(mid)
            code, extra = 503, {"Retry-After": "1"}
        elif self.path == "/error" and ("error", mid) not in seen:
            seen.add(("error", mid))
            code = 500
        elif self.path == "/ratelimit" and ("ratelimit", mid) not in seen:
            seen.add(("ratelimit", mid))
            code, extra = 429, {"Retry-After": "1"}
        elif self.path == "/timeout" and ("timeout", mid) not in seen:
            seen.add(("timeout", mid))
            time.sleep(3)
        elif self.path == "/slow":
            time.sleep(4)
        self.send_response(code)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()


class S(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    # (socketserver's default listen backlog of 5 drops the connections of
    # a burst beyond it: their SYN is sent again a second later)
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # (a client that gave up on /timeout: a broken pipe)


srv = S(("127.0.0.1", 0), H)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
