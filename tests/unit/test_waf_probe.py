"""The opt-in WAF probe against loopback stand-ins: one that blocks and one that does not."""

import http.server
import threading

import pytest

from policies.targets.stack import free_port
from tests.helpers import junit_failures, run_suite, suite


def _serve(status):
    """A loopback endpoint answering each request with status(path, headers, body length)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(status(self.path, self.headers, length))
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

        def log_message(self, *args):
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _server(blocks: bool):
    def status(path, headers, length):
        attack = "%27" in path or "script" in path or length > 8192
        return 403 if blocks and attack else 200

    return _serve(status)


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


def _origin(honours_upload_exception: bool):
    """A stand-in of infra/'s Web ACL for the requests this machine can send: a missing
    User-Agent and a body over 8 KB outside the upload path get 403 (or every large body, when
    the upload exception is not honoured)."""

    def status(path, headers, length):
        upload = honours_upload_exception and path.startswith("/api/v1/images/upload")
        return 403 if not headers.get("User-Agent") or (length > 8192 and not upload) else 200

    return _serve(status)


@pytest.mark.parametrize("honours", [True, False], ids=["as-declared", "upload-blocked"])
def test_the_repository_cases_are_sent_and_compared_with_the_simulator(honours, tmp_path):
    server = _origin(honours)
    try:
        done = run_suite(
            *suite("waf"),
            "-k",
            "WAF-016",
            "--waf-probe-url",
            f"http://127.0.0.1:{server.server_port}/",
            "--aws-endpoint",
            "http://127.0.0.1:9",
            "--reports",
            str(tmp_path),
        )
    finally:
        server.shutdown()
    failures = junit_failures(tmp_path / "junit.xml")
    if honours:
        assert done.returncode == 0 and not failures, done.stdout[-3000:]
    else:
        (failure,) = failures.values()
        assert "an image upload over 8 KB is allowed on the upload path" in failure
        assert "expected status 200 (simulated); actual status 403" in failure
