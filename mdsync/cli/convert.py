"""`mdsync convert`: one file, offline, either direction."""

from __future__ import annotations

from pathlib import Path

import click

from mdsync.errors import UsageError


MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
STORAGE_SUFFIXES = (".xml", ".html", ".htm", ".xhtml", ".storage")


def direction(file: Path, text: str, asked: str | None) -> str:
    """The direction the file's form calls for (its suffix, else whether it reads as markup);
    asked for the other way, the mistake is named rather than the file mangled."""
    suffix = file.suffix.lower()
    form = "markdown" if suffix in MARKDOWN_SUFFIXES else "storage" if suffix in STORAGE_SUFFIXES else \
        "storage" if text.lstrip().startswith("<") else "markdown"
    natural = "storage" if form == "markdown" else "markdown"
    if asked is not None and asked != natural:
        what = "Markdown" if form == "markdown" else "Confluence storage"
        raise UsageError(f"{file} is {what}, so it converts to {natural}, not {asked}: leave out --to (the "
                         "direction follows the file).")
    return natural


@click.command(short_help="Convert one file: Markdown to storage, or back.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", "target", type=click.Choice(["storage", "markdown"]), default=None,
              help="storage: a Markdown file to Confluence storage; markdown: a storage file back to Markdown "
                   "(default: the other form than the file's: .md becomes storage, .xml/.html Markdown).")
@click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Docs folder that relative links resolve in (default: the file's folder).")
@click.option("--json", "as_json", is_flag=True, help="Print title, labels, attachments, links and warnings too.")
def convert(file: Path, target: str | None, root: Path | None, as_json: bool) -> None:
    """Convert one file offline (no credentials): Markdown to storage, or storage to Markdown."""
    from mdsync.cli.output import console, styled, to_json
    from mdsync.convert import convert_markdown, convert_storage
    from mdsync.docs import InputError, folder_links, read_markdown, scan

    target = direction(file, read_markdown(file, str(file)), target)

    if target == "markdown":
        from mdsync.storage.xhtml import StorageParseError

        try:
            back = convert_storage(read_markdown(file, str(file)))
        except StorageParseError as error:
            raise InputError(f"{file} is not valid Confluence storage format: {error}.") from None
        if as_json:
            click.echo(to_json({"file": str(file), "markdown": back.markdown, "attachments": list(back.attachments),
                                "links": [{"title": title, "space": space} for title, space in back.links],
                                "carried": list(back.carried), "losses": list(back.losses)}))
        else:
            click.echo(back.markdown, nl=False)  # the document asked for, as it is (as cat would show it)
        return

    root = (root or file.parent).resolve()
    absolute = file.resolve()
    if not absolute.is_relative_to(root):
        raise UsageError(f"{file} is not inside the docs folder {root}: pass --root with a folder that holds it.")
    relative = absolute.relative_to(root).as_posix()
    links = folder_links(root, scan(root))
    converted = convert_markdown(read_markdown(absolute, str(file)), path=relative, resolve_link=links.link,
                                 resolve_image=links.image)
    if as_json:
        report = {
            "file": relative, "title": converted.title, "labels": list(converted.labels),
            "storage": converted.storage,
            "attachments": [{"path": ref.path, "filename": ref.filename} for ref in converted.attachments],
            "links": list(converted.links), "warnings": [str(warning) for warning in converted.warnings],
        }
        click.echo(to_json(report))
        return
    click.echo(converted.storage)
    errors = console(stderr=True, soft_wrap=True)
    for warning in converted.warnings:
        errors.print(styled("warning:", "yellow", f"{relative}: {warning}"))
