"""The page writes a run sent and has not yet recorded: ``.mdsync/sending.jsonl``.

A run killed between a create and its record, or told 500 by a server that made the page all
the same, leaves a page that no state entry names. Confluence's v2 create takes no version
message, so nothing on the page says which file it came from; this file does. One line is
written before each create or update: the file, the title and parent the page was given, a
hash of the body sent, and for an update the page and the version it makes. The next run
adopts a page found under that title and parent holding that body as the file's page, and
takes a page at that version holding that body as mdsync's own write, not a colleague's edit,
even if the file changed since (the newer edit is then pushed, with no false conflict).

Lines are flushed, not fsynced: a kill loses nothing the operating system holds, and a power
cut loses only this hint (an unchanged file is still adopted by its body). A line that does
not read is passed over: the file is a hint, never trusted over what Confluence answers.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mdsync.sync.state import FileState

NAME = "sending.jsonl"


@dataclass(frozen=True)
class Sent:
    """One create or update sent for ``path``: what the page was given."""

    path: str
    title: str
    parent_id: str | None
    kind: str
    storage_hash: str  # storage_digest of the body sent
    md_hash: str | None  # the file as it was when the write was sent
    page_id: str | None = None  # an update's page (None: a create)
    version: int | None = None  # the version an update makes

    def settled_by(self, entry: FileState | None) -> bool:
        """Whether the state's entry for the file records this write (or a later one)."""
        if self.page_id is None:
            return entry is not None
        return entry is not None and entry.page_id == self.page_id and entry.version >= (self.version or 0)


class Sending:
    """The writes sent and not yet recorded, by path, in the order they were sent (a run may
    create a page and be killed, the next adopt and update it and be killed too)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / NAME
        self.pending: dict[str, list[Sent]] = {}
        self._handle: BinaryIO | None = None
        self._lock = threading.Lock()  # creates are noted from the event loop and the writer thread

    @classmethod
    def load(cls, directory: Path) -> Sending:
        sending = cls(directory)
        try:
            lines = sending.path.read_bytes().splitlines()
        except OSError:
            return sending  # none (or unreadable: then there is no hint to go on)
        for line in lines:
            sent = _read(line)
            if sent is not None:  # else torn by a kill, or damaged: only a hint is lost
                sending.pending.setdefault(sent.path, []).append(sent)
        return sending

    def note(self, sent: Sent) -> None:
        """Before the write is sent: a kill from here on leaves a page this line names."""
        line = (json.dumps(vars(sent), sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = open(self.path, "ab")  # noqa: SIM115 - kept open for the run
            self._handle.write(line)
            self._handle.flush()
            self.pending.setdefault(sent.path, []).append(sent)

    def save(self, files: Mapping[str, FileState]) -> None:
        """At the end of a run: keep the lines of the writes the state does not record."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
            kept = {path: [sent for sent in notes if not sent.settled_by(files.get(path))]
                    for path, notes in self.pending.items()}
            self.pending = {path: notes for path, notes in kept.items() if notes}
            if not self.pending:
                self.path.unlink(missing_ok=True)
                return
            text = "".join(json.dumps(vars(sent), sort_keys=True, ensure_ascii=False) + "\n"
                           for notes in self.pending.values() for sent in notes)
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, self.path)


def _read(line: bytes) -> Sent | None:
    try:
        sent = Sent(**json.loads(line))
    except (ValueError, TypeError):
        return None
    texts = (sent.path, sent.title, sent.kind, sent.storage_hash)
    maybe = (sent.parent_id, sent.md_hash, sent.page_id)
    if all(isinstance(value, str) for value in texts) and all(value is None or isinstance(value, str)
                                                               for value in maybe) \
            and (sent.version is None or type(sent.version) is int):
        return sent
    return None
