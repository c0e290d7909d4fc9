"""Transport floor: a pyzmq DEALER that echoes every message, frames untouched (no Arrow decode).

Connects to the bench's ROUTER like a pyudf worker does, says b"ready", and echoes until b"quit".
"""

from __future__ import annotations

import argparse
import sys

import zmq
from udf_host import exit_when_stdin_closes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--id", required=True)
    args = parser.parse_args(argv)
    exit_when_stdin_closes()
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.ROUTING_ID, args.id.encode("ascii"))
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(args.endpoint)
    socket.send(b"ready")
    while True:
        # The same calls the pyudf worker makes: zero-copy receive, zero-copy send.
        frames = socket.recv_multipart(copy=False)
        if len(frames) == 1 and frames[0].bytes == b"quit":
            break
        socket.send_multipart(frames, copy=False)
    socket.close(linger=0)
    context.term()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
