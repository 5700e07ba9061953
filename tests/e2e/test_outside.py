"""Outside stays outside (rule 9): a push reads nothing outside the repository (the folder of
mdsync.yaml) but what ``include_outside`` lists, symbolic links and ``..`` included, and says
which file it refused.

The real CLI against the sandbox; "outside" is the test's own folder, beside the project.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.support.world import World

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
    assert [line for line in lines if line.startswith("passwd.md:")] == [
        f"passwd.md:1: {refused['passwd.md']}"]
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
