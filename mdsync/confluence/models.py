"""What the client hands back: plain, typed records of Confluence's objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Version:
    number: int
    message: str = ""
    created_at: str = ""
    minor_edit: bool = False


@dataclass(frozen=True)
class Space:
    id: str
    key: str
    name: str
    homepage_id: str | None


@dataclass(frozen=True)
class Page:
    """A page or blog post (``type``). ``body`` is the storage format, when it was asked for."""

    id: str
    title: str
    space_id: str
    parent_id: str | None
    status: str
    version: Version
    body: str | None = None
    type: str = "page"
    webui: str | None = None
    position: int | None = None
    parent_type: str | None = None  # "page" or "folder" (a Cloud folder); None at the space's top


@dataclass(frozen=True)
class Attachment:
    id: str
    title: str
    page_id: str | None
    media_type: str
    file_size: int
    version: int
    comment: str = ""
    download_link: str | None = None


@dataclass(frozen=True)
class Label:
    id: str
    name: str
    prefix: str = "global"


@dataclass(frozen=True)
class Property:
    id: str
    key: str
    value: Any
    version: int


@dataclass(frozen=True)
class Site:
    """Where the client talks to, as discovered: shown to users without secrets."""

    api_base: str
    site_url: str | None
    cloud_id: str | None
    auth: str
    extra_headers: dict[str, str] = field(default_factory=dict)


def version_from(data: dict[str, Any] | None) -> Version:
    data = data or {}
    return Version(number=int(data.get("number") or 0), message=str(data.get("message") or ""),
                   created_at=str(data.get("createdAt") or data.get("when") or ""),
                   minor_edit=bool(data.get("minorEdit")))


def page_from(data: dict[str, Any], kind: str = "page") -> Page:
    body = (data.get("body") or {}).get("storage") or {}
    position = data.get("position")
    return Page(
        id=str(data["id"]),
        title=str(data.get("title") or ""),
        space_id=str(data.get("spaceId") or ""),
        parent_id=str(data["parentId"]) if data.get("parentId") else None,
        status=str(data.get("status") or "current"),
        version=version_from(data.get("version")),
        body=body.get("value") if isinstance(body, dict) and "value" in body else None,
        type=kind,
        webui=(data.get("_links") or {}).get("webui"),
        position=position if isinstance(position, int) else None,
        parent_type=str(data["parentType"]) if data.get("parentId") and data.get("parentType") else None,
    )


def attachment_from(data: dict[str, Any]) -> Attachment:
    """From v2's AttachmentBulk or v1's attachment Content."""
    extensions = data.get("extensions") or {}
    links = data.get("_links") or {}
    container = data.get("container") or {}
    version = data.get("version") or {}
    return Attachment(
        id=str(data["id"]),
        title=str(data.get("title") or ""),
        page_id=str(data.get("pageId") or data.get("blogPostId") or container.get("id") or "") or None,
        media_type=str(data.get("mediaType") or extensions.get("mediaType") or "application/octet-stream"),
        file_size=int(data.get("fileSize") or extensions.get("fileSize") or 0),
        version=int(version.get("number") or 0),
        comment=str(data.get("comment") or extensions.get("comment") or ""),
        download_link=data.get("downloadLink") or links.get("download"),
    )
