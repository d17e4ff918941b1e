#!/usr/bin/env python3
"""server.py PORTFILE: a small HTTP server for the health probe tests.

Listens on 127.0.0.1 on a free port (written to PORTFILE) and answers:
  /ok             200 at once
  /slow/MS        200 after MS milliseconds
  /status/CODE    CODE at once (e.g. 500, 503, 404)
  /redirect       302 to /ok
Every request is appended to PORTFILE.log as "path".  Stops on SIGTERM.
"""
import http.server
import socketserver
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[1] + '.log', 'a') as log:
            log.write(self.path + '\n')
        parts = self.path.strip('/').split('/')
        code, delay = 404, 0
        if parts[0] == 'ok':
            code = 200
        elif parts[0] == 'slow' and len(parts) > 1 and parts[1].isdigit():
            code, delay = 200, int(parts[1]) / 1000
        elif parts[0] == 'status' and len(parts) > 1 and parts[1].isdigit():
            code = int(parts[1])
        elif parts[0] == 'redirect':
            self.send_response(302)
            self.send_header('Location', '/ok')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        time.sleep(delay)
        body = b'{"status":"x"}'
        try:
            self.send_response(code)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


with Server(('127.0.0.1', 0), Handler) as srv:
    with open(sys.argv[1], 'w') as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()
