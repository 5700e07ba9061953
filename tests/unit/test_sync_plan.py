"""The planner alone: (local tree, remote tree, state) in, actions out, no I/O."""

from __future__ import annotations

from dataclasses import replace

from mdsync.sync.moves import folder_moves
from mdsync.sync.plan import Local, Options, Remote, plan, resync_matches
from mdsync.sync.state import FileState
from mdsync.vocabulary import Change
from tests.support.counting import lines_run

ROOT = "100"


def synced(path: str, page_id: str, title: str, parent_id: str = ROOT, version: int = 1) -> FileState:
    return FileState(page_id=page_id, title=title, parent_id=parent_id, version=version, md_hash="h-" + path,
                     storage_hash="s")


def here(path: str, title: str, parent: str | None = None, md_hash: str | None = None) -> Local:
    return Local(path, parent, md_hash if md_hash is not None else "h-" + path, title)


def kinds(result: object) -> dict[str, str]:
    return {action.path: action.kind for action in result.actions}  # type: ignore[attr-defined]


def test_in_step_files_are_noops() -> None:
    state = {"a.md": synced("a.md", "1", "A")}
    result = plan({"a.md": here("a.md", "A")}, {"1": Remote("1", "A", ROOT, 1)}, state, root_id=ROOT,
                  options=Options())
    assert kinds(result) == {"a.md": "noop"} and not result.problems


def test_a_title_clash_stops_the_run_unless_problems_are_isolated() -> None:
    state = {"a.md": synced("a.md", "1", "Alpha")}
    local = {"a.md": here("a.md", "Alpha"), "b.md": here("b.md", "alpha"), "c.md": here("c.md", "Gamma")}
    remote = {"1": Remote("1", "Alpha", ROOT, 1)}
    stopped = plan(local, remote, state, root_id=ROOT, options=Options())
    assert stopped.problems and "'a.md' and 'b.md'" in stopped.problems[0]
    isolated = plan(local, remote, state, root_id=ROOT, options=Options(isolate_problems=True))
    assert not isolated.problems
    # b.md is at fault (a.md already owns the page with that title); c.md goes ahead.
    assert kinds(isolated) == {"a.md": "noop", "b.md": "skip", "c.md": "create"}


def test_a_file_renamed_and_edited_is_matched_by_its_title() -> None:
    state = {"old.md": synced("old.md", "1", "Setup")}
    local = {"new.md": here("new.md", "Setup", md_hash="edited")}
    result = plan(local, {"1": Remote("1", "Setup", ROOT, 1)}, state, root_id=ROOT, options=Options())
    [action] = result.actions
    assert (action.kind, action.path, action.new_path, action.page_id) == ("rename", "old.md", "new.md", "1")


def test_two_new_files_with_a_gone_files_title_are_not_guessed_at() -> None:
    state = {"old.md": synced("old.md", "1", "Setup")}
    local = {"x.md": here("x.md", "Setup", md_hash="x"), "y.md": here("y.md", "Setup", md_hash="y")}
    result = plan(local, {"1": Remote("1", "Setup", ROOT, 1)}, state, root_id=ROOT, options=Options())
    assert not result.of("rename")
    assert result.problems  # and the clash between x.md and y.md stops the run


def test_a_folder_whose_index_file_was_deleted_keeps_that_page() -> None:
    state = {"guides/README.md": synced("guides/README.md", "1", "Guides"),
             "guides/a.md": synced("guides/a.md", "2", "A", parent_id="1")}
    local = {"guides/": Local("guides/", None, None, "guides"), "guides/a.md": here("guides/a.md", "A", "guides/")}
    remote = {"1": Remote("1", "Guides", ROOT, 1), "2": Remote("2", "A", "1", 1)}
    result = plan(local, remote, state, root_id=ROOT, options=Options())
    [rename] = result.of("rename")
    assert (rename.path, rename.new_path, rename.retitle, rename.reason) == ("guides/README.md", "guides/", False, "")
    assert not result.of("create", "keep", "trash") and not result.problems


def test_a_moved_page_with_children_moves_its_folder() -> None:
    state = {"faq.md": synced("faq.md", "9", "FAQ"),
             "guides/README.md": synced("guides/README.md", "1", "Guides"),
             "guides/a.md": synced("guides/a.md", "2", "A", parent_id="1")}
    local = {"faq.md": here("faq.md", "FAQ"), "guides/README.md": here("guides/README.md", "Guides"),
             "guides/a.md": here("guides/a.md", "A", "guides/README.md")}
    remote = {"9": Remote("9", "FAQ", ROOT, 1), "1": Remote("1", "Guides", "9", 2), "2": Remote("2", "A", "1", 1)}
    [move] = folder_moves(local, remote, state, root_id=ROOT)
    assert (move.folder, move.new_folder) == ("guides", "faq/guides")
    assert move.new_path("guides/a.md") == "faq/guides/a.md" and move.moves("guides/README.md")
    assert not move.moves("faq.md")


def test_a_folder_move_into_a_taken_place_is_not_made_and_the_plan_says_conflict() -> None:
    state = {"faq.md": synced("faq.md", "9", "FAQ"), "faq/guides.md": synced("faq/guides.md", "5", "Notes", "9"),
             "guides/README.md": synced("guides/README.md", "1", "Guides"),
             "guides/a.md": synced("guides/a.md", "2", "A", parent_id="1")}
    local = {"faq.md": here("faq.md", "FAQ"), "faq/guides.md": here("faq/guides.md", "Notes", "faq.md"),
             "guides/README.md": here("guides/README.md", "Guides"),
             "guides/a.md": here("guides/a.md", "A", "guides/README.md")}
    remote = {"9": Remote("9", "FAQ", ROOT, 1), "5": Remote("5", "Notes", "9", 1), "1": Remote("1", "Guides", "9", 2),
              "2": Remote("2", "A", "1", 1)}
    assert folder_moves(local, remote, state, root_id=ROOT) == []
    result = plan(local, remote, state, root_id=ROOT, options=Options())
    assert kinds(result)["guides/README.md"] == "conflict"


def test_push_force_overwrites_a_page_changed_only_in_confluence() -> None:
    state = {"a.md": synced("a.md", "1", "A")}
    remote = {"1": Remote("1", "A", ROOT, 3)}
    assert kinds(plan({"a.md": here("a.md", "A")}, remote, state, root_id=ROOT,
                      options=Options(mode="push")))["a.md"] == "remote_only"
    assert kinds(plan({"a.md": here("a.md", "A")}, remote, state, root_id=ROOT,
                      options=Options(mode="push", force=True)))["a.md"] == "update"


def test_blog_posts_never_move() -> None:
    post = FileState(page_id="7", title="News", parent_id=None, version=1, md_hash="h-news.md", storage_hash="s",
                     kind="blogpost")
    local = {"news.md": Local("news.md", None, "h-news.md", "News", kind="blogpost")}
    result = plan(local, {"7": Remote("7", "News", None, 1, kind="blogpost")}, {"news.md": post}, root_id=ROOT,
                  options=Options())
    assert kinds(result) == {"news.md": "noop"}


def test_an_unreadable_file_is_left_alone_not_taken_for_deleted() -> None:
    state = {"a.md": synced("a.md", "1", "A"), "b.md": synced("b.md", "2", "B")}
    remote = {"1": Remote("1", "A", ROOT, 1), "2": Remote("2", "B", ROOT, 1)}
    result = plan({"b.md": here("b.md", "B")}, remote, state, root_id=ROOT,
                  options=Options(delete="trash", max_delete_share=1.0), unreadable={"a.md"})
    assert kinds(result) == {"b.md": "noop"}
    deleted = plan({"b.md": here("b.md", "B")}, remote, state, root_id=ROOT,
                   options=Options(delete="trash", max_delete_share=1.0))
    assert kinds(deleted)["a.md"] == "trash"  # the same plan without the hint: a real delete


def test_files_that_agree_with_their_changed_pages_are_agreed_not_conflicts() -> None:
    state = {"a.md": synced("a.md", "1", "A")}
    local = {"a.md": here("a.md", "A", md_hash="edited")}
    remote = {"1": Remote("1", "A", ROOT, 2)}
    assert kinds(plan(local, remote, state, root_id=ROOT, options=Options())) == {"a.md": "merge"}  # both changed
    learned = replace(state["a.md"], md_hash="edited", version=2)
    result = plan(local, remote, state, root_id=ROOT, options=Options(), agreed={"a.md": learned})
    assert [(action.kind, action.path) for action in result.actions] == [("agree", "a.md"), ("noop", "a.md")]
    assert not result.conflicts and not result.problems


def test_an_attachment_changed_here_updates_the_page_or_is_reported_on_pull() -> None:
    state = {"a.md": synced("a.md", "1", "A"), "b.md": synced("b.md", "2", "B")}
    local = {"a.md": here("a.md", "A"), "b.md": here("b.md", "B")}
    remote = {"1": Remote("1", "A", ROOT, 1), "2": Remote("2", "B", ROOT, 1)}
    for mode, kind in (("sync", "update"), ("push", "update"), ("pull", "local_only")):
        result = plan(local, remote, state, root_id=ROOT, options=Options(mode=mode), attachments_changed={"a.md"})
        assert kinds(result) == {"a.md": kind, "b.md": "noop"}, mode
        [action] = result.of(kind)
        assert action.changes == {Change.HERE}
    # Changed in Confluence as well: the page's change is pulled first (its attachments then differ again).
    moved_on = {**remote, "1": Remote("1", "A", ROOT, 2)}
    assert kinds(plan(local, moved_on, state, root_id=ROOT, options=Options(),
                      attachments_changed={"a.md"}))["a.md"] == "pull"


def test_a_page_an_earlier_run_made_is_adopted_not_made_twice() -> None:
    # Made from the file (its version message names it): adopted as it is.
    remote = {"5": Remote("5", "Setup", ROOT, 2, source="setup.md")}
    [adopt] = plan({"setup.md": here("setup.md", "Setup")}, remote, {}, root_id=ROOT, options=Options()).actions
    assert (adopt.kind, adopt.page_id, adopt.needs_same_body) == ("adopt", "5", False)
    # Created and never recorded (a page's first version has no message): its title under the
    # file's parent, adopted only if its body is what the file converts to; its children too.
    local = {"guides.md": here("guides.md", "Guides"), "guides/a.md": here("guides/a.md", "A", "guides.md")}
    remote = {"6": Remote("6", "Guides", ROOT, 1), "7": Remote("7", "a", "6", 1)}
    result = plan(local, remote, {}, root_id=ROOT, options=Options())
    assert {(action.path, action.kind, action.page_id, action.needs_same_body) for action in result.actions} == {
        ("guides.md", "adopt", "6", True), ("guides/a.md", "adopt", "7", True)}
    # The same title under another parent is another page: created.
    elsewhere = {"6": Remote("6", "Guides", "999", 1)}
    assert kinds(plan({"guides.md": here("guides.md", "Guides")}, elsewhere, {}, root_id=ROOT,
                      options=Options())) == {"guides.md": "create"}
    beside = {"6": Remote("6", "Guides", ROOT, 1), "7": Remote("7", "A", ROOT, 1)}
    assert kinds(plan({"guides.md": here("guides.md", "Guides"), "guides/a.md": here("guides/a.md", "A", "guides.md")},
                      beside, {}, root_id=ROOT, options=Options())) == {"guides.md": "adopt", "guides/a.md": "create",
                                                                       "a.md": "new_file"}


def test_resync_matches_files_to_pages_by_title_whatever_the_case() -> None:
    local = {"a.md": here("a.md", "Setup"), "b.md": here("b.md", "New")}
    remote = {"1": Remote("1", "setup", ROOT, 4), "2": Remote("2", "Other", ROOT, 1)}
    assert {path: page.id for path, page in resync_matches(local, remote).items()} == {"a.md": "1"}


# -- the planner's work grows linearly ------------------------------------------------------------


def a_synced_space(files: int) -> tuple[dict[str, Local], dict[str, Remote], dict[str, FileState]]:
    """Folders of 25 files (an index.md and 24 pages), all synced; in every folder one file is
    edited here, one page edited in Confluence, one new file and one new page."""
    local: dict[str, Local] = {}
    remote: dict[str, Remote] = {}
    state: dict[str, FileState] = {}
    for folder in range(files // 25):
        index, folder_page = f"area-{folder}/index.md", str(10_000 + folder * 100)
        local[index] = here(index, f"Area {folder}")
        remote[folder_page] = Remote(folder_page, f"Area {folder}", ROOT, 1)
        state[index] = synced(index, folder_page, f"Area {folder}")
        for number in range(22):
            path, page_id, title = f"area-{folder}/page-{number}.md", str(10_000 + folder * 100 + number + 1), \
                f"Topic {folder}.{number}"
            local[path] = here(path, title, index, md_hash="edited" if number == 0 else None)
            remote[page_id] = Remote(page_id, title, folder_page, 2 if number == 1 else 1)
            state[path] = synced(path, page_id, title, folder_page)
        new_file = f"area-{folder}/new.md"
        local[new_file] = here(new_file, f"New {folder}", index)
        new_page = str(10_000 + folder * 100 + 99)
        remote[new_page] = Remote(new_page, f"Made in Confluence {folder}", folder_page, 1)
    return local, remote, state


def lines_run_to_plan(files: int) -> int:
    """How many lines of Python the planner runs (loop iterations included) for ``files`` files."""
    local, remote, state = a_synced_space(files)
    count, result = lines_run(lambda: plan(local, remote, state, root_id=ROOT, options=Options()))
    assert not result.problems and len(result.of("update")) == files // 25
    return count


def test_the_planners_work_grows_linearly_with_the_tree() -> None:
    # Counted, not timed. Lines run, loop iterations included, double with the tree when each
    # step is linear; a step that looks at every action once per action makes the ratio near 4.
    # 2,500 and 5,000 files keep the traced run short; an N² step shows at any size.
    smaller, larger = lines_run_to_plan(2_500), lines_run_to_plan(5_000)
    assert larger <= 2.2 * smaller, f"{smaller} lines for 2,500 files, {larger} for 5,000"


def test_a_run_limited_to_a_new_file_in_new_folders_makes_their_pages_first() -> None:
    """Watch runs on the changed paths; a new file may be the only one it names."""
    state = {"a.md": synced("a.md", "1", "A")}
    local = {"a.md": here("a.md", "A"), "new/": Local("new/", None, None, "new"),
             "new/deeper/": Local("new/deeper/", "new/", None, "deeper"),
             "new/deeper/page.md": here("new/deeper/page.md", "Page", "new/deeper/"),
             "other/": Local("other/", None, None, "other"), "other/b.md": here("other/b.md", "B", "other/")}
    result = plan(local, {"1": Remote("1", "A", ROOT, 1)}, state, root_id=ROOT,
                  options=Options(only=("new/deeper/page.md",)))
    assert [(action.kind, action.path) for action in result.actions] == \
        [("create", "new/"), ("create", "new/deeper/"), ("create", "new/deeper/page.md")]


def test_a_run_limited_to_a_file_moved_into_a_new_folder_makes_that_folders_page() -> None:
    state = {"old.md": synced("old.md", "1", "Old")}
    local = {"new/": Local("new/", None, None, "new"), "new/old.md": here("new/old.md", "Old", "new/", "h-old.md")}
    result = plan(local, {"1": Remote("1", "Old", ROOT, 1)}, state, root_id=ROOT, options=Options(only=("new/old.md",)))
    assert [(action.kind, action.path) for action in result.actions] == [("create", "new/"), ("rename", "old.md")]


# -- Cloud folders and archived pages ---------------------------------------------------------------


def folder_entry(path: str, folder_id: str, title: str, parent_id: str = ROOT) -> FileState:
    return FileState(page_id=folder_id, title=title, parent_id=parent_id, version=1, md_hash=None, storage_hash="",
                     kind="folder", title_source="folder")


def test_a_page_moved_into_a_folder_made_in_confluence_follows_it_there() -> None:
    # A colleague made a folder "Runbooks" under the root and moved a.md's page into it: it
    # pulls as the directory runbooks/ (pull.filenames: slug).
    state = {"a.md": synced("a.md", "1", "A")}
    remote = {"1": Remote("1", "A", "50", 2), "50": Remote("50", "Runbooks", ROOT, 1, kind="folder")}
    result = plan({"a.md": here("a.md", "A")}, remote, state, root_id=ROOT, options=Options())
    assert not result.problems
    by_kind = {action.kind: action for action in result.actions}
    assert set(by_kind) == {"new_file", "pull"}
    assert (by_kind["new_file"].path, by_kind["new_file"].page_id) == ("runbooks/", "50")
    assert (by_kind["pull"].path, by_kind["pull"].new_path, by_kind["pull"].reason) == \
        ("a.md", "runbooks/a.md", "moved in Confluence")
    assert not result.of("remove_file", "conflict")


def test_a_folder_in_step_is_a_noop_and_its_title_never_clashes_with_a_pages() -> None:
    state = {"setup/": folder_entry("setup/", "50", "setup"), "setup/a.md": synced("setup/a.md", "1", "A", "50"),
             "other.md": synced("other.md", "2", "setup")}
    local = {"setup/": Local("setup/", None, None, "setup", kind="folder"),
             "setup/a.md": here("setup/a.md", "A", "setup/"), "other.md": here("other.md", "setup")}
    remote = {"50": Remote("50", "setup", ROOT, 1, kind="folder"), "1": Remote("1", "A", "50", 1),
              "2": Remote("2", "setup", ROOT, 1)}
    result = plan(local, remote, state, root_id=ROOT, options=Options())
    assert not result.problems and kinds(result) == {"setup/": "noop", "setup/a.md": "noop", "other.md": "noop"}


def test_two_new_folders_of_one_title_stop_the_run() -> None:
    local = {"a/": Local("a/", None, None, "setup", kind="folder"), "b/": Local("b/", None, None, "setup",
                                                                                kind="folder"),
             "a/x.md": here("a/x.md", "X", "a/"), "b/y.md": here("b/y.md", "Y", "b/")}
    result = plan(local, {}, {}, root_id=ROOT, options=Options())
    assert result.problems and "two Confluence folders titled 'setup'" in result.problems[0]


def test_a_new_local_folder_is_created_before_its_files_and_never_adopts_a_page() -> None:
    # A page titled "guides" under the root is not the folder "guides/" (and the reverse).
    local = {"guides/": Local("guides/", None, None, "guides", kind="folder"),
             "guides/a.md": here("guides/a.md", "A", "guides/")}
    remote = {"7": Remote("7", "guides", ROOT, 3)}
    result = plan(local, remote, {}, root_id=ROOT, options=Options())
    creates = result.of("create")
    assert [action.path for action in creates] == ["guides/", "guides/a.md"]
    assert not result.of("adopt")
    # An unclaimed folder of that title in that place (an earlier run died before recording it) is adopted.
    remote = {"8": Remote("8", "guides", ROOT, 1, kind="folder")}
    result = plan(local, remote, {}, root_id=ROOT, options=Options())
    assert [(action.kind, action.path, action.page_id) for action in result.of("adopt")] == [("adopt", "guides/", "8")]


def test_a_folder_trashed_in_confluence_removes_its_directory_after_its_files() -> None:
    state = {"f/": folder_entry("f/", "50", "f"), "f/a.md": synced("f/a.md", "1", "A", "50")}
    local = {"f/": Local("f/", None, None, "f", kind="folder"), "f/a.md": here("f/a.md", "A", "f/")}
    result = plan(local, {}, state, root_id=ROOT, options=Options())
    assert [(action.kind, action.path) for action in result.actions] == [("remove_file", "f/a.md"),
                                                                        ("remove_file", "f/")]


def test_a_file_whose_page_was_archived_is_kept_and_reported_never_removed_or_recreated() -> None:
    state = {"p.md": synced("p.md", "1", "Parent"), "p/c.md": synced("p/c.md", "2", "Child", "1")}
    local = {"p.md": here("p.md", "Parent"), "p/c.md": here("p/c.md", "Child", "p.md")}
    # The parent was trashed in Confluence; its child was archived with it (Cloud's behaviour).
    for mode in ("sync", "pull", "push"):
        result = plan(local, {}, state, root_id=ROOT, options=Options(mode=mode), archived={"2"},
                      outside_titles={"child": "2"})
        actions = {action.path: action for action in result.actions}
        assert actions["p/c.md"].kind == "archived" and "archived in Confluence" in actions["p/c.md"].reason
        assert actions["p.md"].kind == ("remote_only" if mode == "push" else "remove_file")
        assert not result.problems  # the archived page's title is the file's own page
    # A new file taking an archived page's title is refused before anything is written.
    result = plan({**local, "new.md": here("new.md", "Child")}, {}, {}, root_id=ROOT, options=Options(),
                  archived={"2"}, outside_titles={"child": "2"})
    assert any("'new.md'" in problem and "archived" in problem for problem in result.problems)


# -- the docs folder's own index file: the root page's body ----------------------------------------


def test_the_root_index_file_writes_the_root_page_and_is_never_moved_trashed_or_title_checked() -> None:
    root = Remote(ROOT, "DOCS Home", None, 4)
    local = {"index.md": here("index.md", "DOCS Home"), "a.md": here("a.md", "A")}
    # New: the root page is adopted (its body written), unless it is the home page not asked for.
    result = plan(local, {}, {}, root_id=ROOT, options=Options(root_file="index.md"), root=root,
                  outside_titles={"docs home": ROOT})
    assert not result.problems and kinds(result) == {"index.md": "adopt", "a.md": "create"}
    refused = plan(local, {}, {}, root_id=ROOT, options=Options(root_file="index.md", root_file_allowed=False),
                   root=root, outside_titles={"docs home": ROOT})
    [problem] = refused.problems
    assert "index.md" in problem and "--allow-home" in problem and "'DOCS Home'" in problem
    # Tracked: a change on either side is an update or a pull, never a move; deleting the file forgets it.
    state = {"index.md": FileState(page_id=ROOT, title="DOCS Home", parent_id=None, version=4, md_hash="h-index.md",
                                   storage_hash="s", title_source="tree_root")}
    edited = {"index.md": here("index.md", "DOCS Home", md_hash="edited")}
    assert kinds(plan(edited, {}, state, root_id=ROOT, options=Options(root_file="index.md"), root=root)) == \
        {"index.md": "update"}
    changed_there = replace(root, version=5)
    assert kinds(plan({"index.md": here("index.md", "DOCS Home")}, {}, state, root_id=ROOT,
                      options=Options(root_file="index.md"), root=changed_there)) == {"index.md": "pull"}
    assert kinds(plan(edited, {}, state, root_id=ROOT, options=Options(root_file="index.md"), root=changed_there)) \
        == {"index.md": "merge"}
    gone = plan({}, {}, state, root_id=ROOT, options=Options(delete="trash"), root=root)
    assert kinds(gone) == {"index.md": "forget"} and not gone.of("trash")


# -- sibling order -------------------------------------------------------------------------------


def _ordered(positions: dict[str, int], recorded: dict[str, int | None]) -> tuple[dict, dict, dict]:
    paths = {"1": "01-a.md", "2": "02-b.md", "3": "03-c.md"}
    local = {path: here(path, path[3:4].upper()) for path in paths.values()}
    state = {path: replace(synced(path, page_id, path[3:4].upper()), position=recorded[page_id])
             for page_id, path in paths.items()}
    remote = {page_id: Remote(page_id, path[3:4].upper(), ROOT, 1, position=positions[page_id])
              for page_id, path in paths.items()}
    return local, remote, state


def test_an_order_in_step_is_no_action_and_one_never_agreed_is_pushed() -> None:
    local, remote, state = _ordered({"1": 1, "2": 2, "3": 3}, {"1": None, "2": None, "3": None})
    assert kinds(plan(local, remote, state, root_id=ROOT, options=Options())) == \
        {"01-a.md": "noop", "02-b.md": "noop", "03-c.md": "noop"}
    local, remote, state = _ordered({"1": 3, "2": 1, "3": 2}, {"1": None, "2": None, "3": None})
    [reorder] = plan(local, remote, state, root_id=ROOT, options=Options()).of("reorder")
    assert (reorder.path, reorder.order) == ("*", ("01-a.md", "02-b.md", "03-c.md"))


def test_a_reorder_in_confluence_is_pulled_and_a_push_leaves_it_alone() -> None:
    # Agreed as a, b, c; a colleague moved c to the top.
    local, remote, state = _ordered({"1": 2, "2": 3, "3": 1}, {"1": 1, "2": 2, "3": 3})
    [pulled] = plan(local, remote, state, root_id=ROOT, options=Options()).of("pull_order")
    assert pulled.order == ("03-c.md", "01-a.md", "02-b.md")
    pushed = plan(local, remote, state, root_id=ROOT, options=Options(mode="push"))
    assert not pushed.of("reorder") and [a.path for a in pushed.of("remote_only")] == ["*"]
    assert plan(local, remote, state, root_id=ROOT, options=Options(mode="push", force=True)).of("reorder")
    # Reordered on both sides: a conflict, unless the policy says which side wins.
    local = {**local, "01-a.md": replace(local["01-a.md"], order=9)}
    [conflict] = plan(local, remote, state, root_id=ROOT, options=Options()).of("conflict")
    assert conflict.path == "*" and "push --force" in conflict.reason
    [reorder] = plan(local, remote, state, root_id=ROOT, options=Options(on_conflict="local")).of("reorder")
    assert reorder.order == ("02-b.md", "03-c.md", "01-a.md")
    [pulled] = plan(local, remote, state, root_id=ROOT, options=Options(on_conflict="remote")).of("pull_order")
    assert pulled.order == ("03-c.md", "01-a.md", "02-b.md")


def test_files_a_pull_would_remove_count_against_max_delete_like_pages_trashed() -> None:
    # A listing that leaves every page out (a restriction, a proxy) must not empty the docs folder.
    state = {f"p{n}.md": synced(f"p{n}.md", str(n), f"P{n}") for n in range(30)}
    local = {path: here(path, entry.title) for path, entry in state.items()}
    for mode in ("pull", "sync"):
        result = plan(local, {}, state, root_id=ROOT, options=Options(mode=mode))
        assert len(result.of("remove_file")) == 30
        [problem] = result.problems
        assert "would remove 30 of 30 files" in problem and "view restrictions" in problem
    assert not plan(local, {}, state, root_id=ROOT, options=Options(mode="pull", max_delete_share=None)).problems
