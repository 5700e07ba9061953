"""The sandbox's browser preview shows spaces, page trees and pages as Confluence would."""

from __future__ import annotations

from typing import Any

import httpx
from lxml import html

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
    assert doc.xpath("//h2/a/text()") == ["DOCS (DOCS)"]
    # The tree nests Install under Guides, under the home page.
    nested = doc.xpath("//li[a='Guides']/ul/li/a/text()")
    assert nested == ["Install"]
    assert doc.xpath("//li[a='DOCS Home']//li/a[.='Guides']")


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
    assert code.xpath(".//code/text()") == ["print('hi')"] and "hello.py" in code.text_content()
    assert code.xpath(".//*[@class='code-language']/text()") == ["python"]  # visible, not only tagged
    panel = doc.xpath("//div[contains(@class,'panel-warning')]")[0]
    assert "Careful" in panel.text_content() and "Hot surface" in panel.text_content()
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
    assert "unresolved-link" in missing.get("class")


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
