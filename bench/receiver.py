"""A tiny webhook receiver: appends `<arrival epoch seconds>\t<Idempotency-Key>` per POST to a file.

`python -m bench.receiver PORT FILE`; stops on SIGINT/SIGTERM."""

import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main(port: int, path: str) -> None:
    lock = threading.Lock()
    out = open(path, "a", buffering=1)  # noqa: SIM115 - closed below

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            at = time.time()  # headers are parsed: the notification has arrived
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                out.write(f"{at:.6f}\t{self.headers.get('Idempotency-Key', '')}\n")
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("receiver started", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    out.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
