"""`mdsync sandbox serve`: a local Confluence to try mdsync against."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from mdsync.errors import UsageError

INSTALL_EXTRA = "pip install 'mdsync[sandbox]'"


@contextmanager
def sandbox_extra(command: str) -> Iterator[None]:
    """Around the imports of the sandbox: a package of the sandbox extra that is not installed
    (a wheel installed without ``[sandbox]``) is one sentence naming the install command."""
    try:
        yield
    except ModuleNotFoundError as error:
        if (error.name or "mdsync").partition(".")[0] == "mdsync":
            raise  # a module of mdsync's own is missing: a broken install, not a missing extra
        raise UsageError(f"mdsync {command} needs the sandbox extra, which is not installed ({error.name} is "
                         f"missing): run {INSTALL_EXTRA} and try again.") from None


@click.group(short_help="A local Confluence Cloud, for demos and tests.")
def sandbox() -> None:
    """A local server that behaves like Confluence Cloud (for demos, tests and previews)."""


def _share(name: str, what: str) -> Any:
    return click.option(f"--{name}-share", f"{name.replace('-', '_')}_share", type=float, default=None,
                        metavar="F", help=f"Share of API requests (0..1) that {what}.")


@sandbox.command("serve", short_help="Serve the sandbox until Ctrl-C.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8090, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="SQLite file that keeps the data between runs (default: in memory).")
@click.option("--space", "spaces", multiple=True, metavar="KEY",
              help="Create this space if missing (repeatable; default DOCS).")
@click.option("--email", default=None, help="The email the sandbox accepts (Basic auth).")
@click.option("--token", default=None, help="The API token the sandbox accepts (Basic or Bearer).")
@click.option("--latency", "latency_ms", type=float, default=None, metavar="MS", help="Delay added to every API request.")
@_share("rate-limit", "get 429 with Retry-After")
@_share("unavailable", "get 503 with Retry-After")
@_share("drop", "lose their connection before being handled")
@_share("lost-response", "are handled but lose their response")
@click.option("--retry-after", type=int, default=None, metavar="S", help="Retry-After seconds sent with 429 and 503.")
@click.option("--fault-seed", type=int, default=None, metavar="N", help="Seed that makes injected faults repeatable.")
@click.option("--real-auth-errors", is_flag=True,
              help="Refuse wrong credentials as Cloud does: a bare 404 from v2, a v1 403 'caller cannot access "
                   "Confluence' (default: 401).")
@click.option("--maton-rps", type=float, default=10.0, show_default=True,
              help="Requests per second the Maton gateway form allows (0 = no limit).")
def sandbox_serve(host: str, port: int, db_path: str | None, spaces: tuple[str, ...], email: str | None,
                  token: str | None, latency_ms: float | None, rate_limit_share: float | None,
                  unavailable_share: float | None, drop_share: float | None, lost_response_share: float | None,
                  retry_after: int | None, fault_seed: int | None, real_auth_errors: bool, maton_rps: float) -> None:
    """Serve the sandbox until Ctrl-C. Faults can also be set with MDSYNC_SANDBOX_* variables."""
    from mdsync.cli import output

    with sandbox_extra("sandbox serve"):
        from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
        from mdsync.sandbox.faults import Faults
        from mdsync.sandbox.server import serve_forever
        from mdsync.sandbox.store import ApiError, Store

    faults = Faults.from_env(latency_ms=latency_ms, rate_limit_share=rate_limit_share,
                             unavailable_share=unavailable_share, drop_share=drop_share,
                             lost_response_share=lost_response_share, retry_after=retry_after, seed=fault_seed,
                             cloud_sign_in_errors=True if real_auth_errors else None)
    try:
        store = Store(db_path) if db_path else Store()
        box = create_sandbox(store, email=email or DEFAULT_EMAIL, token=token or DEFAULT_TOKEN, faults=faults,
                             spaces=spaces or ("DOCS",), maton_per_second=maton_rps)
    except ApiError as error:
        raise UsageError(f"The sandbox could not create its spaces: {error.title}") from None
    except sqlite3.Error as error:
        raise UsageError(f"The sandbox database {db_path} cannot be used ({error}); pass another --db file.") from None
    console = output.console(soft_wrap=True)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}"
    console.print(output.styled("mdsync sandbox", "bold", f"on {url}  (preview: {url}/)"))
    console.print(f"  site URL for mdsync.yaml: {url}    cloud id: {store.cloud_id}")
    console.print(f"  spaces: {', '.join(space.key for space in store.spaces())}")
    console.print(f"  email: {box.credentials.email}")
    # The default token is public knowledge; a token the user chose is never echoed.
    console.print(f"  token: {DEFAULT_TOKEN if token is None else '(the one given with --token)'}")
    if faults.active:
        console.print(f"  faults: {faults.as_dict()}")
    console.print("Press Ctrl-C to stop.")
    serve_forever(box, host, port)
