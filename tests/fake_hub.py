"""A small stand-in for the Hugging Face Hub on 127.0.0.1, for the real ``huggingface_hub`` client.

It speaks the part of the hub's protocol that ``lionlora scene fetch`` uses:

- ``GET /api/datasets/{repo}/auth-check``: 200, or 401/403 with ``X-Error-Code: GatedRepo``;
- ``HEAD``/``GET /datasets/{repo}/resolve/{revision}/{path}``: the file with ``X-Repo-Commit``,
  ``ETag``, ``X-Linked-Etag`` (the LFS sha256) and ``X-Linked-Size``; ``Range: bytes=N-`` gets
  206 with ``Content-Range``; a missing file is 404 with ``X-Error-Code: EntryNotFound``.

Files can be served wrong on purpose: ``advertise`` a sha256 other than the bytes' (a corrupt
archive), ``cut`` a transfer after N bytes (the connection drops), ``stall`` after N bytes until
released (a run killed mid-transfer), or be gated one by one. Every request is recorded.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"
TOKEN = "hf_fake_token_with_access"


@dataclass
class HubFile:
    data: bytes
    advertise: str | None = None  # sha256 announced instead of the real one
    cut: int | None = None  # drop the connection after this many bytes, once
    stall: int | None = None  # send this many bytes, then wait for `release`, once
    gated: bool = False  # 403 GatedRepo for this file only
    release: threading.Event = field(default_factory=threading.Event)
    stalled: threading.Event = field(default_factory=threading.Event)

    @property
    def sha256(self) -> str:
        return self.advertise or hashlib.sha256(self.data).hexdigest()


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    authorization: str | None


class FakeHub:
    """``with FakeHub() as hub:`` serves ``hub.files[(repo, path)]`` at ``hub.url``."""

    def __init__(self):
        self.files: dict[tuple[str, str], HubFile] = {}
        self.no_access: set[str] = set()  # gated repos the token has no access to
        self.requests: list[Request] = []
        self.sent: dict[str, int] = {}  # bytes of file bodies sent, per path
        self.active = 0  # file bodies being sent now
        self.max_active = 0  # the most at once
        self.lock = threading.Lock()
        self.pace = 0.0  # seconds between 64 KiB pieces
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        for f in self.files.values():
            f.release.set()
        self._server.shutdown()
        self._server.server_close()

    def gets(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == "GET" and r.path.endswith("/" + path)]


_RESOLVE = re.compile(r"^/datasets/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
_AUTH = re.compile(r"^/api/datasets/([^/]+/[^/]+)/auth-check$")
_RANGE = re.compile(r"^bytes=(\d+)-$")


def _handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _record(self) -> None:
            hub.requests.append(
                Request(self.command, self.path, self.headers.get("Range"), self.headers.get("Authorization"))
            )

        def _refuse(self, repo: str) -> bool:
            auth = self.headers.get("Authorization")
            if auth is None or (repo in hub.no_access):
                self._error(401 if auth is None else 403, "GatedRepo", f"Access to dataset {repo} is restricted.")
                return True
            if auth != f"Bearer {TOKEN}":
                self._error(401, "", "Invalid credentials in Authorization header")
                return True
            return False

        def _error(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"error": message}).encode()
            self.send_response(status)
            if code:
                self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) if self.command != "HEAD" else 0))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            self._record()
            self._resolve(body=False)

        def do_GET(self):
            self._record()
            m = _AUTH.match(self.path)
            if m:
                if not self._refuse(m.group(1)):
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                return
            self._resolve(body=True)

        def _resolve(self, body: bool) -> None:
            m = _RESOLVE.match(self.path.split("?")[0])
            if not m:
                return self._error(404, "RepoNotFound", "not a hub url")
            repo, path = m.group(1), m.group(3)
            if self._refuse(repo):
                return None
            f = hub.files.get((repo, path))
            if f is None:
                return self._error(404, "EntryNotFound", f"{path} does not exist")
            if f.gated:
                return self._error(403, "GatedRepo", f"Access to {path} is restricted.")
            start = 0
            rng = _RANGE.match(self.headers.get("Range") or "")
            if rng and body:
                start = int(rng.group(1))
            self.send_response(206 if start else 200)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{f.sha256}"')
            self.send_header("X-Linked-Etag", f'"{f.sha256}"')
            self.send_header("X-Linked-Size", str(len(f.data)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(f.data) - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(f.data) - 1}/{len(f.data)}")
            self.end_headers()
            if body:
                self._send_body(f, path, start)
            return None

        def _send_body(self, f: HubFile, path: str, start: int) -> None:
            with hub.lock:
                hub.active += 1
                hub.max_active = max(hub.max_active, hub.active)
            try:
                self._send_range(f, path, start)
            finally:
                with hub.lock:
                    hub.active -= 1

        def _send_range(self, f: HubFile, path: str, start: int) -> None:
            stop = len(f.data)
            limit = f.cut if f.cut is not None else f.stall
            if limit is not None and start < limit:
                stop = limit
            for i in range(start, stop, 1 << 16):  # in pieces, at a pace that lets transfers overlap
                self.wfile.write(f.data[i : min(i + (1 << 16), stop)])
                self.wfile.flush()
                time.sleep(hub.pace)
            hub.sent[path] = hub.sent.get(path, 0) + stop - start
            if stop == len(f.data):
                return
            if f.stall is not None:
                f.stall = None
                f.stalled.set()
                f.release.wait(60)
            else:
                f.cut = None
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    return Handler
