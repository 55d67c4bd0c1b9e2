"""The web stack's ceiling: a bare Starlette JSON route on uvicorn's fastest configuration.

`python bench/baseline_app.py --port 0` binds a free port, prints
"baseline listening on http://127.0.0.1:PORT" as its first line (as `alloy-mock serve` does), and
serves, with http="httptools", loop="uvloop", access log off, one process (or --workers N, for
comparison: uvicorn's own worker processes sharing the socket; or --one-write, for comparison:
alloy-mock's own httptools protocol, which sends each response in one write, see
alloy_mock/http/protocol.py):

- GET  /json  -> {"hello": "world"}                        (the baseline the targets compare with)
- POST /json  -> {"username": <body's username>}           (the same plus reading a JSON body)
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from uvicorn.supervisors import Multiprocess

from alloy_mock.http.protocol import http_protocol


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


async def echo(request: Request) -> JSONResponse:
    body = await request.json()
    return JSONResponse({"username": body.get("username") if isinstance(body, dict) else None})


app = Starlette(routes=[Route("/json", hello, methods=["GET"]), Route("/json", echo, methods=["POST"])])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--one-write", action="store_true", help="alloy-mock's one-write httptools protocol")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    host, port = sock.getsockname()[:2]
    print(f"baseline listening on http://{host}:{port}", flush=True)
    config = uvicorn.Config(
        "baseline_app:app",
        http=http_protocol() if args.one_write else "httptools",
        loop="uvloop",
        access_log=False,
        log_level="warning",
        lifespan="off",
        workers=args.workers,
    )
    if args.workers > 1:
        Multiprocess(config, sockets=[sock]).run()  # stops its workers on SIGTERM
        return 0
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
