"""The sandbox's preview of the sample docs, looked at in a real browser (headless Chromium) at
1024 px: every construct shows, code is highlighted, panels carry their icon and title, wide
content scrolls inside its own box, every link leads somewhere that loads, images load, and a
link to a missing page looks and behaves as in Confluence.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

from tests.browser.conftest import COLLEAGUE_PAGE, LONG_LINE, MISSING_TITLE, SAMPLE_DOCS, WIDTH, Site

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def visit(page: Page, address: str, status: int = 200) -> None:
    response = page.goto(address)
    assert response is not None and response.status == status, (address, response and response.status)


def style(page: Page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"(el) => getComputedStyle(el)[{prop!r}]")


def body_texts(page: Page, selector: str) -> list[str]:
    return page.locator(f".page-body {selector}").all_inner_texts()


# -- every page: fits the window, images load ---------------------------------------------------------


def test_every_page_fits_a_1024_px_window_and_its_images_load(site: Site, page: Page) -> None:
    expected_images = sum(path.read_text(encoding="utf-8").count("![") for path in SAMPLE_DOCS.rglob("*.md")) + 1
    shown = 0
    for address in [site.url + "/", *(site.address(title) for title in site.pages)]:
        visit(page, address)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= WIDTH, (address, scroll_width)
        images = page.eval_on_selector_all(
            "main img", "(all) => all.map((i) => [i.src, i.complete, i.naturalWidth, i.getBoundingClientRect().right])")
        for src, complete, natural_width, right in images:
            assert complete and natural_width > 0, (address, src)
            assert right <= WIDTH, (address, src, right)
        shown += len(images)
    assert shown == expected_images  # the sample docs' images, and the colleague's wide one


# -- every construct of the sample docs -----------------------------------------------------------------


def test_headings_lists_tasks_tables_quotes_and_marks_show(site: Site, page: Page) -> None:
    for title in site.pages:
        visit(page, site.address(title))
        assert page.locator("h1.page-title").inner_text() == title
        for heading in page.locator(".page-body h2").all():
            assert heading.is_visible() and heading.get_attribute("id")

    visit(page, site.address("Getting started"))
    boxes = page.locator(".page-body li.task input[type=checkbox]")
    assert [box.is_checked() for box in boxes.all()] == [True, True, False, False]
    assert page.locator(".page-body ol > li").count() == 6  # the three steps, the three checks under Validate
    assert page.locator(".page-body ol ul li").first.is_visible()  # three levels deep
    visit(page, site.address("Installation"))
    table = page.locator(".page-body table").first
    assert table.locator("th").all_inner_texts() == ["Component", "Minimum", "Recommended", "Disk"]
    assert table.locator("tr").count() == 4 and table.is_visible()
    visit(page, site.address("Configuration"))
    assert page.locator(".page-body table").count() == 2
    assert page.locator(".page-body .code-title").first.inner_text().startswith("widgets.yaml")
    visit(page, site.address("Guides"))
    assert "A widget is only as good as the data" in page.locator(".page-body blockquote").inner_text()
    visit(page, site.address("Release notes"))
    assert page.locator(".page-body del, .page-body s").first.inner_text() == "The --legacy-render flag"
    assert "semantic versioning" in body_texts(page, "a")


def test_code_is_highlighted_by_language(site: Site, page: Page) -> None:
    visit(page, site.address("REST API reference"))
    blocks = page.locator(".page-body .code-block")
    languages = [block.get_attribute("data-language") for block in blocks.all()]
    assert languages == ["bash", "json", "typescript", "py", "mermaid"]
    for block, language in zip(blocks.all(), languages, strict=True):
        tokens = block.locator("pre code > span").count()
        # Pygments' token spans for what it knows; a diagram language shows as it is written.
        assert (tokens > 0) == (language != "mermaid"), language
    python = blocks.nth(3)
    assert python.locator("span.kn").first.inner_text() == "import"
    assert python.locator("span.nf").inner_text() == "rename_widget"
    keyword = python.locator("span.k").first.evaluate("(el) => getComputedStyle(el).color")
    plain = python.locator("pre code").evaluate("(el) => getComputedStyle(el).color")
    comment = python.locator("span.sd").evaluate("(el) => getComputedStyle(el).color")
    assert len({keyword, plain, comment}) == 3  # coloured, not only tagged
    assert python.locator("pre code").inner_text().startswith("import httpx\n")  # the code itself, unchanged


def test_panels_show_their_icon_and_title(site: Site, page: Page) -> None:
    # Each alert of the sample docs, as the panel Cloud shows: (page, panel class, icon).
    expected = [("DOCS Home", "panel-info", "panel-icon-info"), ("Getting started", "panel-tip", "panel-icon-success"),
                ("Installation", "panel-note", "panel-icon-warning"),
                ("REST API reference", "panel-warning", "panel-icon-error"),
                ("Configuration", "panel-generic", "panel-icon-emoji")]
    for title, kind, icon in expected:
        visit(page, site.address(title))
        panel = page.locator(f".page-body .panel.{kind}")
        mark = panel.locator(f".panel-icon.{icon}")
        box = mark.bounding_box()
        assert box is not None and box["width"] >= 16 and box["height"] >= 16, (title, box)
        body = panel.locator(".panel-body").bounding_box()
        assert body is not None and box["x"] + box["width"] <= body["x"], title  # the icon stands beside the text
    visit(page, site.address(COLLEAGUE_PAGE))
    titled = page.locator(".page-body .panel-info .panel-title")
    assert titled.inner_text() == "Heads up"
    assert int(titled.evaluate("(el) => getComputedStyle(el).fontWeight")) >= 700
    assert titled.bounding_box()["y"] < page.locator(".page-body .panel-info .panel-body").bounding_box()["y"]


def test_expand_toc_status_and_dates_work(site: Site, page: Page) -> None:
    visit(page, site.address("Installation"))
    expand = page.locator(".page-body details.expand")
    assert expand.locator("summary").inner_text() == "Installing behind a corporate proxy"
    inside = expand.locator(".expand-body")
    assert not inside.is_visible()
    expand.locator("summary").click()
    assert inside.is_visible() and inside.locator("code span").count() > 0

    visit(page, site.address(COLLEAGUE_PAGE))
    assert body_texts(page, "nav.toc a") == ["This week", "Wide things", "Details"]
    page.locator(".page-body nav.toc a", has_text="Details").click()
    assert unquote(urlsplit(page.url).fragment) == "Details"
    assert page.locator("#Details").is_visible()
    lozenges = page.locator(".page-body .status")
    assert lozenges.all_inner_texts() == ["ON TRACK", "BLOCKED"]
    colours = [lozenge.evaluate("(el) => getComputedStyle(el).backgroundColor") for lozenge in lozenges.all()]
    assert colours == ["rgb(227, 252, 239)", "rgb(255, 235, 230)"]  # green and red, as Confluence's
    due = page.locator(".page-body time")
    assert (due.inner_text(), due.get_attribute("datetime")) == ("Dec 1, 2026", "2026-12-01")
    updated = page.locator(".byline time")
    assert updated.get_attribute("datetime") == updated.get_attribute("title")
    assert updated.get_attribute("datetime")[:4].isdigit() and "T" not in updated.inner_text()


# -- wide content -------------------------------------------------------------------------------------


def test_wide_code_tables_and_images_scroll_or_shrink_inside_the_page(site: Site, page: Page) -> None:
    visit(page, site.address(COLLEAGUE_PAGE))
    main = page.locator("main").bounding_box()
    assert main is not None and main["x"] + main["width"] <= WIDTH
    pre = page.locator(".page-body .code-block pre").first
    assert pre.inner_text() == LONG_LINE
    for box in (pre, page.locator(".page-body table").first):
        sizes = box.evaluate("(el) => [el.scrollWidth, el.clientWidth, getComputedStyle(el).overflowX,"
                             " el.getBoundingClientRect().right]")
        scroll_width, client_width, overflow, right = sizes
        assert scroll_width > client_width and overflow == "auto" and right <= WIDTH, sizes  # scrolls in its box
    image = page.locator(".page-body img")
    natural, shown = image.evaluate("(el) => [el.naturalWidth, el.getBoundingClientRect().width]")
    assert natural == 2400 and shown <= main["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


# -- links --------------------------------------------------------------------------------------------


def test_every_internal_link_leads_to_a_page_that_loads(site: Site, page: Page) -> None:
    loaded: dict[str, int] = {}
    ids: dict[str, set[str]] = {}
    unresolved: list[str] = []
    origin = site.url.rstrip("/")

    def ids_on(address: str) -> set[str]:
        if address not in ids:
            visit(page, address)
            ids[address] = set(page.eval_on_selector_all("[id]", "(all) => all.map((el) => el.id)"))
        return ids[address]

    for title in site.pages:
        visit(page, site.address(title))
        links: list[dict[str, Any]] = page.eval_on_selector_all(
            "a[href]", "(all) => all.map((a) => ({href: a.href, unresolved: a.classList.contains('unresolved'),"
                       " text: a.innerText}))")
        for link in links:
            if not link["href"].startswith(origin):
                assert link["href"].startswith("https://"), link  # the sample docs' outside links
                continue
            if link["unresolved"]:
                unresolved.append(link["text"])
                continue
            target, fragment = urldefrag(link["href"])
            if target not in loaded:
                loaded[target] = page.request.get(target).status
            assert loaded[target] == 200, (title, link)
            if fragment and "/_preview/" not in target:
                assert unquote(fragment) in ids_on(target), (title, link)  # the anchor is on the page
    assert unresolved == [MISSING_TITLE]  # the colleague's one link to a page nobody wrote
    reached = {match.group(1) for target in loaded if (match := re.search(r"/pages/(\d+)/", target))}
    assert reached == {str(found["id"]) for found in site.pages.values()}  # the tree reaches every page


def test_a_link_to_a_missing_page_is_red_dashed_and_opens_page_not_found(site: Site, page: Page) -> None:
    visit(page, site.address(COLLEAGUE_PAGE))
    link = page.locator(".page-body a.unresolved")
    assert link.inner_text() == MISSING_TITLE
    decoration = link.evaluate("(el) => { const s = getComputedStyle(el);"
                               " return [s.color, s.textDecorationLine, s.textDecorationStyle]; }")
    assert decoration == ["rgb(222, 53, 11)", "underline", "dashed"]
    normal = page.locator(".page-body nav.toc a").first.evaluate("(el) => getComputedStyle(el).color")
    assert normal != decoration[0]
    with page.expect_navigation() as navigation:
        link.click()
    response = navigation.value
    assert response is not None and response.status == 404
    assert urldefrag(page.url)[0] != site.address(COLLEAGUE_PAGE)  # not the same page again
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.locator("main strong").inner_text() == MISSING_TITLE
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


# -- home and tree ------------------------------------------------------------------------------------


def test_home_and_page_tree_look_like_confluence(site: Site, page: Page) -> None:
    visit(page, site.url + "/")
    card = page.locator(".space-card")
    assert card.locator("h2").inner_text() == "DOCS"
    assert style(page, ".space-card", "borderTopWidth") == "1px" and style(page, ".space-card", "boxShadow") != "none"
    assert sorted(card.locator("ul.tree a").all_inner_texts()) == sorted(site.pages)
    updated = card.locator("time")
    assert updated.get_attribute("datetime")[:4].isdigit() and "T" not in updated.inner_text()

    visit(page, site.url + "/wiki/spaces/DOCS")  # the space's address opens its home page
    assert page.locator("h1.page-title").inner_text() == "DOCS Home"
    visit(page, site.address("Installation"))
    sidebar = page.locator("nav.sidebar")
    assert sidebar.bounding_box()["width"] >= 200 and sidebar.locator(".space-header").inner_text() == "D\nDOCS"
    current = sidebar.locator("a.current")
    assert current.inner_text() == "Installation"
    assert current.evaluate("(el) => getComputedStyle(el).backgroundColor") == "rgb(233, 242, 255)"
    # The page icon drawn before each title, the chevron after each title that has children.
    assert current.evaluate("(el) => getComputedStyle(el, '::before').width") == "11px"
    guides = sidebar.locator("li.has-children > a", has_text="Guides")
    assert guides.evaluate("(el) => getComputedStyle(el, '::after').borderRightStyle") == "solid"
    assert sidebar.locator("xpath=.//li[@class='has-children'][a='Guides']/ul//a").all_inner_texts() \
        == ["Configuration", "Installation"]
    assert page.locator(".breadcrumbs").inner_text().split("\n") == ["DOCS", "/", "DOCS Home", "/", "Guides"]
