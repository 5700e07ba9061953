"""File names for pages made in Confluence: a name the docs folder would read as something
else (an index file, a conflict copy, an attachment folder) gets the page id, as a taken one does."""

from __future__ import annotations

import pytest

from mdsync.docs import scan
from mdsync.sync.names import read_otherwise, unique_path
from mdsync.sync.plan import Options, Remote, plan

ROOT = "100"


@pytest.mark.parametrize("title", ["index", "README", "readme", "Index", "Notes.remote", "Pics.assets",
                                   "pics.ASSETS"])
def test_a_name_the_docs_folder_reads_otherwise_gets_the_page_id(title: str) -> None:
    assert read_otherwise(title, ".md")
    assert unique_path("guides", title, ".md", set(), "42") == f"guides/{title}-42.md"


def test_ordinary_names_and_folders_keep_their_names() -> None:
    assert unique_path("", "Release notes", ".md", set(), "42") == "Release notes.md"
    assert unique_path("", "index", "/", set(), "42") == "index/"  # a directory may be called index
    assert unique_path("", "Pics.assets", "/", set(), "42") == "Pics.assets-42/"  # the scan skips *.assets/
    assert not read_otherwise("Indexing", ".md") and not read_otherwise("remote", ".md")


def test_pages_with_such_titles_pull_to_files_the_scan_reads_back_as_the_same_pages(tmp_path) -> None:
    remote = {"1": Remote("1", "index", ROOT, 1), "2": Remote("2", "Notes.remote", ROOT, 1),
              "3": Remote("3", "Pics.assets", ROOT, 1), "4": Remote("4", "Child", "3", 1)}
    result = plan({}, remote, {}, root_id=ROOT, options=Options())
    paths = {action.page_id: action.path for action in result.of("new_file")}
    assert paths == {"1": "index-1.md", "2": "Notes.remote-2.md", "3": "Pics.assets-3.md",
                     "4": "Pics.assets-3/Child.md"}
    for path in paths.values():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x\n")
    docs = scan(tmp_path)
    assert set(docs) == set(paths.values())  # none skipped
    assert docs["Pics.assets-3/Child.md"].parent == "Pics.assets-3.md"
    assert docs["index-1.md"].parent is None  # a page of its own, not the tree's index
