"""The lab's web server: answers every GET with its own name as the first line.

Run in a real server's namespace (``lab up`` does)::

    python -m pylvs.lab.httpd --name web1 --port 80

so that, as in the guide's Step 8, ``curl -s http://10.0.1.100/ | head -1``
prints ``web1`` or ``web2``. The next lines show what the lesson is about:
the client's address as the server sees it (kept in DR and TUN, kept in NAT
too) and the local address the connection arrived on (the VIP in DR and TUN,
the server's own address in NAT)::

    web1
    client 10.0.2.50:41432
    server 10.0.1.100:80

HTTP/1.1 with keep-alive, HEAD as GET without the body, any path. Requests
are not logged (benchmarks would fill the log).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pylvs.lab import procs

__all__ = ["body_for", "handler_for", "main"]


def body_for(name: str, client: tuple[str, int], server: tuple[str, int]) -> bytes:
    return f"{name}\nclient {client[0]}:{client[1]}\nserver {server[0]}:{server[1]}\n".encode()


def handler_for(name: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "pylvs-lab-httpd"
        sys_version = ""
        protocol_version = "HTTP/1.1"

        def _answer(self, with_body: bool) -> None:
            peer = self.client_address
            local = self.connection.getsockname()
            body = body_for(name, (str(peer[0]), int(peer[1])), (str(local[0]), int(local[1])))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m pylvs.lab.httpd", description=__doc__.split("\n")[0]
    )
    p.add_argument("--name", required=True, help="the first line of every answer")
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--bind", default="0.0.0.0", help="address to listen on (default: all)")
    p.add_argument("--ready-fd", type=int, metavar="FD", help="write 'ready' here once listening")
    args = p.parse_args(argv)
    try:
        server = Server((args.bind, args.port), handler_for(args.name))
    except OSError as e:
        print(f"httpd {args.name}: cannot listen on {args.bind}:{args.port}: {e}", file=sys.stderr)
        return 1
    print(f"httpd {args.name}: listening on {args.bind}:{args.port}", file=sys.stderr, flush=True)
    procs.ready(args.ready_fd)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
