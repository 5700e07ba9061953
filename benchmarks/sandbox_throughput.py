"""How fast the sandbox answers over loopback: the floor under every end-to-end benchmark.

Creates N pages (one request each), lists them with storage bodies (250 per request),
reads each once and updates each once, through a real uvicorn server on a free port.
Prints requests per second and latency percentiles for each kind of request.

    .venv/bin/python benchmarks/sandbox_throughput.py [--pages 500] [--concurrency 8] [--latency 0]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.faults import Faults
from mdsync.sandbox.server import BackgroundServer

BODY = "<h2>Section</h2><p>Some <strong>text</strong> with a <code>code</code> span.</p>" * 20


async def timed(samples: list[float], call: "asyncio.Future[httpx.Response]") -> httpx.Response:
    start = time.perf_counter()
    response = await call
    samples.append(time.perf_counter() - start)
    response.raise_for_status()
    return response


def report(name: str, samples: list[float], wall: float) -> None:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2] * 1000
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000
    print(f"{name:<28} {len(samples):>6} requests  {len(samples) / wall:>8.0f} req/s  "
          f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  mean {statistics.mean(samples) * 1000:6.1f} ms")


async def run(url: str, pages: int, concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), limits=limits,
                                 timeout=60) as client:
        space = (await client.get("/wiki/api/v2/spaces", params={"keys": "DOCS"})).json()["results"][0]
        gate = asyncio.Semaphore(concurrency)

        async def bounded(samples: list[float], request: "asyncio.Future[httpx.Response]") -> httpx.Response:
            async with gate:
                return await timed(samples, request)

        created: list[dict] = []
        samples: list[float] = []
        start = time.perf_counter()
        responses = await asyncio.gather(*[bounded(samples, client.post("/wiki/api/v2/pages", json={
            "spaceId": space["id"], "title": f"Page {n}", "body": {"representation": "storage", "value": BODY}}))
            for n in range(pages)])
        report("create page", samples, time.perf_counter() - start)
        created = [response.json() for response in responses]

        samples = []
        start = time.perf_counter()
        next_url: str | None = "/wiki/api/v2/pages"
        params: dict | None = {"space-id": space["id"], "limit": 250, "body-format": "storage"}
        listed = 0
        while next_url:
            response = await timed(samples, client.get(next_url, params=params))
            listed += len(response.json()["results"])
            next_url, params = response.json()["_links"].get("next"), None
        report(f"list 250/page ({listed} pages)", samples, time.perf_counter() - start)

        samples = []
        start = time.perf_counter()
        await asyncio.gather(*[bounded(samples, client.get(f"/wiki/api/v2/pages/{page['id']}",
                                                           params={"body-format": "storage"})) for page in created])
        report("get page with body", samples, time.perf_counter() - start)

        samples = []
        start = time.perf_counter()
        await asyncio.gather(*[bounded(samples, client.put(f"/wiki/api/v2/pages/{page['id']}", json={
            "id": page["id"], "status": "current", "title": page["title"],
            "body": {"representation": "storage", "value": BODY + "<p>edited</p>"}, "version": {"number": 2}}))
            for page in created])
        report("update page (version + 1)", samples, time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.0, help="ms added to every request")
    args = parser.parse_args()
    with BackgroundServer(create_sandbox(faults=Faults(latency_ms=args.latency))) as server:
        print(f"sandbox at {server.url}: {args.pages} pages, concurrency {args.concurrency}, "
              f"latency {args.latency:g} ms")
        asyncio.run(run(server.url, args.pages, args.concurrency))


if __name__ == "__main__":
    main()
