"""`mdsync watch` end to end: the real CLI (``python -m mdsync watch --json``) against a sandbox.

Each test starts the watcher as a subprocess in a fresh World (see test_sync_scenarios),
reads its JSON lines in a background thread, saves files the way people and editors do
(plain writes, bursts, atomic renames, vim's and JetBrains' swap dances, renames, deletes),
and checks what reached Confluence through the REST API and the sandbox's request log.
A colleague's edits are made through the REST API. The tests wait on the watcher's events
or on Confluence's state with deadlines, never on a fixed sleep where an event can be
awaited (a few short settling pauses check that nothing *more* happens).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.world import (
    MDSYNC,
    V2,
    World,
    pushed,
    replace_text,
    small_tree,
    writes,
)

Event = dict[str, Any]
DEBOUNCE = 0.2
TIMEOUT = 15.0  # generous: a slow 2-core machine, a watcher that starts Python and imports a lot


# -- the watcher as a subprocess ----------------------------------------------------------------------


class Watch:
    """``mdsync watch --json`` running in a World's folder; its events collected as they come."""

    def __init__(self, world: World, *, poll: float = 0, debounce: float = DEBOUNCE,
                 args: tuple[str, ...] = ()) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MDSYNC_")}
        env.update(COLUMNS="250", NO_COLOR="1", PYTHONIOENCODING="utf-8")
        self.args = ["watch", "--json", "--debounce", str(debounce), "--poll", str(poll), *args]
        self.process = subprocess.Popen([*MDSYNC, *self.args], cwd=world.root, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env)
        self.events: list[Event] = []
        self.other_lines: list[str] = []  # stdout lines that are not JSON (there should be none)
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.strip()
            if not line:
                continue
            with self._changed:
                try:
                    self.events.append(json.loads(line))
                except json.JSONDecodeError:
                    self.other_lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)

    # -- reading events --

    def mark(self) -> int:
        """A bookmark: wait_for(after=mark) only looks at events that came later."""
        with self._changed:
            return len(self.events)

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = TIMEOUT, *, after: int = 0,
                 what: str = "a matching event") -> Event:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events[after:]:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._readers[0].is_alive()):
                    raise AssertionError(f"no {what} within {timeout} s (exit code {self.process.poll()});\n"
                                         f"{self.describe()}")
                self._changed.wait(min(left, 0.2))

    def synced(self, trigger: str | None = None, timeout: float = TIMEOUT, *, after: int = 0) -> Event:
        return self.wait_for(lambda event: event["event"] == "synced" and trigger in (None, event.get("trigger")),
                             timeout, after=after, what=f"'synced' event (trigger {trigger})")

    def action(self, kind: str, path: str | None = None, timeout: float = TIMEOUT, *, after: int = 0,
               status: str | None = None) -> Event:
        return self.wait_for(lambda event: event["event"] == "action" and event.get("action") == kind
                             and path in (None, event.get("path")) and status in (None, event.get("status")),
                             timeout, after=after, what=f"'{kind}' action on {path} (status {status})")

    def all(self, kind: str, *, after: int = 0) -> list[Event]:
        with self._changed:
            return [event for event in self.events[after:] if event["event"] == kind]

    def actions(self, *, after: int = 0) -> list[Event]:
        return self.all("action", after=after)

    def describe(self) -> str:
        with self._changed:
            events = "\n".join(json.dumps(event, ensure_ascii=False) for event in self.events)
        return (f"events:\n{events}\nnon-JSON stdout: {self.other_lines}\n"
                f"stderr:\n{''.join(self.stderr)[-4000:]}")

    # -- lifecycle --

    def started(self) -> Watch:
        """Wait for the first run over the whole tree (trigger 'start')."""
        self.synced("start", timeout=30)
        return self

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, as a service manager would; kill if it has not exited within ``timeout``."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise AssertionError(f"watch did not exit within {timeout} s of SIGTERM\n{self.describe()}")
        for reader in self._readers:
            reader.join(5)
        return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        for reader in self._readers:
            reader.join(5)


@pytest.fixture
def watching(world: World) -> Iterator[Callable[..., Watch]]:
    """Start watchers in the world's folder; every one still running at the end is stopped (or killed)."""
    started: list[Watch] = []

    def start(*, poll: float = 0, debounce: float = DEBOUNCE, args: tuple[str, ...] = ()) -> Watch:
        watch = Watch(world, poll=poll, debounce=debounce, args=args)
        started.append(watch)
        return watch.started()

    yield start
    for watch in started:
        if watch.process.poll() is None:
            watch.process.send_signal(signal.SIGTERM)
            try:
                watch.process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        watch.kill()


# -- helpers --------------------------------------------------------------------------------------------


def eventually(check: Callable[[], Any], timeout: float = TIMEOUT, what: str = "the condition") -> Any:
    """Poll ``check`` until it returns something truthy (or its assertion holds)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            result = check()
            if result:
                return result
            last = result
        except AssertionError as error:
            last = error
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not come true within {timeout} s: {last}")
        time.sleep(0.1)


def settle(seconds: float = 1.2) -> None:
    """A short pause to see that nothing *more* happens (several debounce periods and the delete grace)."""
    time.sleep(seconds)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def synced_tree(world: World) -> dict[str, str]:
    """The small tree, pushed: path -> page id. Every page is at version 1."""
    small_tree(world)
    pushed(world)
    return {path: str(entry["page_id"]) for path, entry in world.state().items()}


def titles(world: World, status: str = "current") -> set[str]:
    return {page["title"] for page in world.pages(status)}


def remote_copies(world: World) -> list[str]:
    return sorted(path for path in world.doc_files() if path.endswith(".remote.md"))


INTRO_EDITED = "# Introduction\n\nWelcome to the docs, saved from the editor.\n\nSecond paragraph.\n"
SAME_LINE_THERE = ("Welcome to the docs.", "Welcome to the docs, from Confluence.")  # INTRO_EDITED's line


def assert_one_update(world: World, watch: Watch, page_id: str, text: str, *, after: int = 0) -> None:
    """One update action for intro.md, one new version with ``text``, nothing else done."""
    watch.action("update", "intro.md", after=after, status="done")
    watch.synced("change", after=after)
    assert text in world.body(page_id)
    settle()
    assert world.versions(page_id) == [1, 2], world.versions(page_id)
    actions = watch.actions(after=after)
    assert [(event["action"], event["path"]) for event in actions] == [("update", "intro.md")], watch.describe()
    assert titles(world) == {"DOCS Home", "Introduction", "FAQ", "Guides", "Install", "Upgrade"}
    assert world.pages("trashed") == []
    assert world.page_id("intro.md") == page_id


# -- 1-5. saves, the way editors make them ----------------------------------------------------------------


def test_one_save_makes_one_new_version(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    watch = watching()
    start = watch.mark()
    world.write("intro.md", INTRO_EDITED)
    assert_one_update(world, watch, ids["intro.md"], "Welcome to the docs, saved from the editor.", after=start)
    assert world.version(ids["intro.md"]) == 2
    assert all(world.version(page_id) == 1 for path, page_id in ids.items() if path != "intro.md")


def test_a_burst_of_saves_is_pushed_once_with_the_last_text(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    watch = watching()
    start = watch.mark()
    for number in range(10):
        world.write("intro.md", f"# Introduction\n\nDraft number {number}.\n")
        time.sleep(0.01)
    watch.action("update", "intro.md", after=start, status="done")
    settle(1.5)
    page_id = ids["intro.md"]
    assert "Draft number 9." in world.body(page_id)
    assert world.versions(page_id) == [1, 2], f"the burst made versions {world.versions(page_id)}"
    updates = [event for event in watch.actions(after=start) if event["action"] == "update"]
    assert len(updates) == 1, watch.describe()


@pytest.mark.parametrize("temporary", [".intro.md.tmp123", "intro.md.tmp"])
def test_atomic_rename_save_is_one_update(world: World, watching: Callable[..., Watch], temporary: str) -> None:
    ids = synced_tree(world)
    watch = watching()
    start = watch.mark()
    world.write(temporary, INTRO_EDITED)
    os.replace(world.docs / temporary, world.docs / "intro.md")
    assert_one_update(world, watch, ids["intro.md"], "saved from the editor", after=start)
    assert not any("tmp" in title for title in titles(world))


def test_vim_style_save_with_swap_and_backup_files_is_one_update(world: World,
                                                                 watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    watch = watching()
    start = watch.mark()
    docs = world.docs
    (docs / ".intro.md.swp").write_bytes(b"b0VIM 9.0 swap")
    (docs / "4913").write_bytes(b"")  # vim's check that the folder is writable
    (docs / "4913").unlink()
    os.rename(docs / "intro.md", docs / "intro.md~")  # backupcopy=no: the old file becomes the backup
    world.write("intro.md", INTRO_EDITED)
    (docs / "intro.md~").unlink()
    (docs / ".intro.md.swp").unlink()
    assert_one_update(world, watch, ids["intro.md"], "saved from the editor", after=start)
    assert not {"intro.md~", "4913", ".intro.md", "intro"} & titles(world)


def test_emacs_style_save_with_lock_autosave_and_backup_is_one_update(world: World,
                                                                    watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    watch = watching()
    start = watch.mark()
    docs = world.docs
    os.symlink("someone@host.1234:1700000000", docs / ".#intro.md")  # emacs' lock: a dangling symlink
    (docs / "#intro.md#").write_text("# Introduction\n\nauto-saved draft\n", encoding="utf-8")
    os.rename(docs / "intro.md", docs / "intro.md~")  # the first save keeps a backup
    world.write("intro.md", INTRO_EDITED)
    (docs / "#intro.md#").unlink()
    (docs / ".#intro.md").unlink()
    assert_one_update(world, watch, ids["intro.md"], "saved from the editor", after=start)
    assert not any("#" in title or "~" in title for title in titles(world))


def test_jetbrains_safe_write_is_one_update(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    watch = watching()
    start = watch.mark()
    docs = world.docs
    world.write("intro.md___jb_tmp___", INTRO_EDITED)
    os.rename(docs / "intro.md", docs / "intro.md___jb_old___")
    os.rename(docs / "intro.md___jb_tmp___", docs / "intro.md")
    (docs / "intro.md___jb_old___").unlink()
    assert_one_update(world, watch, ids["intro.md"], "saved from the editor", after=start)
    assert not any("jb_" in title for title in titles(world))


# -- 6-8. new files, renames, deletes ----------------------------------------------------------------------


def test_new_file_in_a_new_folder_creates_the_folder_and_the_page(world: World,
                                                                  watching: Callable[..., Watch]) -> None:
    synced_tree(world)
    watch = watching()
    start = watch.mark()
    world.write("newdir/page.md", "# Brand New Page\n\nWritten while watching.\n")
    watch.action("create", "newdir/page.md", after=start, status="done")
    pages = world.by_title()
    assert "Brand New Page" in pages and "newdir" not in pages, sorted(pages)
    state = world.state()
    folder = world.folder(str(state["newdir/"]["page_id"]))  # a Cloud folder, not an empty page
    assert folder["title"] == "newdir" and str(folder["parentId"]) == world.home_id
    assert str(pages["Brand New Page"]["parentId"]) == folder["id"]
    assert "Written while watching." in world.body(pages["Brand New Page"]["id"])
    assert str(state["newdir/page.md"]["page_id"]) == str(pages["Brand New Page"]["id"])
    settle()
    created = sorted(event["path"] for event in watch.actions(after=start) if event["action"] == "create")
    assert created == ["newdir/", "newdir/page.md"], watch.describe()
    assert len(world.pages()) == 7  # home, five pages and the new page


def test_a_changed_image_is_uploaded_again(world: World, watching: Callable[..., Watch]) -> None:
    world.write("pics.md", "# Pictures\n\n![diagram](img/diagram.png)\n")
    world.write("img/diagram.png", b"\x89PNG first drawing")
    ids = synced_tree(world)
    page_id = ids["pics.md"]
    listing = world.api.get(f"/wiki/api/v2/pages/{page_id}/attachments").json()["results"]
    [before] = [item for item in listing if item["title"] == "diagram.png"]
    watch = watching()
    start = watch.mark()
    world.write("img/diagram.png", b"\x89PNG second drawing")
    watch.action("update", "pics.md", after=start, status="done")
    listing = world.api.get(f"/wiki/api/v2/pages/{page_id}/attachments").json()["results"]
    [after] = [item for item in listing if item["title"] == "diagram.png"]
    assert after["version"]["number"] == before["version"]["number"] + 1
    download = world.api.get(after["downloadLink"] if after["downloadLink"].startswith("/wiki")
                             else "/wiki" + after["downloadLink"])
    assert download.content == b"\x89PNG second drawing"
    assert world.version(page_id) == 1  # the page itself did not change
    watch.stop()
    world.write("img/diagram.png", b"\x89PNG third drawing")
    status = world.run("status", "--check", "--json")
    assert status.code == 4 and status.paths("update") == {"pics.md"}, status


def test_renamed_file_keeps_its_page(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    count = len(world.pages())
    watch = watching()
    start = watch.mark()
    os.rename(world.docs / "intro.md", world.docs / "welcome.md")
    watch.action("rename", "intro.md", after=start, status="done")
    watch.synced("change", after=start)
    settle(1.5)  # past the delete grace of the old name
    state = world.state()
    assert "intro.md" not in state
    assert str(state["welcome.md"]["page_id"]) == ids["intro.md"]
    assert len(world.pages()) == count and world.pages("trashed") == []
    kinds = {event["action"] for event in watch.actions(after=start)}
    assert kinds == {"rename"}, watch.describe()


def test_deleted_file_keeps_its_page_by_default(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    watch = watching()
    start = watch.mark()
    (world.docs / "faq.md").unlink()
    event = watch.action("keep", "faq.md", after=start)
    assert event["status"] == "reported"
    page = world.page(ids["faq.md"])
    assert page["status"] == "current" and page["version"]["number"] == 1
    assert world.pages("trashed") == []


def test_deleted_file_trashes_its_page_with_delete_trash(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    world.configure(sync="  delete: trash\n  max_delete: 100%\n")
    watch = watching()
    start = watch.mark()
    (world.docs / "faq.md").unlink()
    watch.action("trash", "faq.md", after=start, status="done")
    page = world.api.get(f"{V2}/pages/{ids['faq.md']}", params={"status": "trashed"})
    assert page.status_code == 200 and page.json()["status"] == "trashed", page.text
    assert {page["id"] for page in world.pages("trashed")} == {ids["faq.md"]}
    assert "faq.md" not in world.state()


def test_max_delete_given_to_watch_sets_the_limit_of_its_runs(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    world.configure(sync="  delete: trash\n  max_delete: 0\n")  # alone, this stops every trash
    watch = watching(args=("--max-delete", "1"))
    start = watch.mark()
    (world.docs / "faq.md").unlink()
    watch.action("trash", "faq.md", after=start, status="done")
    assert {page["id"] for page in world.pages("trashed")} == {ids["faq.md"]}


# -- 9, 13. colleagues' edits -------------------------------------------------------------------------------


def test_remote_edit_is_pulled_and_not_pushed_back(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    watch = watching(poll=1)
    start = watch.mark()
    world.edit(ids["faq.md"], replace_text("Questions and answers.", "Answers from a colleague."))
    watch.action("pull", "faq.md", after=start, status="done")
    assert world.read("faq.md") == "# FAQ\n\nAnswers from a colleague.\n"
    settle(2.5)  # a couple of polls and debounce periods
    assert world.versions(ids["faq.md"]) == [1, 2]
    assert world.read("faq.md") == "# FAQ\n\nAnswers from a colleague.\n"


def test_own_writes_do_not_trigger_a_push(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    watch = watching(poll=1)
    start = watch.mark()
    world.edit(ids["faq.md"], replace_text("Questions and answers.", "Answers from a colleague."))
    watch.action("pull", "faq.md", after=start, status="done")
    world.reset_stats()
    pulled = watch.mark()
    watch.synced("poll", after=pulled)  # at least one more look at Confluence after the pull
    settle(1.5)
    assert world.stats()["writes"] == 0, writes(world.stats())
    busy = [event for event in watch.all("synced", after=start) if event["trigger"] == "change"]
    assert busy == [], f"mdsync's own pull came back as a change: {busy}"
    assert [event for event in watch.actions(after=pulled)] == []
    assert world.version(ids["faq.md"]) == 2


# -- 10. conflicts -----------------------------------------------------------------------------------------


def test_conflict_while_watching_keeps_both_texts(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    watch = watching(poll=0, debounce=3)
    start = watch.mark()
    world.write("intro.md", INTRO_EDITED)
    world.edit(ids["intro.md"], replace_text(*SAME_LINE_THERE))  # the line edited here: no clean merge
    event = watch.action("conflict", "intro.md", after=start)
    assert event["status"] == "conflict"
    watch.synced("change", after=start)
    assert world.read("intro.md") == INTRO_EDITED
    assert remote_copies(world) == ["intro.remote.md"]
    assert "Welcome to the docs, from Confluence." in world.read("intro.remote.md")
    assert "Second paragraph." in world.read("intro.remote.md")
    body = world.body(ids["intro.md"])
    assert "Welcome to the docs, from Confluence." in body and "saved from the editor" not in body
    assert world.versions(ids["intro.md"]) == [1, 2]
    settle()
    assert not [e for e in watch.actions(after=start) if e["action"] in ("update", "pull", "merge")], \
        watch.describe()
    runs = [event for event in watch.all("synced", after=start) if event["trigger"] == "change"]
    assert len(runs) == 1 and runs[0]["conflicts"] == 1, watch.describe()  # NAME.remote.md caused no run


def test_conflict_is_reported_once_not_at_every_poll(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    world.write("intro.md", INTRO_EDITED)
    world.edit(ids["intro.md"], replace_text(*SAME_LINE_THERE))
    watch = watching(poll=1)
    first = watch.action("conflict", "intro.md")
    assert first["status"] == "conflict"
    after_start = watch.mark()
    for _ in range(3):
        watch.synced("poll", after=watch.mark())
    conflicts = [event for event in watch.actions() if event["action"] == "conflict"]
    assert len(conflicts) == 1, watch.describe()
    assert watch.actions(after=after_start) == []
    assert world.read("intro.md") == INTRO_EDITED
    assert world.versions(ids["intro.md"]) == [1, 2]
    assert "Welcome to the docs, from Confluence." in world.read("intro.remote.md")


def test_edits_to_different_lines_merge_while_watching(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    watch = watching(poll=0, debounce=3)
    start = watch.mark()
    world.write("intro.md", INTRO_EDITED)
    world.edit(ids["intro.md"], replace_text("Second paragraph.", "Second paragraph, from Confluence."))
    event = watch.action("merge", "intro.md", after=start)
    assert event["status"] == "done"
    body = world.body(ids["intro.md"])
    assert "Second paragraph, from Confluence." in body and "saved from the editor" in body
    text = world.read("intro.md")
    assert "Second paragraph, from Confluence." in text and "saved from the editor" in text
    assert remote_copies(world) == []


# -- 11. Confluence unreachable -----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_network_failure_waits_once_then_pushes_when_back(world: World, watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    page_id = ids["intro.md"]
    watch = watching()
    start = watch.mark()
    world.reset_stats()
    world.faults(unavailable_share=1.0)
    try:
        world.write("intro.md", INTRO_EDITED)
        waiting = watch.wait_for(lambda event: event["event"] == "waiting", after=start, what="'waiting' event")
        assert waiting.get("message") and "retry_in" in waiting
        # Let at least two more attempts fail (each is three requests answered 503).
        failed_before = sum(1 for entry in world.stats()["log"] if entry["status"] == 503)
        eventually(lambda: sum(1 for entry in world.stats()["log"] if entry["status"] == 503) >= failed_before + 6,
                   timeout=20, what="two more failed attempts")
        assert len(watch.all("waiting", after=start)) == 1, watch.describe()
        assert not [entry for entry in world.stats()["log"] if entry["status"] < 400], "a request got through"
        assert watch.all("online", after=start) == []
    finally:
        world.faults(unavailable_share=0.0)
    back = watch.mark()
    watch.wait_for(lambda event: event["event"] == "online", timeout=30, after=back, what="'online' event")
    watch.action("update", "intro.md", after=start, status="done", timeout=15)
    assert "saved from the editor" in world.body(page_id)
    settle()
    assert world.versions(page_id) == [1, 2]
    assert len(watch.all("waiting", after=start)) == 1
    assert len(watch.all("online", after=start)) == 1


def test_waiting_for_confluence_sleeps_and_still_answers_sigterm(world: World,
                                                                  watching: Callable[..., Watch]) -> None:
    """Between its retries the watcher sleeps: it uses little CPU, and SIGTERM (no run in flight) stops it at once."""
    synced_tree(world)
    watch = watching()
    start = watch.mark()
    world.reset_stats()

    def failed() -> int:
        return sum(1 for entry in world.stats()["log"] if entry["status"] == 503)

    # Every request fails at once (no Retry-After wait): what remains is the watcher's own backoff
    # (1.4 s, 1.8 s, 2.6 s, 4.2 s... after each failed attempt of three requests).
    world.faults(unavailable_share=1.0, retry_after=0)
    try:
        world.write("intro.md", INTRO_EDITED)
        watch.wait_for(lambda event: event["event"] == "waiting", after=start, what="'waiting' event")
        eventually(lambda: failed() >= 9, timeout=20, what="a third failed attempt")  # then 2.6 s to wait
        wall, cpu = time.monotonic(), cpu_seconds(watch.process.pid)
        time.sleep(1.5)
        used, elapsed = cpu_seconds(watch.process.pid) - cpu, time.monotonic() - wall
        eventually(lambda: failed() >= 12, timeout=20, what="a fourth failed attempt")  # then 4.2 s to wait
        time.sleep(0.3)  # well inside the wait, no run in flight
        asked = time.monotonic()
        watch.process.send_signal(signal.SIGTERM)
        try:
            code: int | None = watch.process.wait(20)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - asked
    finally:
        world.faults(unavailable_share=0.0, retry_after=1)
    wrong = []
    if used >= 0.5 * elapsed:
        wrong.append(f"the watcher used {used:.2f} s of CPU in {elapsed:.2f} s while waiting to retry (a busy loop)")
    if code != 0 or took >= 2.5:
        wrong.append(f"SIGTERM while waiting to retry: exit {code} after {took:.1f} s")
    assert not wrong, "; ".join(wrong)
    watch.wait_for(lambda event: event["event"] == "stopped", timeout=5, what="'stopped' event")


# -- 12. shutdown ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly_and_saves_the_state(world: World, watching: Callable[..., Watch],
                                                  signum: signal.Signals) -> None:
    ids = synced_tree(world)
    watch = watching()
    start = watch.mark()
    world.write("intro.md", INTRO_EDITED)
    watch.action("update", "intro.md", after=start, status="done")
    watch.synced("change", after=start)
    watch.process.send_signal(signum)
    try:
        code = watch.process.wait(15)
    except subprocess.TimeoutExpired:
        code = None
    assert code == 0, f"exit {code} after {signum.name}\n{watch.describe()}"
    watch.stop()  # joins the readers
    assert watch.events[-1]["event"] == "stopped", watch.describe()
    assert watch.other_lines == [], watch.describe()
    state_dir = world.root / ".mdsync"
    entry = world.state()["intro.md"]
    assert entry["md_hash"] == sha256(INTRO_EDITED)
    assert entry["version"] == 2 == world.version(ids["intro.md"])
    assert not (state_dir / "lock").exists()
    assert not (state_dir / "journal.jsonl").exists()


def test_sigterm_during_a_run_finishes_it_first(world: World, watching: Callable[..., Watch]) -> None:
    """SIGTERM while a save is being pushed: the push completes and is recorded, then the watcher exits 0."""
    ids = synced_tree(world)
    watch = watching()
    start = watch.mark()
    world.reset_stats()
    world.faults(latency_ms=600)  # every API request takes 0.6 s: the run is surely still going
    try:
        world.write("intro.md", INTRO_EDITED)
        eventually(lambda: world.stats()["log"], timeout=TIMEOUT, what="the run's first request")
        assert watch.all("synced", after=start) == []
        code = watch.stop(timeout=20)
    finally:
        world.faults(latency_ms=0)
    assert code == 0, watch.describe()
    kinds = [(event["event"], event.get("action"), event.get("status")) for event in watch.events[start:]]
    assert kinds == [("action", "update", "done"), ("synced", None, None), ("stopped", None, None)], \
        watch.describe()
    assert "saved from the editor" in world.body(ids["intro.md"])
    assert world.versions(ids["intro.md"]) == [1, 2]
    entry = world.state()["intro.md"]
    assert entry["md_hash"] == sha256(INTRO_EDITED) and entry["version"] == 2
    assert not (world.root / ".mdsync" / "lock").exists()
    assert not (world.root / ".mdsync" / "journal.jsonl").exists()


# -- 14. broken files ------------------------------------------------------------------------------------------


BROKEN = "---\ntitle: [unclosed\n---\n# Introduction\n\nHalf-typed front matter.\n"


def save_broken_then_another(world: World, watch: Watch, path: str) -> int:
    """Save ``path`` with broken front matter, wait for the report, then save faq.md and wait
    for its push. Returns the event mark from before the broken save."""
    start = watch.mark()
    world.write(path, BROKEN)
    watch.wait_for(lambda event: (event["event"] == "action" and event.get("path") == path
                                  and event.get("status") == "failed") or event["event"] == "problem",
                   after=start, what="the broken file reported")
    watch.synced("change", after=start)
    later = watch.mark()
    world.write("faq.md", "# FAQ\n\nAnswers, saved after the broken file.\n")
    watch.action("update", "faq.md", after=later, status="done")
    return start


def test_broken_file_is_reported_and_later_saves_still_go_through(world: World,
                                                                 watching: Callable[..., Watch]) -> None:
    ids = synced_tree(world)
    watch = watching()
    start = save_broken_then_another(world, watch, "notes.md")
    assert "saved after the broken file" in world.body(ids["faq.md"])
    assert "notes" not in {title.lower() for title in titles(world)}
    settle()
    about_notes = [event for event in watch.actions(after=start) if event.get("path") == "notes.md"]
    assert len(about_notes) <= 1, f"the broken file was reported again at every run: {about_notes}"
    assert watch.process.poll() is None, "the watcher stopped on a broken file"


@pytest.mark.parametrize("delete", ["keep", "trash"])
def test_tracked_file_with_broken_front_matter_is_not_taken_for_a_deleted_one(
        world: World, watching: Callable[..., Watch], delete: str) -> None:
    """Saving a synced file half-edited must not report it deleted, nor (with delete: trash) trash its page."""
    ids = synced_tree(world)
    world.configure(sync=f"  delete: {delete}\n  max_delete: 100%\n")
    watch = watching()
    start = save_broken_then_another(world, watch, "intro.md")
    settle()
    wrong = [event for event in watch.actions(after=start)
             if event.get("path") == "intro.md" and event["action"] in ("trash", "keep", "forget")]
    assert wrong == [], f"a file that is still there was treated as deleted: {wrong}"
    assert world.page(ids["intro.md"])["status"] == "current"
    assert world.pages("trashed") == []
    assert "intro.md" in world.state()
