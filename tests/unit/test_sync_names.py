"""File names for pages made in Confluence: docs-as-code slugs by default (``colleague-faq``),
titles under ``pull.filenames: title``; a name the docs folder would read as something else
(an index file, a conflict copy, an attachment folder) gets the page id, as a taken one does;
an attachment's name becomes a safe file name; a path from Confluence or the state is written
only inside the docs root."""

from __future__ import annotations

import re

import pytest

from mdsync.docs import scan
from mdsync.sync.names import (
    OutsideDocs,
    docs_file,
    inside,
    read_otherwise,
    safe_file_name,
    slug_stem,
    unique_path,
)
from mdsync.sync.plan import Options, Remote, plan
from mdsync.vocabulary import FileNames

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


@pytest.mark.parametrize(("style", "expected"), [
    (FileNames.TITLE, {"1": "index-1.md", "2": "Notes.remote-2.md", "3": "Pics.assets-3.md",
                       "4": "Pics.assets-3/Child.md", "5": "README-5.md"}),
    # A slug has no dot, so only index and README are read otherwise.
    (FileNames.SLUG, {"1": "index-1.md", "2": "notes-remote.md", "3": "pics-assets.md",
                      "4": "pics-assets/child.md", "5": "readme-5.md"})])
def test_pages_with_such_titles_pull_to_files_the_scan_reads_back_as_the_same_pages(
        tmp_path, style: FileNames, expected: dict[str, str]) -> None:
    remote = {"1": Remote("1", "index", ROOT, 1), "2": Remote("2", "Notes.remote", ROOT, 1),
              "3": Remote("3", "Pics.assets", ROOT, 1), "4": Remote("4", "Child", "3", 1),
              "5": Remote("5", "README", ROOT, 1)}
    result = plan({}, remote, {}, root_id=ROOT, options=Options(filenames=style))
    paths = {action.page_id: action.path for action in result.of("new_file")}
    assert paths == expected
    for path in paths.values():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x\n")
    docs = scan(tmp_path)
    assert set(docs) == set(paths.values())  # none skipped
    assert docs[expected["4"]].parent == expected["3"]
    assert docs["index-1.md"].parent is None and docs[expected["5"]].parent is None  # pages of their own


# -- slugs: pulled file names as docs-as-code repositories name them ----------------------------------------


@pytest.mark.parametrize(("title", "stem"), [
    ("Colleague FAQ", "colleague-faq"),
    ("Руководство по API", "руководство-по-api"),
    ("日本語ページ", "日本語ページ"),
    ("हिन्दी पृष्ठ", "हिन्दी-पृष्ठ"),  # the vowel signs and the virama stay with their letters
    ("  Release 1.2 — what's new?! ", "release-1-2-what-s-new"),
    ("snake_case/and\\slashes", "snake-case-and-slashes"),
    ("Café crème", "café-crème"),
    ("Tab\tand\nnewline\x00", "tab-and-newline"),
    ("???", "42"), ("---", "42"), ("", "42"),  # nothing left: the page id
    ("CON", "con-page"), ("Lpt1", "lpt1-page"),  # Windows' reserved names
])
def test_a_title_slugs_to_lower_case_words_joined_by_hyphens(title: str, stem: str) -> None:
    assert slug_stem(title, empty="42") == stem


def test_a_long_title_slugs_to_at_most_120_characters_without_a_trailing_hyphen() -> None:
    stem = slug_stem("word " * 60, empty="42")
    assert len(stem) <= 120 and not stem.endswith("-") and stem.startswith("word-word")


def test_titles_that_slug_alike_get_the_page_id_and_the_default_is_the_slug() -> None:
    remote = {"1": Remote("1", "A b", ROOT, 1), "2": Remote("2", "a-b", ROOT, 1), "3": Remote("3", "???", ROOT, 1),
              "4": Remote("4", "Team Docs", ROOT, 1, kind="folder"), "5": Remote("5", "Colleague FAQ", "4", 1)}
    paths = {action.page_id: action.path
             for action in plan({}, remote, {}, root_id=ROOT, options=Options()).of("new_file")}
    assert sorted(paths[page] for page in "12") == ["a-b-2.md", "a-b.md"]
    assert (paths["3"], paths["4"], paths["5"]) == ("3.md", "team-docs/", "team-docs/colleague-faq.md")
    titled = {action.page_id: action.path for action in
              plan({}, remote, {}, root_id=ROOT, options=Options(filenames=FileNames.TITLE)).of("new_file")}
    assert (titled["1"], titled["2"], titled["4"], titled["5"]) == \
        ("A b.md", "a-b.md", "Team Docs/", "Team Docs/Colleague FAQ.md")


# -- what comes from Confluence or the state never lands outside the docs root ------------------------------


@pytest.mark.parametrize("name", ["../../../x.png", "/tmp/x.png", "C:\\evil\\x.png", "..\\..\\x.png", "a/b/x.png"])
def test_an_attachment_name_with_folders_in_it_keeps_only_its_last_part_and_a_stable_suffix(name: str) -> None:
    safe = safe_file_name(name)
    assert re.fullmatch(r"x-[0-9a-f]{8}\.png", safe), safe
    assert safe == safe_file_name(name) and safe != safe_file_name(name + " ")  # stable, and one name per name


@pytest.mark.parametrize(("name", "expected"), [("..", r"file-[0-9a-f]{8}"), (".", r"file-[0-9a-f]{8}"),
                                                ("CON.txt", r"CON-page-[0-9a-f]{8}\.txt"),
                                                ("a:b?.png", r"a-b-[0-9a-f]{8}\.png"),
                                                (".hidden", r"hidden-[0-9a-f]{8}")])
def test_an_attachment_name_the_file_system_would_misread_is_made_safe(name: str, expected: str) -> None:
    assert re.fullmatch(expected, safe_file_name(name)), safe_file_name(name)


@pytest.mark.parametrize("name", ["diagram.png", "Screen Shot 2024-01-01 at 10.00.00.png", "café.png",
                                  "report.tar.gz", "Überblick (final).pdf"])
def test_an_ordinary_attachment_name_is_kept_as_it_is(name: str) -> None:
    assert safe_file_name(name) == name


@pytest.mark.parametrize("path", ["../X.md", "../../X.md", "guides/../../X.md", "/etc/X.md", "\\X.md", "C:X.md",
                                  "c:/X.md", "guides\\..\\..\\X.md", "a\x00.md", "", ".", "guides/.."])
def test_a_path_that_leads_out_of_the_docs_root_is_not_inside(path: str) -> None:
    assert not inside(path)


@pytest.mark.parametrize("path", ["intro.md", "guides/install.md", "guides/", "a/../b.md", "notes..md", "..x.md"])
def test_a_path_in_the_docs_root_is_inside(path: str) -> None:
    assert inside(path)


def test_no_write_goes_through_a_linked_folder_that_leads_out(tmp_path) -> None:
    docs, elsewhere = tmp_path / "docs", tmp_path / "elsewhere"
    (docs / "guides").mkdir(parents=True)
    elsewhere.mkdir()
    (docs / "linked").symlink_to(elsewhere)
    (docs / "inner").symlink_to(docs / "guides")
    assert docs_file(docs, "guides/install.md") == docs / "guides" / "install.md"
    assert docs_file(docs, "inner/install.md") == docs / "inner" / "install.md"  # a link that stays inside
    for path in ("linked/x.md", "../elsewhere/x.md", "linked"):
        with pytest.raises(OutsideDocs, match="outside the docs folder"):
            docs_file(docs, path)
