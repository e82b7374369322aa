"""Serve the dashboard as ``panel serve dashboard/app.py`` does, plus what that command cannot set.

    python scripts/serve.py --port 5006 --num-procs 2 --address 0.0.0.0 --allow-websocket-origin your.host.name

Tornado answers a request whose request line and headers exceed its ``max_header_size`` (64 KiB by default) by
closing the connection: a long link (a 100 KB query) got an empty response, before the app could say anything.
``panel serve`` has no option for it; ``pn.serve`` passes ``http_server_kwargs`` to Tornado's HTTP server, so
here links up to MAX_REQUEST_HEADER_BYTES are answered: the page opens and names the values it ignored. Start it
with ``views.common.SERVER_MEMORY_ENV`` in the environment, as the README's deployment command does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

# Request line + headers Tornado reads before answering: 1 MiB (the dashboard's own links are under 2 KB; an
# architecture link ``arch=`` a few hundred characters). Tornado keeps at most this much per connection.
MAX_REQUEST_HEADER_BYTES = 1024 * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5006)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--num-procs", type=int, default=1, help="server processes (0: one per core)")
    parser.add_argument("--allow-websocket-origin", action="append", default=[], help="HOST[:PORT], repeatable")
    args = parser.parse_args(argv)

    import panel as pn

    from dashboard.app import TITLE, build_app

    origins = args.allow_websocket_origin or [f"{args.address}:{args.port}", f"localhost:{args.port}"]
    pn.serve(
        {"app": build_app},
        port=args.port,
        address=args.address,
        num_procs=args.num_procs,
        websocket_origin=origins,
        title=TITLE,
        show=False,
        http_server_kwargs={"max_header_size": MAX_REQUEST_HEADER_BYTES},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
