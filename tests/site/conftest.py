"""Fixtures of the site's browser tests: the tiny site served over HTTP, and its address
from ``file://`` or from that server (each test that takes ``base_url`` runs with both)."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest


@pytest.fixture(scope="module")
def server(tiny_site):
    """The tiny site served on 127.0.0.1 by Python's own static server."""
    config, _ = tiny_site
    handler = functools.partial(_QuietHandler, directory=str(config.out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(params=["file", "http"])
def base_url(request, tiny_site):
    if request.param == "file":
        return tiny_site[0].out.resolve().as_uri() + "/"
    return request.getfixturevalue("server")
