"""The real command line: ``python -m mdsync sandbox serve`` in a subprocess, driven over HTTP.

Each server is started on a port from ``free_port()``, waited for until it answers, and
stopped with SIGTERM. Every API exchange goes through ``contract_client``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import mdsync
from mdsync.errors import SandboxError
from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN
from mdsync.sandbox.server import free_port
from tests.support.background import wait_until_answered
from tests.support.sandbox import contract_client, storage

BASIC = (DEFAULT_EMAIL, DEFAULT_TOKEN)
MDSYNC = [sys.executable, "-m", "mdsync"]
IGNORING_SIGINT = ("import runpy, signal; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                   "runpy.run_module('mdsync', run_name='__main__', alter_sys=True)")


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without MDSYNC_SANDBOX_* settings that would change the server."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MDSYNC_SANDBOX_")}
    env.update(extra)
    return env


class Served:
    """One ``mdsync sandbox serve`` process, its output collected as it comes."""

    def __init__(self, *args: str, cwd: Path, env: dict[str, str] | None = None, port: int | None = None,
                 sigint_ignored: bool = False) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A shell starts a script's background jobs with SIGINT ignored; so can CI.
        command = [sys.executable, "-c", IGNORING_SIGINT] if sigint_ignored else MDSYNC
        self.process = subprocess.Popen(
            [*command, "sandbox", "serve", "--port", str(self.port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            cwd=cwd, env=env or clean_env(),
        )
        self._out: list[str] = []
        self._err: list[str] = []
        self._readers = [threading.Thread(target=self._drain, args=(stream, into), daemon=True)
                         for stream, into in ((self.process.stdout, self._out), (self.process.stderr, self._err))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _drain(stream: Any, into: list[str]) -> None:
        for line in stream:
            into.append(line)

    @property
    def stdout(self) -> str:
        return "".join(self._out)

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    def wait_ready(self, timeout: float = 15.0) -> Served:
        deadline = time.monotonic() + timeout
        wait_until_answered(self.process, f"{self.url}/_edge/tenant_info", timeout, lambda: self.stderr)
        # The banner is printed before the server listens; let the reader thread catch up.
        while "Press Ctrl-C to stop." not in self.stdout and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def serve_cli(tmp_path: Path) -> Iterator[Any]:
    """Start servers with ``serve_cli(*args)``; any still running at the end are killed."""
    started: list[Served] = []

    def start(*args: str, **options: Any) -> Served:
        served = Served(*args, cwd=tmp_path, **options)
        started.append(served)
        return served.wait_ready()

    yield start
    for served in started:
        served.kill()


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server with no options at all, shared by the tests that only use its API."""
    served = Served(cwd=tmp_path_factory.mktemp("serve"))
    try:
        yield served.wait_ready()
    finally:
        served.kill()


@pytest.fixture
def api(default_server: Served) -> Iterator[httpx.Client]:
    with contract_client(default_server.url, auth=BASIC) as client:
        yield client


def docs_space(client: httpx.Client, key: str = "DOCS") -> dict[str, Any]:
    response = client.get("/wiki/api/v2/spaces", params={"keys": key})
    assert response.status_code == 200, response.text
    [space] = response.json()["results"]
    return space


def create_page(client: httpx.Client, space: dict[str, Any], title: str, body: str = "<p>one</p>") -> dict[str, Any]:
    response = client.post("/wiki/api/v2/pages", json={"spaceId": space["id"], "status": "current", "title": title,
                                                       "body": storage(body)})
    assert response.status_code == 200, response.text
    return response.json()


def unique(title: str) -> str:
    return f"{title} {uuid.uuid4().hex[:8]}"


# -- the API of a served sandbox ----------------------------------------------------------


def test_versioned_updates_and_the_stale_version_conflict(api: httpx.Client) -> None:
    title = unique("Versioned")
    page = create_page(api, docs_space(api), title)
    assert page["version"]["number"] == 1

    update = {"id": page["id"], "status": "current", "title": title, "body": storage("<p>two</p>"),
              "version": {"number": 2, "message": "second"}}
    updated = api.put(f"/wiki/api/v2/pages/{page['id']}", json=update)
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"]["number"] == 2

    stale = api.put(f"/wiki/api/v2/pages/{page['id']}",
                    json={**update, "body": storage("<p>three</p>")})
    assert stale.status_code == 409
    [error] = stale.json()["errors"]
    assert error["status"] == 409
    assert error["code"] == "CONFLICT"
    assert error["title"] == ("Version must be incremented when updating a page. "
                              "Current Version: [2]. Provided version: [2]")

    current = api.get(f"/wiki/api/v2/pages/{page['id']}", params={"body-format": "storage"}).json()
    assert current["version"]["number"] == 2
    assert current["body"]["storage"]["value"] == "<p>two</p>"


def test_listing_walks_every_page_once_by_next_links(api: httpx.Client) -> None:
    space = docs_space(api)
    mine = {create_page(api, space, unique(f"Walk {n}"))["id"] for n in range(7)}

    seen: list[str] = []
    response = api.get("/wiki/api/v2/pages", params={"space-id": space["id"], "limit": 3})
    while True:
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert 1 <= len(results) <= 3
        seen += [page["id"] for page in results]
        next_link = response.json()["_links"].get("next")
        if next_link is None:
            assert "Link" not in response.headers
            break
        assert next_link.startswith("/wiki/api/v2/pages?")
        assert len(results) == 3
        assert response.links["next"]["url"] == next_link
        assert 'rel="next"' in response.headers["Link"]
        response = api.get(next_link)

    assert len(seen) == len(set(seen)), "a page came twice"
    assert mine <= set(seen)
    everything = api.get("/wiki/api/v2/pages", params={"space-id": space["id"], "limit": 250}).json()
    assert "next" not in everything["_links"]
    assert seen == [page["id"] for page in everything["results"]]


@pytest.mark.parametrize("limit", [0, 251, -1])
def test_limit_out_of_range_is_400(api: httpx.Client, limit: int) -> None:
    response = api.get("/wiki/api/v2/pages", params={"limit": limit})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["status"] == 400
    assert "limit" in error["title"]


def test_limits_at_the_bounds_are_accepted(api: httpx.Client) -> None:
    assert api.get("/wiki/api/v2/pages", params={"limit": 1}).status_code == 200
    assert api.get("/wiki/api/v2/pages", params={"limit": 250}).status_code == 200


def test_attachment_with_a_non_ascii_name_round_trips(api: httpx.Client) -> None:
    page = create_page(api, docs_space(api), unique("Has a picture"))
    name = "Überblick café 2.png"
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    upload = api.post(f"/wiki/rest/api/content/{page['id']}/child/attachment",
                      files={"file": (name, data, "image/png")}, data={"minorEdit": "true"},
                      headers={"X-Atlassian-Token": "no-check"})
    assert upload.status_code == 200, upload.text
    [attachment] = upload.json()["results"]
    assert attachment["title"] == name
    assert attachment["extensions"]["mediaType"] == "image/png"
    assert attachment["extensions"]["fileSize"] == len(data)

    listed = api.get(f"/wiki/api/v2/pages/{page['id']}/attachments").json()["results"]
    assert [item["title"] for item in listed] == [name]

    path = f"/wiki/rest/api/content/{page['id']}/child/attachment/{attachment['id']}/download"
    redirect = api.get(path)
    assert redirect.status_code == 302
    assert redirect.headers["Location"].startswith(f"/wiki/download/attachments/{page['id']}/")
    fetched = api.get(path, follow_redirects=True)
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["Content-Type"].startswith("image/png")
    assert [hop.status_code for hop in fetched.history] == [302]


def test_an_upload_without_the_xsrf_header_is_refused(api: httpx.Client) -> None:
    page = create_page(api, docs_space(api), unique("No token"))
    response = api.post(f"/wiki/rest/api/content/{page['id']}/child/attachment",
                        files={"file": ("a.txt", b"a", "text/plain")}, data={"minorEdit": "true"})
    assert response.status_code == 403
    assert response.json()["statusCode"] == 403


def test_default_startup_output_shows_the_public_credentials(default_server: Served) -> None:
    out = default_server.stdout
    assert f"email: {DEFAULT_EMAIL}" in out
    assert f"token: {DEFAULT_TOKEN}" in out
    assert default_server.url in out
    assert "spaces: DOCS" in out
    cloud_id = httpx.get(f"{default_server.url}/_edge/tenant_info").json()["cloudId"]
    assert cloud_id in out.split()
    assert "faults:" not in out
    assert "Traceback" not in default_server.stderr


# -- options ------------------------------------------------------------------------------


def test_db_file_keeps_pages_across_a_restart(serve_cli: Any, tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    first = serve_cli("--db", str(db))
    with contract_client(first.url, auth=BASIC) as client:
        page = create_page(client, docs_space(client), "Survives a restart", "<p>kept</p>")
    cloud_id = httpx.get(f"{first.url}/_edge/tenant_info").json()["cloudId"]
    assert first.stop() == -signal.SIGTERM
    assert db.exists()

    second = serve_cli("--db", str(db))
    with contract_client(second.url, auth=BASIC) as client:
        again = client.get(f"/wiki/api/v2/pages/{page['id']}", params={"body-format": "storage"})
        assert again.status_code == 200
        assert again.json()["title"] == "Survives a restart"
        assert again.json()["body"]["storage"]["value"] == "<p>kept</p>"
        spaces = client.get("/wiki/api/v2/spaces").json()["results"]
        assert [space["key"] for space in spaces] == ["DOCS"], "the restart made a second DOCS space"
    assert httpx.get(f"{second.url}/_edge/tenant_info").json()["cloudId"] == cloud_id


def test_real_auth_errors_refuse_wrong_credentials_as_cloud_does(serve_cli: Any) -> None:
    served = serve_cli("--real-auth-errors")
    wrong = ("someone@example.com", "not-the-token")
    space = httpx.get(f"{served.url}/wiki/api/v2/spaces", params={"keys": "DOCS"}, auth=wrong)
    assert space.status_code == 404 and space.json()["errors"][0]["title"] == "Not Found"
    v1 = httpx.get(f"{served.url}/wiki/rest/api/space", auth=wrong)
    assert v1.status_code == 403 and "cannot access Confluence" in v1.text
    assert httpx.get(f"{served.url}/wiki/api/v2/spaces", auth=BASIC).status_code == 200  # the right ones still work
    plain = serve_cli()
    assert httpx.get(f"{plain.url}/wiki/api/v2/spaces", auth=wrong).status_code == 401  # without the flag


def test_spaces_and_custom_credentials(serve_cli: Any) -> None:
    email, token = "writer@example.org", f"tok-{uuid.uuid4().hex}"
    served = serve_cli("--space", "ALPHA", "--space", "BETA", "--email", email, "--token", token)
    with contract_client(served.url, auth=(email, token)) as client:
        spaces = client.get("/wiki/api/v2/spaces").json()["results"]
        assert sorted(space["key"] for space in spaces) == ["ALPHA", "BETA"]
        assert client.get("/wiki/rest/api/user/current").json()["email"] == email
    with contract_client(served.url, auth=BASIC) as client:
        assert client.get("/wiki/api/v2/spaces").status_code == 401
    gateway = f"{served.url}/ex/confluence/{httpx.get(f'{served.url}/_edge/tenant_info').json()['cloudId']}"
    with contract_client(gateway, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.get("/wiki/api/v2/spaces").status_code == 200
    assert served.stop() == -signal.SIGTERM
    output = served.stdout + served.stderr
    assert token not in output
    assert token not in "".join(output.split())  # not even folded across lines
    assert f"email: {email}" in served.stdout
    assert "spaces: ALPHA, BETA" in served.stdout
    assert DEFAULT_TOKEN not in output


def test_rate_limit_share_flag_and_environment(serve_cli: Any, tmp_path: Path) -> None:
    served = serve_cli("--rate-limit-share", "1", env=clean_env(MDSYNC_SANDBOX_RETRY_AFTER="7"))
    with contract_client(served.url, auth=BASIC) as client:
        for path in ("/wiki/api/v2/spaces", "/wiki/rest/api/user/current"):
            response = client.get(path)
            assert response.status_code == 429, path
            assert response.headers["Retry-After"] == "7"
    assert httpx.get(f"{served.url}/").status_code == 200  # the preview is not rate limited
    assert "faults:" in served.stdout


def test_a_bad_fault_variable_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run([*MDSYNC, "sandbox", "serve", "--port", str(free_port())], capture_output=True,
                          text=True, cwd=tmp_path, env=clean_env(MDSYNC_SANDBOX_RATE_LIMIT_SHARE="lots"), timeout=30)
    assert done.returncode == 2
    assert "MDSYNC_SANDBOX_RATE_LIMIT_SHARE" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_port_in_use_is_one_sentence_and_a_failure_code(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([*MDSYNC, "sandbox", "serve", "--port", str(port)], capture_output=True, text=True,
                              cwd=tmp_path, env=clean_env(), timeout=30)
    assert "Traceback" not in done.stderr + done.stdout
    # The CLI's own message (SandboxError), not the web server's log line, with SandboxError's code.
    error_lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1, done.stderr
    assert error_lines[0].startswith("error: ")
    assert str(port) in error_lines[0] and "--port" in error_lines[0]
    assert done.returncode == SandboxError.exit_code == 1


def test_sigterm_shuts_down_gracefully_and_memory_is_not_kept(serve_cli: Any) -> None:
    served = serve_cli()
    with contract_client(served.url, auth=BASIC) as client:
        page = create_page(client, docs_space(client), "Gone after a restart")
    with httpx.Client(base_url=served.url) as client:
        assert client.get("/").status_code == 200  # an idle keep-alive connection is open
        started = time.monotonic()
        code = served.stop(signal.SIGTERM)
    # uvicorn (>= 0.29) catches SIGTERM, shuts down, then raises the signal again with its
    # default action, so the process ends "killed by SIGTERM" (-15), after a clean shutdown.
    assert code == -signal.SIGTERM
    assert time.monotonic() - started < 5
    assert "Traceback" not in served.stderr
    assert "error" not in served.stderr.lower()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{served.url}/_edge/tenant_info", timeout=1)
    # Without --db the data lived in memory only.
    again = serve_cli()
    with contract_client(again.url, auth=BASIC) as client:
        assert client.get(f"/wiki/api/v2/pages/{page['id']}").status_code == 404


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["from a terminal", "started with SIGINT ignored"])
def test_ctrl_c_stops_with_130(serve_cli: Any, sigint_ignored: bool) -> None:
    served = serve_cli(sigint_ignored=sigint_ignored)
    assert served.stop(signal.SIGINT) == 130
    assert served.stderr.strip() == "Interrupted."


# -- the top-level command ----------------------------------------------------------------


def test_help_lists_the_commands(tmp_path: Path) -> None:
    done = subprocess.run([*MDSYNC, "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert done.returncode == 0
    commands = {line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert {"sandbox", "demo"} <= commands


def test_version_is_the_package_version(tmp_path: Path) -> None:
    done = subprocess.run([*MDSYNC, "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert done.returncode == 0
    assert done.stdout.strip() == f"mdsync, version {mdsync.__version__}"
