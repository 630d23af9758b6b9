"""A TLS upstream for the curl end-to-end test: echoes what it received as JSON.

Usage: upstream.py CERT KEY PORTFILE. Writes the bound port to PORTFILE once listening.
Paths: /chunked answers in two chunks; /big?n=N streams N bytes; anything else echoes the request
(method, path, header list in order, body length and SHA-256, TLS SNI).
"""
import hashlib
import http.server
import json
import ssl
import sys

cert, key, portfile = sys.argv[1:4]
sni_seen = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        body = self._body()
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"chunked":', b"true}"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path.startswith("/big?n="):
            n = int(self.path.split("=", 1)[1])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            block = b"x" * 65536
            while n > 0:
                self.wfile.write(block[: min(n, len(block))])
                n -= len(block)
            return
        out = json.dumps({
            "method": self.command,
            "path": self.path,
            "headers": list(self.headers.items()),
            "body_len": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "sni": sni_seen.get(self.connection.fileno()),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "session=abc; HttpOnly")
        self.send_header("Connection", "keep-alive, X-Upstream-Hop")
        self.send_header("X-Upstream-Hop", "must-not-reach-the-client")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = handle_any


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)


def on_sni(sock, name, _ctx):
    sni_seen[sock.fileno()] = name


ctx.sni_callback = on_sni
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(portfile, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
