"""The opt-in WAF probe against loopback stand-ins: one that blocks and one that does not."""

import http.server
import threading

import pytest

from policies.targets.stack import free_port
from tests.helpers import junit_failures, run_suite, suite


def _server(blocks: bool):
    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            attack = "%27" in self.path or "script" in self.path or length > 8192
            self.send_response(403 if blocks and attack else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

        def log_message(self, *args):
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("blocks", [True, False], ids=["blocking-waf", "open-origin"])
def test_probe(blocks, tmp_path):
    server = _server(blocks)
    try:
        done = run_suite(
            *suite("waf"),
            "-k",
            "WAF-013",
            "--waf-probe-url",
            f"http://127.0.0.1:{server.server_port}/api/v1/images",
            "--aws-endpoint",
            "http://127.0.0.1:9",
            "--reports",
            str(tmp_path),
        )
    finally:
        server.shutdown()
    failures = junit_failures(tmp_path / "junit.xml")
    if blocks:
        assert done.returncode == 0 and not failures, done.stdout[-2000:]
    else:
        assert len(failures) == 3 and all(
            "expected 403; actual 200" in f for f in failures.values()
        ), failures
