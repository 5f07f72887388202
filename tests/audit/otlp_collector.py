"""A loopback OTLP/HTTP logs collector for tests; decodes requests with opentelemetry-proto."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)


@dataclass
class Collector:
    """What the collector received; `status` is what it answers with."""

    url: str = ""
    status: int = 200
    requests: list[ExportLogsServiceRequest] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def records(self) -> list[Any]:
        """Every log record, in arrival order."""
        return [
            rec
            for req in self.requests
            for rl in req.resource_logs
            for sl in rl.scope_logs
            for rec in sl.log_records
        ]


def attributes(record: Any) -> dict[str, Any]:
    """A log record's attributes as plain Python values."""
    out: dict[str, Any] = {}
    for kv in record.attributes:
        out[kv.key] = value(kv.value)
    return out


def value(v: Any) -> Any:
    """An OTLP AnyValue as plain Python."""
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


@contextmanager
def collector() -> Iterator[Collector]:
    """Run a collector on 127.0.0.1, port 0, for the duration of the block."""
    state = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            state.paths.append(self.path)
            state.headers.append(dict(self.headers))
            if state.status == 200:
                req = ExportLogsServiceRequest()
                req.ParseFromString(body)
                state.requests.append(req)
            payload = ExportLogsServiceResponse().SerializeToString()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
