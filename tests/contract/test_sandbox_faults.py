"""Fault injection in the sandbox: latency, 429, 503, dropped connections, lost responses,
seeded repeatability, the admin endpoints that change faults and read counters at run time,
and ``Faults.from_env``. Everything over real HTTP to a sandbox started here."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from mdsync.errors import UsageError
from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.faults import Faults
from mdsync.sandbox.server import BackgroundServer
from mdsync.sandbox.store import PAGE
from tests.support.sandbox import RunningSandbox, contract_client, storage

BASIC = (DEFAULT_EMAIL, DEFAULT_TOKEN)
V2_PATH = "/wiki/api/v2/spaces"
V1_PATH = "/wiki/rest/api/user/current"
SHARES = ("rate_limit_share", "unavailable_share", "drop_share", "lost_response_share")


@contextmanager
def serve(faults: Faults | None = None) -> Iterator[RunningSandbox]:
    box = create_sandbox(spaces=("DOCS",), faults=faults)
    with BackgroundServer(box) as server:
        yield RunningSandbox(box, server)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """One sandbox for this module (overrides conftest's per-test one to keep the run short);
    every test that changes its faults puts them back to none when it ends."""
    with serve() as running:
        yield running


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with contract_client(sandbox.url, auth=BASIC) as client:
        yield client
    sandbox.box.faults.update({name: 0 for name in (*SHARES, "latency_ms")} | {"retry_after": 1, "seed": None})


def set_faults(client: httpx.Client, **changes: Any) -> httpx.Response:
    response = client.put("/_sandbox/faults", json=changes)
    return response


def space_id(sandbox: RunningSandbox) -> str:
    space = sandbox.store.space_by_key("DOCS")
    assert space is not None
    return str(space.id)


def page_payload(sandbox: RunningSandbox, title: str) -> dict[str, Any]:
    return {"spaceId": space_id(sandbox), "status": "current", "title": title, "body": storage("<p>x</p>")}


def titled(sandbox: RunningSandbox, title: str) -> list[Any]:
    return [page for page in sandbox.store.contents(PAGE) if page.title == title]


# -- latency ------------------------------------------------------------------------------


def test_latency_delays_every_api_request(sandbox: RunningSandbox, api: httpx.Client) -> None:
    # (No bound on the undelayed request: on a loaded machine it can take as long.)
    assert set_faults(api, latency_ms=200).status_code == 200
    for path in (V2_PATH, V1_PATH):
        started = time.monotonic()
        assert api.get(path).status_code == 200
        elapsed = time.monotonic() - started
        assert 0.2 <= elapsed < 5.0, (path, elapsed)


# -- 429 and 503 --------------------------------------------------------------------------


def _assert_envelope(response: httpx.Response, v1: bool, status: int, reason: str) -> None:
    body = response.json()
    if v1:
        assert body["statusCode"] == status
        assert body["reason"] == reason
        assert body["message"]
        assert "errors" not in body
    else:
        [error] = body["errors"]
        assert error["status"] == status
        assert error["code"] and error["title"]
        assert "statusCode" not in body


@pytest.mark.parametrize("path, v1", [
    (V2_PATH, False),
    (V1_PATH, True),
    ("/wiki/api/v2/pages", False),
], ids=["v2", "v1", "v2 pages"])
def test_rate_limit_share_one_answers_every_call_with_429(api: httpx.Client, path: str, v1: bool) -> None:
    assert set_faults(api, rate_limit_share=1.0, retry_after=7).status_code == 200
    for _ in range(3):
        before = datetime.now(timezone.utc).replace(microsecond=0)
        response = api.get(path)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert response.headers["X-RateLimit-Remaining"] == "0"
        assert response.headers["RateLimit-Reason"].startswith("confluence-quota-")
        reset = datetime.strptime(response.headers["X-RateLimit-Reset"], "%Y-%m-%dT%H:%M:%SZ")
        reset = reset.replace(tzinfo=timezone.utc)
        assert before + timedelta(seconds=6) <= reset <= before + timedelta(seconds=9)
        _assert_envelope(response, v1, 429, "Too Many Requests")


def test_rate_limit_applies_through_the_gateway_in_the_v2_envelope(sandbox: RunningSandbox,
                                                                   api: httpx.Client) -> None:
    assert set_faults(api, rate_limit_share=1.0).status_code == 200
    gateway = f"{sandbox.url}/ex/confluence/{sandbox.store.cloud_id}"
    with contract_client(gateway, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}) as client:
        response = client.get(V2_PATH)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        _assert_envelope(response, False, 429, "Too Many Requests")
        response = client.get(V1_PATH)
        assert response.status_code == 429
        _assert_envelope(response, True, 429, "Too Many Requests")


@pytest.mark.parametrize("path, v1", [(V2_PATH, False), (V1_PATH, True)], ids=["v2", "v1"])
def test_unavailable_share_one_answers_503_with_retry_after(api: httpx.Client, path: str, v1: bool) -> None:
    assert set_faults(api, unavailable_share=1.0, retry_after=4).status_code == 200
    response = api.get(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "4"
    _assert_envelope(response, v1, 503, "Service Unavailable")


def test_a_rate_limited_write_changes_nothing(sandbox: RunningSandbox, api: httpx.Client) -> None:
    title = f"Refused {uuid.uuid4().hex[:8]}"
    assert set_faults(api, rate_limit_share=1.0).status_code == 200
    assert api.post("/wiki/api/v2/pages", json=page_payload(sandbox, title)).status_code == 429
    assert set_faults(api, unavailable_share=1.0, rate_limit_share=0).status_code == 200
    assert api.post("/wiki/api/v2/pages", json=page_payload(sandbox, title)).status_code == 503
    assert titled(sandbox, title) == []


# -- dropped connections and lost responses -----------------------------------------------


def test_drop_share_breaks_the_connection_and_nothing_happens(sandbox: RunningSandbox, api: httpx.Client) -> None:
    title = f"Dropped {uuid.uuid4().hex[:8]}"
    assert set_faults(api, drop_share=1.0).status_code == 200
    with pytest.raises(httpx.TransportError):
        api.post("/wiki/api/v2/pages", json=page_payload(sandbox, title))
    with pytest.raises(httpx.TransportError):
        api.get(V2_PATH)
    assert titled(sandbox, title) == []
    assert set_faults(api, drop_share=0).status_code == 200
    listed = api.get("/wiki/api/v2/pages", params={"title": title})
    assert listed.status_code == 200
    assert listed.json()["results"] == []


def test_lost_response_creates_the_page_but_the_client_never_hears(sandbox: RunningSandbox,
                                                                   api: httpx.Client) -> None:
    title = f"Lost {uuid.uuid4().hex[:8]}"
    assert set_faults(api, lost_response_share=1.0).status_code == 200
    with pytest.raises(httpx.TransportError):
        api.post("/wiki/api/v2/pages", json=page_payload(sandbox, title))

    switched_off = set_faults(api, lost_response_share=0)
    assert switched_off.status_code == 200
    assert switched_off.json()["lost_response_share"] == 0
    found = api.get("/wiki/api/v2/pages", params={"title": title, "space-id": space_id(sandbox)})
    assert found.status_code == 200
    [page] = found.json()["results"]
    assert page["title"] == title
    assert page["version"]["number"] == 1
    assert [item.id for item in titled(sandbox, title)] == [int(page["id"])]
    # A client that blindly sends the POST again is told the title is taken: it must look first.
    again = api.post("/wiki/api/v2/pages", json=page_payload(sandbox, title))
    assert again.status_code == 400
    assert "already exists" in again.json()["errors"][0]["title"]
    assert len(titled(sandbox, title)) == 1


def test_lost_response_on_an_update_applies_it(sandbox: RunningSandbox, api: httpx.Client) -> None:
    title = f"Lost update {uuid.uuid4().hex[:8]}"
    created = api.post("/wiki/api/v2/pages", json=page_payload(sandbox, title))
    assert created.status_code == 200
    page_id = created.json()["id"]
    assert set_faults(api, lost_response_share=1.0).status_code == 200
    update = {"id": page_id, "status": "current", "title": title, "body": storage("<p>new</p>"),
              "version": {"number": 2}}
    with pytest.raises(httpx.TransportError):
        api.put(f"/wiki/api/v2/pages/{page_id}", json=update)
    assert set_faults(api, lost_response_share=0).status_code == 200
    current = api.get(f"/wiki/api/v2/pages/{page_id}", params={"body-format": "storage"}).json()
    assert current["version"]["number"] == 2
    assert current["body"]["storage"]["value"] == "<p>new</p>"
    # Replaying the same versioned PUT is refused, as a client re-reading first would avoid.
    assert api.put(f"/wiki/api/v2/pages/{page_id}", json=update).status_code == 409


def test_writes_past_hold_writes_after_wait_unhandled_then_fail(sandbox: RunningSandbox, api: httpx.Client) -> None:
    first, second = (f"Held {n} {uuid.uuid4().hex[:8]}" for n in (1, 2))
    assert set_faults(api, hold_writes_after=1).json()["hold_writes_after"] == 1
    assert api.post("/wiki/api/v2/pages", json=page_payload(sandbox, first)).status_code == 200
    outcome: list[BaseException | int] = []

    def write_second() -> None:
        with contract_client(sandbox.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=120) as other:
            try:
                outcome.append(other.post("/wiki/api/v2/pages", json=page_payload(sandbox, second)).status_code)
            except httpx.TransportError as error:
                outcome.append(error)

    writer = threading.Thread(target=write_second)
    writer.start()
    try:
        for _ in range(6000):  # the held write arrives: up to two minutes on a loaded machine
            if sandbox.box.faults.held:
                break
            time.sleep(0.02)
        assert sandbox.box.faults.held == 1
        assert api.get(V2_PATH).status_code == 200, "reads are never held"
        assert outcome == [] and titled(sandbox, second) == []
    finally:
        assert set_faults(api, hold_writes_after=None).status_code == 200
        writer.join(timeout=120)
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.TransportError), outcome
    assert titled(sandbox, second) == [] and len(titled(sandbox, first)) == 1
    assert api.post("/wiki/api/v2/pages", json=page_payload(sandbox, second)).status_code == 200


def test_a_write_past_fail_answers_after_is_handled_and_answered_500(sandbox: RunningSandbox,
                                                                    api: httpx.Client) -> None:
    first, second = (f"Failed {n} {uuid.uuid4().hex[:8]}" for n in (1, 2))
    assert set_faults(api, fail_answers_after=1).status_code == 200
    try:
        assert api.post("/wiki/api/v2/pages", json=page_payload(sandbox, first)).status_code == 200
        # Past the contract client, which rightly holds Cloud to the statuses the document lists.
        answer = httpx.post(f"{sandbox.url}/wiki/api/v2/pages", json=page_payload(sandbox, second),
                            auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=60)
        assert answer.status_code == 500 and answer.json()["errors"][0]["status"] == 500, answer.text
    finally:
        assert set_faults(api, fail_answers_after=None).status_code == 200
    assert len(titled(sandbox, second)) == 1, "Confluence made the page though it answered 500"


def test_a_write_past_hold_answers_after_is_handled_and_never_answered(sandbox: RunningSandbox,
                                                                      api: httpx.Client) -> None:
    title = f"Unanswered {uuid.uuid4().hex[:8]}"
    assert set_faults(api, hold_answers_after=0).status_code == 200
    outcome: list[BaseException | int] = []

    def write() -> None:
        with contract_client(sandbox.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=120) as other:
            try:
                outcome.append(other.post("/wiki/api/v2/pages", json=page_payload(sandbox, title)).status_code)
            except httpx.TransportError as error:
                outcome.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(6000):  # up to two minutes on a loaded machine
            if sandbox.box.faults.held:
                break
            time.sleep(0.02)
        assert sandbox.box.faults.held == 1 and outcome == []
        assert len(titled(sandbox, title)) == 1, "the write was handled before its answer was held"
    finally:
        assert set_faults(api, hold_answers_after=None).status_code == 200
        writer.join(timeout=120)
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.TransportError), outcome


# -- seeds --------------------------------------------------------------------------------


def _statuses(url: str, count: int = 30) -> list[int]:
    with contract_client(url, auth=BASIC) as client:
        return [client.get(V2_PATH).status_code for _ in range(count)]


def test_a_seed_makes_a_half_share_repeatable() -> None:
    with serve(Faults(rate_limit_share=0.5, seed=4242)) as first, \
         serve(Faults(rate_limit_share=0.5, seed=4242)) as second:
        sequence = _statuses(first.url)
        assert _statuses(second.url) == sequence
        assert set(sequence) == {200, 429}
        # Setting the seed again at run time starts the same sequence over.
        with contract_client(first.url, auth=BASIC) as client:
            assert set_faults(client, seed=4242).status_code == 200
        assert _statuses(first.url) == sequence


def test_another_seed_gives_another_sequence() -> None:
    with serve(Faults(rate_limit_share=0.5, seed=4242)) as first, \
         serve(Faults(rate_limit_share=0.5, seed=7)) as second:
        assert _statuses(first.url) != _statuses(second.url)


# -- what is never faulted ----------------------------------------------------------------


NEVER_FAULTED = ["/", "/wiki", "/wiki/spaces/DOCS", "/_sandbox/faults", "/_sandbox/stats", "/_sandbox/info",
                 "/_edge/tenant_info"]


@pytest.mark.parametrize("fault", ["rate_limit_share", "unavailable_share", "drop_share", "lost_response_share"])
def test_preview_and_admin_are_never_faulted(sandbox: RunningSandbox, api: httpx.Client, fault: str) -> None:
    assert set_faults(api, **{fault: 1.0}).status_code == 200
    with httpx.Client(base_url=sandbox.url, auth=BASIC, follow_redirects=True) as plain:
        # The fault is on for the API ...
        with pytest.raises(httpx.TransportError) if fault in ("drop_share", "lost_response_share") else _no_error():
            assert plain.get(V2_PATH).status_code != 200
        # ... and off for everything else.
        for path in NEVER_FAULTED:
            response = plain.get(path)
            assert response.status_code == 200, (path, response.status_code)
        assert plain.get("/_sandbox/faults").json()[fault] == 1.0


def test_preview_and_admin_are_never_delayed(sandbox: RunningSandbox, api: httpx.Client) -> None:
    assert set_faults(api, latency_ms=1500).status_code == 200
    with httpx.Client(base_url=sandbox.url, auth=BASIC, follow_redirects=True) as plain:
        started = time.monotonic()
        for path in NEVER_FAULTED:
            assert plain.get(path).status_code == 200
        assert time.monotonic() - started < 1.0


@contextmanager
def _no_error() -> Iterator[None]:
    yield


# -- the admin endpoint for faults --------------------------------------------------------


def test_faults_endpoint_reads_and_changes_settings(api: httpx.Client) -> None:
    current = api.get("/_sandbox/faults")
    assert current.status_code == 200
    assert current.json() == {"latency_ms": 0, "rate_limit_share": 0, "unavailable_share": 0, "drop_share": 0,
                              "lost_response_share": 0, "retry_after": 1, "seed": None, "hold_writes_after": None,
                              "hold_answers_after": None, "fail_answers_after": None,
                              "cloud_sign_in_errors": False}
    changed = set_faults(api, rate_limit_share=1, retry_after=3)
    assert changed.status_code == 200
    assert changed.json()["rate_limit_share"] == 1.0 and changed.json()["retry_after"] == 3
    assert api.get("/_sandbox/faults").json() == changed.json()
    response = api.get(V2_PATH)
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert set_faults(api, rate_limit_share=0).status_code == 200
    assert api.get(V2_PATH).status_code == 200


@pytest.mark.parametrize("changes, named", [
    ({"rate_limit_share": 2}, "rate-limit-share"),
    ({"drop_share": -0.1}, "drop-share"),
    ({"latency_ms": -5}, "latency"),
    ({"retry_after": -1}, "retry-after"),
    ({"hold_writes_after": -1}, "hold-writes-after"),
    ({"bogus": 1}, "bogus"),
    ({"unavailable_share": "often"}, ""),
    ({"rate_limit_share": 0.5, "lost_response_share": 3}, "lost-response-share"),
], ids=["share above 1", "negative share", "negative latency", "negative retry-after", "negative hold", "unknown key",
        "not a number", "one bad value among good ones"])
def test_faults_endpoint_refuses_bad_settings_and_keeps_the_old_ones(api: httpx.Client, changes: dict[str, Any],
                                                                     named: str) -> None:
    before = api.get("/_sandbox/faults").json()
    response = set_faults(api, **changes)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["status"] == 400
    assert named in error["title"]
    assert api.get("/_sandbox/faults").json() == before
    assert api.get(V2_PATH).status_code == 200


def test_faults_endpoint_refuses_a_body_that_is_not_an_object(api: httpx.Client) -> None:
    response = api.put("/_sandbox/faults", content=b"[1, 2]", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_admin_endpoints_need_credentials(sandbox: RunningSandbox, api: httpx.Client) -> None:
    with httpx.Client(base_url=sandbox.url) as anonymous:
        for path in ("/_sandbox/faults", "/_sandbox/stats", "/_sandbox/info"):
            assert anonymous.get(path).status_code == 401, path
        assert anonymous.put("/_sandbox/faults", json={"rate_limit_share": 1}).status_code == 401
        assert anonymous.delete("/_sandbox/stats").status_code == 401
    with httpx.Client(base_url=sandbox.url, auth=(DEFAULT_EMAIL, "wrong")) as wrong:
        assert wrong.put("/_sandbox/faults", json={"rate_limit_share": 1}).status_code == 401
    assert api.get("/_sandbox/faults").json()["rate_limit_share"] == 0
    assert api.get(V2_PATH).status_code == 200


# -- Faults.from_env ----------------------------------------------------------------------


def test_from_env_reads_every_variable() -> None:
    faults = Faults.from_env({
        "MDSYNC_SANDBOX_LATENCY_MS": "25",
        "MDSYNC_SANDBOX_RATE_LIMIT_SHARE": "0.5",
        "MDSYNC_SANDBOX_UNAVAILABLE_SHARE": "0.25",
        "MDSYNC_SANDBOX_DROP_SHARE": "0.125",
        "MDSYNC_SANDBOX_LOST_RESPONSE_SHARE": "0.0625",
        "MDSYNC_SANDBOX_RETRY_AFTER": "9",
        "MDSYNC_SANDBOX_SEED": "77",
        "MDSYNC_SANDBOX_HOLD_WRITES_AFTER": "12",
        "MDSYNC_SANDBOX_HOLD_ANSWERS_AFTER": "3",
        "MDSYNC_SANDBOX_FAIL_ANSWERS_AFTER": "4",
        "MDSYNC_SANDBOX_CLOUD_SIGN_IN_ERRORS": "1",
        "UNRELATED": "x",
    })
    assert faults.as_dict() == {"latency_ms": 25.0, "rate_limit_share": 0.5, "unavailable_share": 0.25,
                                "drop_share": 0.125, "lost_response_share": 0.0625, "retry_after": 9, "seed": 77,
                                "hold_writes_after": 12, "hold_answers_after": 3, "fail_answers_after": 4,
                                "cloud_sign_in_errors": True}
    assert faults.active


def test_from_env_without_variables_is_no_faults() -> None:
    faults = Faults.from_env({"MDSYNC_SANDBOX_RATE_LIMIT_SHARE": ""})
    assert faults.as_dict() == Faults().as_dict()
    assert not faults.active


def test_from_env_explicit_overrides_win_and_none_does_not_override() -> None:
    environ = {"MDSYNC_SANDBOX_RATE_LIMIT_SHARE": "0.5", "MDSYNC_SANDBOX_LATENCY_MS": "30",
               "MDSYNC_SANDBOX_RETRY_AFTER": "5"}
    faults = Faults.from_env(environ, rate_limit_share=0.9, latency_ms=None, retry_after=2)
    assert faults.rate_limit_share == 0.9
    assert faults.latency_ms == 30.0
    assert faults.retry_after == 2


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDSYNC_SANDBOX_UNAVAILABLE_SHARE", "0.75")
    assert Faults.from_env().unavailable_share == 0.75


@pytest.mark.parametrize("name, raw", [
    ("MDSYNC_SANDBOX_LATENCY_MS", "slow"),
    ("MDSYNC_SANDBOX_RATE_LIMIT_SHARE", "half"),
    ("MDSYNC_SANDBOX_RETRY_AFTER", "1.5"),
    ("MDSYNC_SANDBOX_SEED", "abc"),
])
def test_from_env_names_the_variable_that_is_not_a_number(name: str, raw: str) -> None:
    with pytest.raises(UsageError) as caught:
        Faults.from_env({name: raw})
    assert name in caught.value.message
    assert repr(raw) in caught.value.message
    assert caught.value.exit_code == 2


def test_from_env_refuses_a_share_out_of_range() -> None:
    with pytest.raises(UsageError) as caught:
        Faults.from_env({"MDSYNC_SANDBOX_DROP_SHARE": "1.5"})
    assert "drop-share" in caught.value.message


# -- request counters ---------------------------------------------------------------------


def test_stats_count_requests_and_writes_and_reset(sandbox: RunningSandbox, api: httpx.Client) -> None:
    reset = api.delete("/_sandbox/stats")
    assert reset.status_code == 200
    assert reset.json() == {"requests": 0, "writes": 0, "log": []}

    title = f"Counted {uuid.uuid4().hex[:8]}"
    assert api.get(V2_PATH).status_code == 200
    page = api.post("/wiki/api/v2/pages", json=page_payload(sandbox, title)).json()
    update = {"id": page["id"], "status": "current", "title": title, "body": storage("<p>2</p>"),
              "version": {"number": 2}}
    assert api.put(f"/wiki/api/v2/pages/{page['id']}", json=update).status_code == 200
    assert api.get(V1_PATH).status_code == 200
    assert api.delete(f"/wiki/api/v2/pages/{page['id']}").status_code == 204
    assert api.get("/").status_code == 200  # the preview is not the API: not counted

    stats = api.get("/_sandbox/stats").json()
    assert stats["requests"] == 5
    assert stats["writes"] == 3
    assert [(entry["method"], entry["path"], entry["status"]) for entry in stats["log"]] == [
        ("GET", V2_PATH, 200),
        ("POST", "/wiki/api/v2/pages", 200),
        ("PUT", f"/wiki/api/v2/pages/{page['id']}", 200),
        ("GET", V1_PATH, 200),
        ("DELETE", f"/wiki/api/v2/pages/{page['id']}", 204),
    ]

    assert api.delete("/_sandbox/stats").json()["requests"] == 0
    assert api.get("/_sandbox/stats").json() == {"requests": 0, "writes": 0, "log": []}


def test_stats_count_faulted_and_gateway_requests(sandbox: RunningSandbox, api: httpx.Client) -> None:
    assert api.delete("/_sandbox/stats").status_code == 200
    gateway = f"{sandbox.url}/ex/confluence/{sandbox.store.cloud_id}"
    with contract_client(gateway, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}) as client:
        assert client.get(V2_PATH, params={"limit": 5}).status_code == 200
    assert set_faults(api, rate_limit_share=1.0).status_code == 200
    assert api.post("/wiki/api/v2/pages", json=page_payload(sandbox, "never")).status_code == 429
    stats = api.get("/_sandbox/stats").json()
    assert stats["requests"] == 2
    assert stats["writes"] == 1
    first, second = stats["log"]
    assert (first["path"], first["query"], first["gateway"], first["status"]) == (V2_PATH, "limit=5", "atlassian", 200)
    assert (second["method"], second["gateway"], second["status"]) == ("POST", None, 429)


def test_credentials_not_accepted_are_answered_as_cloud_answers_them_when_asked() -> None:
    """Wrong credentials: 401 by default; with cloud_sign_in_errors, Cloud's bare v2 404 and its
    v1 403 "caller cannot access Confluence" (real-confluence.md, section 3)."""
    with serve(Faults.from_env({"MDSYNC_SANDBOX_CLOUD_SIGN_IN_ERRORS": "true"})) as running:
        wrong = (DEFAULT_EMAIL, "not-the-token")
        v2 = httpx.get(running.url + V2_PATH, auth=wrong)
        assert v2.status_code == 404
        assert v2.json() == {"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": None}]}
        v1 = httpx.get(running.url + V1_PATH, auth=wrong)
        assert v1.status_code == 403 and v1.json()["message"] == "caller cannot access Confluence"
        assert httpx.get(running.url + V2_PATH, auth=BASIC).status_code == 200
        running.box.faults.update({"cloud_sign_in_errors": False})
        assert httpx.get(running.url + V2_PATH, auth=wrong).status_code == 401


def test_the_sign_in_setting_takes_only_true_or_false() -> None:
    with pytest.raises(UsageError, match="true or false"):
        Faults.from_env({"MDSYNC_SANDBOX_CLOUD_SIGN_IN_ERRORS": "maybe"})
    with pytest.raises(UsageError, match="true or false"):
        Faults().update({"cloud_sign_in_errors": "perhaps"})
