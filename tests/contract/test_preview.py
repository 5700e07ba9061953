"""The sandbox's browser preview shows spaces, page trees and pages as Confluence would."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import httpx
from lxml import html

from mdsync.preview.dates import calendar_date, relative_time
from tests.support.sandbox import RunningSandbox, make_page

CODE = ('<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">python</ac:parameter>'
        '<ac:parameter ac:name="title">hello.py</ac:parameter>'
        "<ac:plain-text-body><![CDATA[print('hi')]]></ac:plain-text-body></ac:structured-macro>")
PANEL = ('<ac:structured-macro ac:name="warning"><ac:parameter ac:name="title">Careful</ac:parameter>'
         "<ac:rich-text-body><p>Hot surface</p></ac:rich-text-body></ac:structured-macro>")
TASKS = ("<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete</ac:task-status>"
         "<ac:task-body>Done thing</ac:task-body></ac:task><ac:task><ac:task-id>2</ac:task-id>"
         "<ac:task-status>incomplete</ac:task-status><ac:task-body>Open thing</ac:task-body></ac:task></ac:task-list>")
TABLE = "<table><tbody><tr><th>Name</th><th>Size</th></tr><tr><td>a</td><td>1</td></tr></tbody></table>"
IMAGE = '<ac:image ac:alt="Diagram"><ri:attachment ri:filename="diagram one.png" /></ac:image>'


def page_link(title: str, anchor: str | None = None) -> str:
    anchored = f' ac:anchor="{anchor}"' if anchor else ""
    return (f'<p><ac:link{anchored}><ri:page ri:content-title="{title}" />'
            f"<ac:plain-text-link-body><![CDATA[to {title}]]></ac:plain-text-link-body></ac:link></p>")


def fetch(sandbox: RunningSandbox, path: str) -> Any:
    response = httpx.get(sandbox.url + path, timeout=10, follow_redirects=True)
    assert response.status_code == 200, path
    assert response.headers["content-type"].startswith("text/html")
    return html.fromstring(response.text)


def test_index_lists_spaces_and_the_page_tree(sandbox: RunningSandbox, api: httpx.Client,
                                              space: dict[str, Any]) -> None:
    parent = make_page(api, space, "Guides")
    make_page(api, space, "Install", parent=parent["id"])
    doc = fetch(sandbox, "/")
    card = doc.xpath("//article[@class='space-card']")[0]
    assert card.xpath(".//h2/a/text()") == ["DOCS"] and card.xpath(".//h2/a/@href") == ["/wiki/spaces/DOCS"]
    assert "3 pages" in card.xpath("string(.//*[contains(@class,'meta')])")
    # The tree nests Install under Guides, under the home page.
    nested = card.xpath(".//li[a='Guides']/ul[@class='tree']/li/a/text()")
    assert nested == ["Install"]
    assert card.xpath(".//li[@class='has-children'][a='DOCS Home']//li/a[.='Guides']")


def test_page_shows_headings_code_panels_tasks_tables_and_images(sandbox: RunningSandbox, api: httpx.Client,
                                                                 space: dict[str, Any]) -> None:
    body = "<h2>Set up</h2>" + CODE + PANEL + TASKS + TABLE + "<p>" + IMAGE + "</p>"
    page = make_page(api, space, "Showcase", body)
    api.post(f"/wiki/rest/api/content/{page['id']}/child/attachment", headers={"X-Atlassian-Token": "no-check"},
             files={"file": ("diagram one.png", b"\x89PNG fake", "image/png")}, data={"minorEdit": "true"})
    doc = fetch(sandbox, f"/wiki{page['_links']['webui']}")

    assert doc.xpath("//h1/text()") == ["Showcase"]
    assert doc.xpath("//div[contains(@class,'page-body')]//h2[@id='Set-up']/text()") == ["Set up"]
    code = doc.xpath("//div[contains(@class,'code-block')]")[0]
    assert code.get("data-language") == "python"
    assert code.xpath("string(.//code)") == "print('hi')" and "hello.py" in code.text_content()
    assert code.xpath(".//*[@class='code-language']/text()") == ["python"]  # visible, not only tagged
    panel = doc.xpath("//div[contains(@class,'panel-warning')]")[0]
    assert panel.xpath("./div[@class='panel-title']/text()") == ["Careful"] and "Hot surface" in panel.text_content()
    tasks = doc.xpath("//li[contains(@class,'task')]")
    assert [(task.text_content().strip(), task.xpath(".//input")[0].get("checked") is not None) for task in tasks] \
        == [("Done thing", True), ("Open thing", False)]
    assert doc.xpath("//table//th/text()")[:2] == ["Name", "Size"]
    image = doc.xpath("//div[contains(@class,'page-body')]//img[@alt='Diagram']")[0]
    served = httpx.get(sandbox.url + image.get("src"), timeout=10)
    assert served.status_code == 200 and served.content == b"\x89PNG fake"
    assert served.headers["content-type"] == "image/png"
    assert doc.xpath("//h3[.='Attachments']")


def test_page_links_lead_to_the_linked_page(sandbox: RunningSandbox, api: httpx.Client,
                                            space: dict[str, Any]) -> None:
    make_page(api, space, "Target page", "<h2>Deep part</h2>")
    source = make_page(api, space, "Source", page_link("Target page", "Deep-part") + page_link("Missing"))
    doc = fetch(sandbox, f"/wiki{source['_links']['webui']}")
    link = doc.xpath("//div[contains(@class,'page-body')]//a[.='to Target page']")[0]
    assert link.get("href").endswith("#Deep-part")
    target = fetch(sandbox, link.get("href").split("#")[0])
    assert target.xpath("//h1/text()") == ["Target page"]
    assert target.xpath("//h2[@id='Deep-part']")
    missing = doc.xpath("//a[.='to Missing']")[0]
    assert "unresolved" in missing.get("class")


def test_preview_never_runs_page_script(sandbox: RunningSandbox, api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Hostile", '<p onclick="alert(1)">x<a href="javascript:alert(2)">y</a></p>'
                                            "<script>alert(3)</script>")
    response = httpx.get(f"{sandbox.url}/wiki{page['_links']['webui']}", timeout=10)
    assert "alert(" not in response.text
    upload = api.post(f"/wiki/rest/api/content/{page['id']}/child/attachment",
                      headers={"X-Atlassian-Token": "no-check"},
                      files={"file": ("x.html", b"<script>alert(4)</script>", "text/html")},
                      data={"minorEdit": "true"}).json()["results"][0]
    served = httpx.get(f"{sandbox.url}/_preview/attachments/{upload['id']}", timeout=10)
    assert "sandbox" in served.headers["content-security-policy"]
    assert served.headers["content-disposition"].startswith("attachment")


def test_space_url_redirects_to_its_home_page_and_unknown_pages_are_404(sandbox: RunningSandbox,
                                                                        space: dict[str, Any]) -> None:
    doc = fetch(sandbox, "/wiki/spaces/DOCS")
    assert doc.xpath("//h1/text()") == ["DOCS Home"]
    assert httpx.get(f"{sandbox.url}/wiki/spaces/DOCS/pages/999999/x", timeout=10).status_code == 404
    assert httpx.get(f"{sandbox.url}/wiki/spaces/NOPE", timeout=10).status_code == 404


# -- the look: highlighting, panel icons, unresolved links, dates -------------------------------------------


def test_code_is_highlighted_with_pygments_token_spans(sandbox: RunningSandbox, api: httpx.Client,
                                                       space: dict[str, Any]) -> None:
    source = "def greet(name):\n    return f'hi {name}'  # friendly\n"
    body = ('<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">py</ac:parameter>'
            f"<ac:plain-text-body><![CDATA[{source}]]></ac:plain-text-body></ac:structured-macro>"
            '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">mermaid</ac:parameter>'
            "<ac:plain-text-body><![CDATA[graph TD; A-->B]]></ac:plain-text-body></ac:structured-macro>")
    doc = fetch(sandbox, f"/wiki{make_page(api, space, 'Code', body)['_links']['webui']}")
    python, mermaid = doc.xpath("//div[contains(@class,'code-block')]//code")
    tokens = {(span.get("class"), span.text) for span in python.xpath("./span")}
    assert {("k", "def"), ("nf", "greet"), ("k", "return"), ("c1", "# friendly")} <= tokens
    assert python.text_content() == source  # every character of the code, in order
    # A language Pygments does not know is shown as plain text, not guessed at.
    assert mermaid.xpath("./span") == [] and mermaid.text_content() == "graph TD; A-->B"


def test_panels_show_their_icon_and_their_title_in_bold(sandbox: RunningSandbox, api: httpx.Client,
                                                        space: dict[str, Any]) -> None:
    def panel(name: str, title: str = "", icon: str = "") -> str:
        params = (f'<ac:parameter ac:name="title">{title}</ac:parameter>' if title else "") + (
            f'<ac:parameter ac:name="icon">{icon}</ac:parameter>' if icon else "")
        return (f'<ac:structured-macro ac:name="{name}">{params}<ac:rich-text-body><p>{name} body</p>'
                "</ac:rich-text-body></ac:structured-macro>")

    adf_note = ('<ac:adf-extension><ac:adf-node type="panel"><ac:adf-attribute key="panel-type">note'
                "</ac:adf-attribute><ac:adf-content><p>adf body</p></ac:adf-content></ac:adf-node></ac:adf-extension>")
    body = (panel("info", "Read me") + panel("tip") + panel("note", "Mind") + panel("warning", "Stop")
            + panel("info", icon="false") + adf_note)
    doc = fetch(sandbox, f"/wiki{make_page(api, space, 'Panels', body)['_links']['webui']}")
    panels = doc.xpath("//div[contains(@class,'page-body')]//div[contains(concat(' ', @class, ' '), ' panel ')]")
    # Cloud's icons: the tip macro is its success panel, note its warning, warning its error.
    assert [p.xpath("./*[local-name()='svg']/@class") for p in panels] == [
        ["panel-icon panel-icon-info"], ["panel-icon panel-icon-success"], ["panel-icon panel-icon-warning"],
        ["panel-icon panel-icon-error"], [], ["panel-icon panel-icon-note"]]
    assert [p.xpath("string(./div[@class='panel-title'])") for p in panels] == ["Read me", "", "Mind", "Stop", "",
                                                                                 ""]
    icons = doc.xpath("//div[contains(@class,'page-body')]//*[local-name()='svg']")
    assert len(icons) == 5 and all(icon.xpath(".//*[local-name()='path']") for icon in icons)  # drawn inline
    css = doc.xpath("string(//style)")
    assert re.search(r"\.panel-title \{[^}]*font-weight: 700", css)


def test_a_link_to_a_missing_page_is_unresolved_and_leads_to_page_not_found(
        sandbox: RunningSandbox, api: httpx.Client, space: dict[str, Any]) -> None:
    # As mdsync writes them: a page link by title, and a link to a Markdown file with no page.
    body = page_link("Nowhere") + '<p><a href="guides/missing.md">the missing guide</a></p>'
    page = make_page(api, space, "Linking", body)
    doc = fetch(sandbox, f"/wiki{page['_links']['webui']}")
    links = doc.xpath("//div[contains(@class,'page-body')]//a[contains(concat(' ', @class, ' '), ' unresolved ')]")
    assert [link.text_content() for link in links] == ["to Nowhere", "the missing guide"]
    for link, name in zip(links, ["Nowhere", "guides/missing.md"], strict=True):
        target = httpx.get(sandbox.url + link.get("href"), timeout=10)
        assert target.status_code == 404  # a "page not found" page, not this page again
        shown = html.fromstring(target.text)
        assert shown.xpath("//h1/text()") == ["Page not found"]
        assert shown.xpath("//main//strong/text()") == [name]
        assert shown.xpath("//nav[@class='sidebar']//a[.='Linking']")  # the space is still there to browse
    css = doc.xpath("string(//style)")
    assert re.search(r"a\.unresolved \{[^}]*color: #de350b[^}]*dashed", css)


def test_the_page_says_when_it_was_updated_as_people_read_it(sandbox: RunningSandbox, api: httpx.Client,
                                                            space: dict[str, Any]) -> None:
    page = make_page(api, space, "Dated", '<p>Due <time datetime="2026-12-01" /></p>')
    doc = fetch(sandbox, f"/wiki{page['_links']['webui']}")
    updated = doc.xpath("//div[contains(@class,'byline')]/time")[0]
    assert updated.get("datetime") == updated.get("title") == page["version"]["createdAt"]
    assert re.fullmatch(r"just now|\d+ (minute|hour)s? ago", updated.text), updated.text
    lozenge = doc.xpath("//div[contains(@class,'page-body')]//time")[0]
    assert (lozenge.text, lozenge.get("datetime")) == ("Dec 1, 2026", "2026-12-01")
    home = fetch(sandbox, "/").xpath("//article[@class='space-card']//time")[0]
    assert home.get("datetime").startswith("20") and "T" not in home.text


def test_dates_read_as_confluence_writes_them() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert [relative_time(iso, now) for iso in ("2026-12-01T11:59:40.000Z", "2026-12-01T11:55:00.000Z",
                                                "2026-12-01T11:01:00Z", "2026-12-01T10:00:00.000Z",
                                                "2026-11-30T11:00:00.000Z", "2027-01-05T00:00:00Z")] \
        == ["just now", "5 minutes ago", "59 minutes ago", "2 hours ago", "Nov 30, 2026", "Jan 5, 2027"]
    assert calendar_date("2026-01-31") == "Jan 31, 2026"
    assert calendar_date("not a date") is None and relative_time("soon", now) is None
