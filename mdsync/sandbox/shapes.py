"""The JSON shapes Confluence Cloud answers with, built from store rows.

Field names and types follow Atlassian's OpenAPI documents (v2 ``PageSingle``,
``PageBulk``, ``AttachmentBulk`` ...; v1 ``Content``, ``LabelArray``); the tests validate
every response against those documents.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from mdsync.sandbox.store import (
    ACCOUNT_ID,
    BLOGPOST,
    FOLDER,
    PAGE,
    Attachment,
    Comment,
    Content,
    InlineComment,
    Label,
    Property,
    Space,
    StateOfContent,
    Store,
)


@dataclass(frozen=True)
class Site:
    """What a response needs to know about where it is served."""

    store: Store
    base: str  # the site's wiki URL, e.g. http://127.0.0.1:8090/wiki
    email: str

    def space_key(self, space_id: int) -> str:
        return self.store.space(space_id).key


def version_json(number: int, created_at: str, message: str = "", minor_edit: bool = False) -> dict[str, Any]:
    return {"createdAt": created_at, "message": message, "number": number, "minorEdit": minor_edit,
            "authorId": ACCOUNT_ID}


def tiny_link(content_id: int) -> str:
    packed = content_id.to_bytes(8, "little").rstrip(b"\x00") or b"\x00"
    return "/x/" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def content_webui(site: Site, content: Content) -> str:
    key = site.space_key(content.space_id)
    if content.type == FOLDER:
        return f"/spaces/{key}/folder/{content.id}"
    if content.type == BLOGPOST:
        day = content.created_at[:10].replace("-", "/")
        return f"/spaces/{key}/blog/{day}/{content.id}/{quote_plus(content.title)}"
    return f"/spaces/{key}/pages/{content.id}/{quote_plus(content.title)}"


def content_json(site: Site, content: Content, *, body_format: str | None = None,
                 view: str | None = None, single: bool = False) -> dict[str, Any]:
    """A page (PageSingle/PageBulk) or blog post (BlogPostSingle/BlogPostBulk)."""
    data: dict[str, Any] = {
        "id": str(content.id),
        "status": content.status,
        "title": content.title,
        "spaceId": str(content.space_id),
    }
    if content.type == PAGE:
        data.update(_placement(content))
        data["ownerId"] = ACCOUNT_ID
        data["lastOwnerId"] = None
    data["authorId"] = ACCOUNT_ID
    data["createdAt"] = content.created_at
    data["version"] = version_json(content.version, content.version_created_at, content.version_message,
                                   content.version_minor)
    body: dict[str, Any] = {}
    if body_format == "storage":
        body["storage"] = {"representation": "storage", "value": content.body}
    elif body_format in ("view", "export_view", "styled_view", "anonymous_export_view") and view is not None:
        body[body_format] = {"representation": body_format, "value": view}
    data["body"] = body
    links = {
        "webui": content_webui(site, content),
        "editui": f"/pages/resumedraft.action?draftId={content.id}",
        "tinyui": tiny_link(content.id),
    }
    if single:
        links["base"] = site.base
    data["_links"] = links
    return data


def _placement(content: Content) -> dict[str, Any]:
    """Where a page or folder hangs in the tree: parentId, parentType (page or folder) and
    position; all null at the space's root, and for content in the trash."""
    placed = content.status not in ("trashed", "deleted") and content.parent_id is not None
    return {
        "parentId": str(content.parent_id) if placed else None,
        "parentType": content.parent_type if placed else None,
        "position": content.position if content.status not in ("trashed", "deleted") else None,
    }


def folder_json(site: Site, folder: Content, *, single: bool = False) -> dict[str, Any]:
    """A folder as Cloud's FolderSingle: no body, and a version of its own."""
    links = {"webui": content_webui(site, folder)}
    if single:
        links["base"] = site.base
    return {
        "id": str(folder.id),
        "type": FOLDER,
        "status": folder.status,
        "title": folder.title,
        **_placement(folder),
        "authorId": ACCOUNT_ID,
        "ownerId": ACCOUNT_ID,
        "createdAt": folder.created_at,
        "spaceId": str(folder.space_id),
        "version": version_json(folder.version, folder.version_created_at, folder.version_message,
                                folder.version_minor),
        "_links": links,
    }


def child_json(child: Content) -> dict[str, Any]:
    """A row of direct-children (ChildrenResponse); live rows carry no spaceId."""
    return {"id": str(child.id), "status": child.status, "title": child.title, "type": child.type,
            "childPosition": child.position}


def space_json(site: Site, space: Space, description_format: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(space.id),
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "authorId": ACCOUNT_ID,
        "spaceOwnerId": ACCOUNT_ID,
        "currentActiveAlias": space.key,
        "createdAt": space.created_at,
        "homepageId": str(space.homepage_id) if space.homepage_id else None,
        "_links": {"webui": f"/spaces/{space.key}"},
    }
    if description_format in ("plain", "view"):
        data["description"] = {description_format: {"representation": description_format,
                                                     "value": space.description}}
    return data


def property_json(prop: Property) -> dict[str, Any]:
    return {"id": str(prop.id), "key": prop.key, "value": prop.value,
            "version": version_json(prop.version, prop.created_at, prop.message)}


def label_json(label: Label) -> dict[str, Any]:
    return {"id": str(label.id), "name": label.name, "prefix": label.prefix}


def label_v1_json(label: Label) -> dict[str, Any]:
    return {"prefix": label.prefix, "name": label.name, "id": str(label.id), "label": label.name}


def download_path(attachment: Attachment, version: int | None = None) -> str:
    """Relative to the site's /wiki, as Confluence gives it."""
    number = version or attachment.version
    return (f"/download/attachments/{attachment.content_id}/{quote(attachment.title)}"
            f"?version={number}&api=v2")


def attachment_json(site: Site, attachment: Attachment, owner: Content) -> dict[str, Any]:
    webui = f"{content_webui(site, owner)}?preview=/{attachment.content_id}/{attachment.id}/{quote(attachment.title)}"
    data: dict[str, Any] = {
        "id": f"att{attachment.id}",
        "status": attachment.status,
        "title": attachment.title,
        "createdAt": attachment.created_at,
        "mediaType": attachment.media_type,
        "mediaTypeDescription": _media_description(attachment.media_type),
        "comment": attachment.comment,
        "fileId": attachment.file_id,
        "fileSize": attachment.file_size,
        "webuiLink": webui,
        "downloadLink": download_path(attachment),
        "version": version_json(attachment.version, attachment.version_created_at, attachment.comment,
                                attachment.minor_edit),
        "_links": {"webui": webui, "download": download_path(attachment)},
    }
    data["blogPostId" if owner.type == BLOGPOST else "pageId"] = str(owner.id)
    return data


def user_v1_json(site: Site) -> dict[str, Any]:
    return {
        "type": "known",
        "accountId": ACCOUNT_ID,
        "accountType": "atlassian",
        "email": site.email,
        "publicName": "Sandbox User",
        "displayName": "Sandbox User",
        "isExternalCollaborator": False,
        "_links": {"self": f"{site.base}/rest/api/user?accountId={ACCOUNT_ID}", "base": site.base,
                   "context": "/wiki"},
    }


def attachment_v1_json(site: Site, attachment: Attachment, owner: Content) -> dict[str, Any]:
    """An attachment as v1's ``Content`` (what uploads answer with)."""
    return {
        "id": f"att{attachment.id}",
        "type": "attachment",
        "status": attachment.status,
        "title": attachment.title,
        "version": {
            "by": user_v1_json(site),
            "when": attachment.version_created_at,
            "message": attachment.comment,
            "number": attachment.version,
            "minorEdit": attachment.minor_edit,
        },
        "container": {"id": str(owner.id), "type": owner.type, "status": owner.status, "title": owner.title},
        "metadata": {"mediaType": attachment.media_type, "comment": attachment.comment},
        "extensions": {
            "mediaType": attachment.media_type,
            "fileSize": attachment.file_size,
            "comment": attachment.comment,
            "mediaTypeDescription": _media_description(attachment.media_type),
            "fileId": attachment.file_id,
            "collectionName": f"contentId-{owner.id}",
        },
        "_links": {
            "webui": content_webui(site, owner),
            "download": download_path(attachment),
            "self": f"{site.base}/rest/api/content/att{attachment.id}",
        },
        "_expandable": {"space": "", "history": "", "ancestors": "", "children": "", "descendants": ""},
    }


def comment_json(site: Site, comment: Comment, owner: Content, body_format: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(comment.id),
        "status": comment.status,
        "title": f"Re: {owner.title}",
        "version": version_json(comment.version, comment.created_at),
        "body": {"storage": {"representation": "storage", "value": comment.body}}
        if body_format == "storage" else {},
        "_links": {"webui": f"{content_webui(site, owner)}?focusedCommentId={comment.id}"},
    }
    data["blogPostId" if owner.type == BLOGPOST else "pageId"] = str(owner.id)
    if comment.parent_comment_id is not None:
        data["parentCommentId"] = str(comment.parent_comment_id)
    return data


def inline_comment_json(site: Site, comment: InlineComment, owner: Content, body_format: str | None, *,
                        single: bool = False) -> dict[str, Any]:
    """An inline comment (InlineCommentModel; a listing's rows are PageInlineCommentModel)."""
    data = comment_json(site, comment, owner, body_format)
    data["resolutionStatus"] = comment.resolution_status
    data["properties"] = {"inlineMarkerRef": comment.marker_ref, "inlineOriginalSelection": comment.selection}
    if single:
        data["_links"]["base"] = site.base
    return data


def content_state_json(found: StateOfContent) -> dict[str, Any]:
    """v1's ContentStateResponse: {} before any state; no contentState once it is removed."""
    data: dict[str, Any] = {}
    if found.state is not None:
        data["contentState"] = {"id": found.state.id, "name": found.state.name, "color": found.state.color}
    if found.last_updated is not None:
        data["lastUpdated"] = found.last_updated
    return data


def user_search_result(site: Site, user: dict[str, Any]) -> dict[str, Any]:
    """A user (``user_v1_json``) as a row of v1's /search/user (SearchResult)."""
    return {
        "user": user,
        "title": user["displayName"],
        "excerpt": "",
        "url": f"/people/{user['accountId']}",
        "breadcrumbs": [],
        "entityType": "user",
        "iconCssClass": "aui-icon content-type-profile",
        "lastModified": site.store.created_at,
        "score": 0.0,
    }


def v2_error(status: int, code: str, title: str) -> dict[str, Any]:
    return {"errors": [{"status": status, "code": code, "title": title, "detail": None}]}


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
            410: "Gone", 413: "Request Entity Too Large", 429: "Too Many Requests", 503: "Service Unavailable"}


def v1_error(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "data": {"authorized": status not in (401, 403), "valid": status != 400, "allowedInReadOnlyMode": True,
                 "errors": [], "successful": False},
        "message": message,
        "reason": _REASONS.get(status, "Error"),
    }


def _media_description(media_type: str) -> str:
    major = media_type.split("/")[0]
    return {"image": "Image", "text": "Text File", "video": "Video", "audio": "Audio"}.get(
        major, "PDF Document" if media_type == "application/pdf" else "File")
