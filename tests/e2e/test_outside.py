"""Outside stays outside (rule 9): a push reads nothing outside the repository (the folder of
mdsync.yaml) but what ``include_outside`` lists, symbolic links and ``..`` included, and says
which file it refused; nothing a pull is told by Confluence or by the state is written
outside the docs folder.

The real CLI against the sandbox; "outside" is the test's own folder, beside the project.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mdsync.sync.names import safe_file_name
from tests.support.proxies import Rewriting, world_behind
from tests.support.world import World, pushed, small_tree

SECRET = "TOPSECRET-3f9a"  # what the files outside hold: it must never reach Confluence
OUTSIDE_REPOSITORY = "outside the repository"


def outside(world: World) -> Path:
    """The folder that holds the project: outside the repository."""
    return world.root.parent


def put(folder: Path, name: str, data: str | bytes) -> Path:
    file = folder / name
    file.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        file.write_bytes(data)
    else:
        file.write_text(data, encoding="utf-8")
    return file


def everything_published(world: World) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Each page's body and attachment names, by title."""
    pages = world.by_title()
    return ({title: world.body(page["id"]) for title, page in pages.items()},
            {title: world.attachments(page["id"]) for title, page in pages.items()})


def failed(run: Any) -> dict[str, str]:
    return {action["path"]: action["message"] for action in run.actions() if action["status"] == "failed"}


def check_lines(world: World) -> list[str]:
    run = world.run("check")
    assert run.code == 1, run
    assert "Traceback" not in run.stderr, run.stderr
    return run.stdout.splitlines()


def assert_no_secret(world: World) -> None:
    bodies, _ = everything_published(world)
    assert not [title for title, body in bodies.items() if SECRET in body or SECRET in title]


# -- reading: nothing outside the repository ---------------------------------------------------------------------


def test_a_file_linked_to_outside_the_repository_is_refused_by_name_and_the_rest_is_pushed(world: World) -> None:
    secret = put(outside(world), "passwd", f"root:x:0:0:{SECRET}\n")
    os.symlink(secret, world.docs / "passwd.md")
    world.write("ok.md", "# Ok\n\nPublished.\n")
    # A link that stays in the repository keeps working.
    put(world.root, "notes/shared.md", "# Shared\n\nFrom the repository.\n")
    os.symlink(world.root / "notes" / "shared.md", world.docs / "shared.md")
    # And a link that leads nowhere, or round in a loop, is refused by name too (no crash).
    os.symlink(world.root / "gone.md", world.docs / "dangling.md")
    os.symlink(world.docs / "loop-b.md", world.docs / "loop-a.md")
    os.symlink(world.docs / "loop-a.md", world.docs / "loop-b.md")

    run = world.push()

    assert run.code == 1, run
    refused = failed(run)
    assert set(refused) == {"passwd.md", "dangling.md", "loop-a.md", "loop-b.md"}, refused
    assert refused["passwd.md"].startswith(f"passwd.md is a symbolic link to {secret.resolve()}, {OUTSIDE_REPOSITORY}")
    assert "include_outside" in refused["passwd.md"]
    assert "does not exist" in refused["dangling.md"] and "loop" in refused["loop-a.md"]
    assert run.paths("create") >= {"ok.md", "shared.md"}
    bodies, _ = everything_published(world)
    assert "Published." in bodies["Ok"] and "From the repository." in bodies["Shared"]
    assert "passwd" not in bodies
    assert_no_secret(world)

    lines = check_lines(world)
    assert [line for line in lines if line.startswith("passwd.md:")] == [f"passwd.md: {refused['passwd.md']}"]
    assert {line.split(":")[0] for line in lines} == {"passwd.md", "dangling.md", "loop-a.md", "loop-b.md"}


def test_links_and_images_reaching_outside_the_repository_refuse_their_file(world: World) -> None:
    put(outside(world), "secret.txt", SECRET)
    put(outside(world), "outside.pdf", f"%PDF {SECRET}")
    picture = put(outside(world), "photo.png", f"PNG {SECRET}".encode())
    world.write("intro.md", "# Intro\n\nSee below.\n\n![x](../../secret.txt)\n")
    world.write("guides/report.md", "# Report\n\nThe report:\n\n[the pdf](../../../outside.pdf)\n")
    os.symlink(picture, world.docs / "pic.png")
    world.write("pic.md", "# Pic\n\n![a photo](pic.png)\n")
    world.write("ok.md", "# Ok\n\nFine.\n")

    run = world.push()

    assert run.code == 1, run
    refused = failed(run)
    assert set(refused) == {"intro.md", "guides/report.md", "pic.md"}, refused
    assert refused["intro.md"].startswith("intro.md was not published: line 5: image '../../secret.txt' leads "
                                          f"{OUTSIDE_REPOSITORY}")
    assert refused["guides/report.md"].startswith("guides/report.md was not published: line 5: link to "
                                                  f"'../../../outside.pdf' leads {OUTSIDE_REPOSITORY}")
    assert refused["pic.md"].startswith(f"pic.md was not published: line 3: image 'pic.png' leads {OUTSIDE_REPOSITORY}")
    bodies, attachments = everything_published(world)
    assert "Fine." in bodies["Ok"] and not {"Intro", "Report", "Pic"} & set(bodies)
    assert all(not names for names in attachments.values()), attachments  # nothing was uploaded
    assert_no_secret(world)

    lines = check_lines(world)
    assert [line.split(": ", 1)[0] for line in lines] == ["guides/report.md:5", "intro.md:5", "pic.md:3"]
    assert all(f"leads {OUTSIDE_REPOSITORY}" in line for line in lines), lines


def share_assets(world: World) -> Path:
    """mdsync.yaml shares ../shared-assets (beside the project), which holds logo.png; brand.md shows it."""
    logo = put(outside(world), "shared-assets/logo.png", b"PNG shared logo")
    with (world.root / "mdsync.yaml").open("a", encoding="utf-8") as config:
        config.write("include_outside: [../shared-assets]\n")
    world.write("brand.md", "# Brand\n\n![logo](../../shared-assets/logo.png)\n")
    return logo


def test_include_outside_shares_only_what_it_lists_with_its_links_resolved(world: World) -> None:
    logo = share_assets(world)
    key = put(outside(world), "private/key.png", f"PNG {SECRET}".encode())
    os.symlink(key, outside(world) / "shared-assets" / "sneaky.png")  # listed folder, unlisted target
    os.symlink(logo, world.docs / "linked-logo.png")
    world.write("linked.md", "# Linked\n\n![logo](linked-logo.png)\n")
    world.write("leak.md", "# Leak\n\n![key](../../private/key.png)\n")
    world.write("sneaky.md", "# Sneaky\n\n![key](../../shared-assets/sneaky.png)\n")

    run = world.push()

    assert run.code == 1, run
    assert set(failed(run)) == {"leak.md", "sneaky.md"}, run
    _, attachments = everything_published(world)
    assert attachments["Brand"] == {"logo.png"} and attachments["Linked"] == {"linked-logo.png"}
    assert not {"Leak", "Sneaky"} & set(attachments)
    brand = world.by_title()["Brand"]["id"]
    [listed] = world.api.get(f"/wiki/api/v2/pages/{brand}/attachments").json()["results"]
    assert world.api.get(f"/wiki{listed['downloadLink']}").content == b"PNG shared logo"
    assert_no_secret(world)
    lines = check_lines(world)
    assert [line.split(":")[0] for line in lines] == ["leak.md", "sneaky.md"]
    assert all(OUTSIDE_REPOSITORY in line for line in lines), lines


def test_a_linked_folder_is_not_walked_and_one_leading_outside_is_refused(world: World) -> None:
    put(outside(world), "elsewhere/leak.md", f"# Leak\n\n{SECRET}\n")
    os.symlink(outside(world) / "elsewhere", world.docs / "linked")
    world.write("ok.md", "# Ok\n\nFine.\n")
    os.symlink(world.docs, world.docs / "again")  # a loop: the tree inside itself

    run = world.push()

    assert run.code == 1, run
    refused = failed(run)
    assert list(refused) == ["linked/"], refused
    assert refused["linked/"].startswith(f"linked/ is a symbolic link to {(outside(world) / 'elsewhere').resolve()}, "
                                         f"{OUTSIDE_REPOSITORY}")
    assert set(world.by_title()) == {"DOCS Home", "Ok"}  # nothing from the linked folders
    assert_no_secret(world)
    assert [line.split(":")[0] for line in check_lines(world)] == ["linked/"]


# -- writing: nothing outside the docs folder -------------------------------------------------------------------------


@pytest.fixture
def renaming(tmp_path: Path) -> Iterator[tuple[World, dict[str, str]]]:
    """A world whose sandbox names attachments in its v2 listings as a server might (the names
    given: old -> new). Confluence refuses a "/" in a name it is given, but mdsync must not
    trust a name it is told."""
    names: dict[str, str] = {}

    def listing(scope: dict[str, Any]) -> bool:
        return scope["method"] == "GET" and re.search(r"/pages/\d+/attachments$", scope["path"]) is not None

    def renamed(body: bytes) -> bytes:
        data = json.loads(body)
        for item in data.get("results", []):
            item["title"] = names.get(item["title"], item["title"])
        return json.dumps(data).encode("utf-8")

    with world_behind(tmp_path, lambda app: Rewriting(app, listing, renamed)) as (world, _):
        yield world, names


def upload(world: World, page_id: str, name: str, data: bytes, existing: str | None = None) -> str:
    path = f"/wiki/rest/api/content/{page_id}/child/attachment"
    if existing is not None:
        path += f"/{existing.removeprefix('att')}/data"
    response = world.api.post(path, files={"file": (name, data, "image/png")}, data={"minorEdit": "true"},
                              headers={"X-Atlassian-Token": "no-check"})
    assert response.status_code == 200, response.text
    answer = response.json()
    return str((answer["results"][0] if "results" in answer else answer)["id"])


def files_in(folder: Path) -> dict[str, bytes]:
    return {file.relative_to(folder).as_posix(): file.read_bytes() for file in folder.rglob("*") if file.is_file()}


def around(world: World) -> dict[str, bytes]:
    """Every file outside the project, with its bytes."""
    return {path: data for path, data in files_in(outside(world)).items() if not path.startswith("project/")}


def test_hostile_attachment_names_from_confluence_land_as_safe_names_in_the_pages_assets_folder(
        renaming: tuple[World, dict[str, str]]) -> None:
    world, names = renaming
    world.write("intro.md", "# Intro\n\nWelcome.\n")
    pushed(world)
    page = world.page_id("intro.md")
    absolute = str(outside(world) / "abs.png")
    hostile = {"x.png": "../../../x.png", "abs.png": absolute, "win.png": "..\\..\\win.png", "dots": ".."}
    for name in hostile:
        upload(world, page, name, f"bytes of {name}".encode())
    names.update(hostile)
    images = "".join(f'<ac:image><ri:attachment ri:filename="{html.escape(name)}" /></ac:image>'
                     for name in hostile.values())
    world.edit(page, lambda body: body + f"<p>{images}</p>")
    before, beside = set(files_in(world.root)), around(world)

    run = world.pull()

    assert run.code == 0, run
    assert not Path(absolute).exists() and not (outside(world) / "x.png").exists()
    assert not (world.root / "x.png").exists() and not (world.root.parent.parent / "x.png").exists()
    assert around(world) == beside
    assets = files_in(world.docs / "intro.assets")
    assert assets == {safe_file_name(name): f"bytes of {original}".encode() for original, name in hostile.items()}
    assert all("/" not in name and "\\" not in name and not name.startswith(".") for name in assets)
    text = world.read("intro.md")
    assert all(f"](intro.assets/{name})" in text for name in assets), text
    written = set(files_in(world.root)) - before
    assert all(path.startswith(("docs/", ".mdsync/")) for path in written), written


def test_a_linked_folder_is_never_written_through(world: World) -> None:
    small_tree(world)
    pushed(world)
    elsewhere = outside(world) / "elsewhere"
    elsewhere.mkdir()
    (world.docs / "guides").rename(world.root / "guides-moved")
    os.symlink(elsewhere, world.docs / "guides")  # the folder now leads out of the repository
    world.edit(world.page_id("guides/install.md"), lambda body: body.replace("Step one.", "Step one, edited."))

    for command in (world.pull, world.sync):
        run = command()
        assert run.code == 1, run
        assert list(elsewhere.iterdir()) == []  # nothing written through the link
        assert "guides/" in failed(run), run


def test_a_shared_file_changed_in_confluence_is_not_written_back_outside_the_repository(world: World) -> None:
    logo = share_assets(world)
    pushed(world)
    brand = world.page_id("brand.md")
    [listed] = world.api.get(f"/wiki/api/v2/pages/{brand}/attachments").json()["results"]
    upload(world, brand, "logo.png", b"PNG changed in Confluence", existing=listed["id"])
    world.edit(brand, lambda body: body + "<p>Edited.</p>")

    run = world.pull()

    assert run.code == 0, run
    [pulled] = run.actions("pull")
    assert pulled["message"] == "file updated from Confluence (not written, as they would land outside the docs " \
                                "folder: 'logo.png')", pulled
    assert logo.read_bytes() == b"PNG shared logo"
    assert "Edited." in world.read("brand.md") and "](../../shared-assets/logo.png)" in world.read("brand.md")


@pytest.mark.parametrize("entry", ["../../X.md", "{outside}/X.md", "C:/X.md", "guides/../../X.md"])
def test_a_state_entry_outside_the_docs_folder_stops_the_run_in_one_sentence(world: World, entry: str) -> None:
    entry = entry.format(outside=outside(world))
    small_tree(world)
    pushed(world)
    state_file = world.root / ".mdsync" / "state.json"
    data = json.loads(state_file.read_text(encoding="utf-8"))
    data["files"][entry] = data["files"].pop("intro.md")
    state_file.write_text(json.dumps(data, indent=2), encoding="utf-8")
    world.edit(data["files"][entry]["page_id"], lambda body: body.replace("Welcome", "Hello"))
    before = around(world)

    for command in ("pull", "sync", "push"):
        run = world.run(command)
        assert run.code == 1, run
        said = " ".join(line for line in (run.stderr + run.stdout).splitlines() if line.strip())
        assert said == f"error: `.mdsync/state.json` has a file entry `{entry}` that leads outside the docs " \
                       "folder; run `mdsync sync --resync` to rebuild it (the broken file is kept).", said
        assert around(world) == before
    assert not (outside(world) / "X.remote.md").exists()
    # --resync moves the broken state aside and rebuilds it: Confluence's edit waits beside the file.
    rebuilt = world.sync("--resync")
    assert rebuilt.code == 3 and rebuilt.paths("conflict") == {"intro.md"}, rebuilt
    assert world.exists("intro.remote.md") and around(world) == before
