"""A test FHIR endpoint on 127.0.0.1 that takes transaction Bundles by POST, misbehaving on purpose
when told to.

    python3 fhir_server.py PORT_FILE ACCEPTED_FILE MODE

It writes its ephemeral port to PORT_FILE. Each Bundle it accepts is appended to ACCEPTED_FILE as
one JSON line before it answers 200 with a transaction-response Bundle. MODE:
  ok         accept everything
  fail:N     answer 503 to every Nth POST (the client retries)
  drop:N     close the connection without an answer on every Nth POST
  refuse:N   answer 400 with an OperationOutcome to the Nth POST
It runs until killed.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT_FILE, ACCEPTED_FILE, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
KIND, _, N = MODE.partition(":")
N = int(N or 0)
posts = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        global posts
        posts += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert self.headers["Content-Type"] == "application/fhir+json"
        bundle = json.loads(body)
        nth = N and posts % N == 0
        if KIND == "fail" and nth:
            return self.reply(503, {"resourceType": "OperationOutcome", "issue": []})
        if KIND == "drop" and nth:
            self.close_connection = True
            self.connection.close()
            return
        if KIND == "refuse" and posts == N:
            return self.reply(400, {"resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "invalid", "diagnostics": "test refusal"}]})
        with open(ACCEPTED_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(bundle, separators=(",", ":")) + "\n")
        self.reply(200, {"resourceType": "Bundle", "type": "transaction-response", "entry": [
            {"response": {"status": "200 OK"}} for _ in bundle["entry"]]})


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
