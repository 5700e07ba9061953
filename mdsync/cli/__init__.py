"""The mdsync command line: one click group, one module per command.

Errors are MdsyncError subclasses: the CLI prints their one-sentence message and exits
with their code (0 ok, 1 failure, 2 usage or config, 3 conflicts, 4 differences). A
traceback is shown only with ``-v``. A command's module is imported only when that command
runs (or help lists it), so ``mdsync push`` never loads the sandbox, nor ``mdsync check``
the HTTP client.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from typing import Any

import click

from mdsync import __version__
from mdsync.cli.common import JSON_ERRORS
from mdsync.errors import MdsyncError
from mdsync.vocabulary import ExitCode

# Every command, each the function of the same name in mdsync/cli/<name>.py.
COMMANDS = ("check", "convert", "demo", "init", "pull", "push", "resolve", "sandbox", "status", "sync", "watch")


class MdsyncGroup(click.Group):
    """Loads a command when it is asked for; turns MdsyncError into its message and exit code
    instead of a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        command: click.Command = getattr(import_module(f"mdsync.cli.{name}"), name)
        if command.short_help is None and command.help:
            # click would cut a long first sentence with "..." in the list of commands.
            command.short_help = first_sentence(command.help)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MdsyncError as error:
            _fail(ctx, error.message, error.exit_code, error)
        except KeyboardInterrupt:
            from mdsync.cli.output import console

            console(stderr=True).print("Interrupted.")
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:  # a bug: say so plainly, show details only with -v
            _fail(ctx, f"mdsync stopped on an unexpected error ({type(error).__name__}). "
                       "Run again with -v for details and report it.", ExitCode.FAILURE, error)


def first_sentence(text: str) -> str:
    """The first sentence of a docstring, on one line and whole."""
    words = " ".join(text.split("\n\n")[0].split())
    head, dot, _ = words.partition(". ")
    return head + "." if dot else words


def _fail(ctx: click.Context, message: str, code: int, error: BaseException) -> None:
    from mdsync.cli.output import console, styled, to_json

    errors = console(stderr=True)
    if ctx.find_root().params.get("verbose"):
        errors.print_exception(show_locals=False)
    errors.print(styled("error:", "bold red", message), soft_wrap=True)  # messages quote names and Confluence
    if ctx.meta.get(JSON_ERRORS):
        # A tool reading stdout still gets its one document, saying what went wrong.
        click.echo(to_json({"error": message, "exit_code": int(code)}, indent=None))
    ctx.exit(int(code))


@click.group(cls=MdsyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="mdsync")
@click.option("-v", "--verbose", is_flag=True, help="Show details (and tracebacks on errors).")
def cli(verbose: bool) -> None:
    """Keep a folder of Markdown files and a Confluence page tree in step."""


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else None, prog_name="mdsync")


__all__ = ["cli", "main"]
