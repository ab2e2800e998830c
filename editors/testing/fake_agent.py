#!/usr/bin/env python3
"""A loopback OpenAI-compatible agent for the editor tests: no network, no key.

POST /v1/chat/completions with "stream": true answers with Server-Sent Events in the
chat-completions chunk format (`data: {...}` lines, then `data: [DONE]`). The answer is
`--words` words ("word1 word2 ..."), unless the request's last user message contains
`SAY:<text>`, in which case the answer is that text. Each chunk is sent after `--delay-ms`.
GET /v1/models answers a model list, so `baton agents` can reach it.

Prints the port it listens on (one line) and serves until killed.
Every request body is appended to --log as one JSON line, when given.
"""

import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def chunks(text):
    """Splits the answer into word-sized deltas, keeping the spaces."""
    out, word = [], ""
    for char in text:
        word += char
        if char == " ":
            out.append(word)
            word = ""
    if word:
        out.append(word)
    return out


def make_handler(options):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.rstrip("/").endswith("/models"):
                body = json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]})
                self.send_json(200, body)
            else:
                self.send_json(404, json.dumps({"error": {"message": "not found"}}))

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                request = json.loads(raw)
            except ValueError:
                return self.send_json(400, json.dumps({"error": {"message": "bad json"}}))
            if options.log:
                with open(options.log, "a", encoding="utf-8") as log:
                    log.write(json.dumps(request) + "\n")
            if not self.path.endswith("/chat/completions"):
                return self.send_json(404, json.dumps({"error": {"message": "not found"}}))
            messages = request.get("messages") or [{}]
            last = str(messages[-1].get("content", ""))
            if "SAY:" in last:
                answer = last.split("SAY:", 1)[1].strip().splitlines()[0]
            else:
                answer = " ".join(f"word{i}" for i in range(1, options.words + 1))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for piece in chunks(answer):
                    if options.delay_ms:
                        time.sleep(options.delay_ms / 1000)
                    event = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "model": request.get("model", "fake"),
                        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                    }
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                end = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "model": request.get("model", "fake"),
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client cancelled
            self.close_connection = True

        def send_json(self, status, body):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--words", type=int, default=20)
    parser.add_argument("--delay-ms", type=int, default=10)
    parser.add_argument("--log")
    options = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", options.port), make_handler(options))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
