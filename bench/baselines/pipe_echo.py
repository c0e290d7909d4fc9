"""Physical floor for small messages: echoes each line of stdin back on stdout, untouched.

A JSON line over a stdio pipe is the fastest small-message IPC on this machine; the bench sends the
same rows as JSON and parses the echo, so that pyudf's figures can be read against that limit.
"""

import sys


def main() -> int:
    out = sys.stdout.buffer
    out.write(b"ready\n")
    out.flush()
    for line in sys.stdin.buffer:
        out.write(line)
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
