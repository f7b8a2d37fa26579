"""A pack's ``Analyze`` calls, made from a second process.

The engine calls a pack's ``Analyze`` once per resource, one call at a time, in registration order, and rdsca does
the same. Made from the host, each call cost the program about 0.4 ms of the host's CPU (grpcio's unary call in
Python) and a wait for the GIL after every reply while the program's threads ran, so that the pack fell behind and
its backlog was left for after the program's end: 1,000 databases checked 1.35-1.40x the SDK's floor with the pack,
1.12x without (issue 30). This relay makes the same calls, in the same order, one at a time, from its own
interpreter, on the core the program does not use; the host only writes each request's bytes on a pipe and reads
the answers back.

Frames, host to relay: ``!IId`` (sequence number, payload length, the deadline as ``time.monotonic()``, which is
the system's monotonic clock, the same in every process) then the serialised ``AnalyzeRequest``. Relay to host:
``!IBI`` (sequence number, 0 for an answer or 1 for a failure, payload length) then the serialised
``AnalyzeResponse``, or JSON ``{"code": StatusCode name, "details": text}``. The first line on stdin is the pack's
port. End of input: the relay closes its channel and exits.
"""

from __future__ import annotations

import json
import math
import struct
import sys
import time
from typing import IO

REQUEST = struct.Struct("!IId")
ANSWER = struct.Struct("!IBI")
OK, FAILED = 0, 1


def _read(stream: IO[bytes], size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def main() -> None:
    import grpc

    from rdsca.runner.pack_launch import ANALYZER_METHOD, channel_options

    source, sink = sys.stdin.buffer, sys.stdout.buffer
    port = source.readline().strip()
    if not port:
        return
    channel = grpc.insecure_channel(f"127.0.0.1:{int(port)}", options=channel_options())
    # Bytes in, bytes out: the relay neither parses nor builds a message, and so needs no Pulumi SDK (importing its
    # protobuf modules imports the whole SDK: 20 MiB more of the relay's memory).
    analyze = channel.unary_unary(ANALYZER_METHOD.format("Analyze"))
    try:
        while True:
            header = _read(source, REQUEST.size)
            if header is None:
                return
            sequence, length, deadline = REQUEST.unpack(header)
            payload = _read(source, length)
            if payload is None:
                return
            status, answer = OK, b""
            remaining = deadline - time.monotonic() if math.isfinite(deadline) else None
            try:
                if remaining is not None and remaining <= 0:
                    status, answer = FAILED, json.dumps({"code": "DEADLINE_EXCEEDED", "details": ""}).encode()
                else:
                    answer = analyze(payload, timeout=remaining)
            except grpc.RpcError as exc:
                status = FAILED
                answer = json.dumps({"code": exc.code().name, "details": exc.details() or ""}).encode()
            sink.write(ANSWER.pack(sequence, status, len(answer)) + answer)
            sink.flush()
    except (BrokenPipeError, KeyboardInterrupt):
        return
    finally:
        channel.close()


if __name__ == "__main__":
    main()
