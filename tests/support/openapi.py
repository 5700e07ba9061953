"""Check HTTP exchanges with the sandbox against Atlassian's OpenAPI documents.

Every request a test sends to ``/wiki/api/v2`` or ``/wiki/rest/api`` must match an
operation in the v2 or v1 document (the sandbox may not invent routes), its parameters
and body must be valid, and the response must match the documented schema for its status.
The documents' known defects are worked around here, in memory only (tests/openapi/SOURCE.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.validation.request.exceptions import SecurityValidationError
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.support import TESTS

SPEC_DIR = TESTS / "openapi"
HOST = "http://sandbox.test"
# Statuses Atlassian's documents never describe; their bodies are checked by envelope only.
UNDOCUMENTED_STATUSES = {409, 410, 415, 429, 503}


class ContractError(AssertionError):
    """A request or response that Atlassian's documents do not allow."""


def _fix_body_one_of(node: Any) -> None:
    """Page and blog-post bodies are oneOf two schemas that both accept any object."""
    if isinstance(node, dict):
        choices = node.get("oneOf")
        if isinstance(choices, list) and any(
            isinstance(choice, dict) and str(choice.get("$ref", "")).endswith("NestedBodyWrite") for choice in choices
        ):
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _fix_body_one_of(value)
    elif isinstance(node, list):
        for value in node:
            _fix_body_one_of(value)


def _fix_attachment_id_pattern(raw: dict[str, Any]) -> None:
    """One attachment-id parameter's pattern lost its brackets: '(att)?0-9+' for '(att)?[0-9]+'."""
    for item in raw["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if parameter.get("name") == "attachment-id" and schema.get("pattern") == "(att)?0-9+":
                    schema["pattern"] = "(att)?[0-9]+"


@dataclass
class Document:
    name: str
    api: OpenAPI
    operations: list[tuple[str, re.Pattern[str], dict[str, Any]]]

    def find(self, method: str, path: str) -> dict[str, Any] | None:
        for op_method, pattern, operation in self.operations:
            if op_method == method and pattern.fullmatch(path):
                return operation
        return None


@cache
def _document(filename: str, server_path: str) -> Document:
    raw = json.loads((SPEC_DIR / filename).read_text(encoding="utf-8"))
    raw["servers"] = [{"url": HOST + server_path}]
    _fix_body_one_of(raw)
    _fix_attachment_id_pattern(raw)
    api = OpenAPI(SchemaPath.from_dict(raw), config=Config(spec_validator_cls=None))
    operations = []
    for template, item in raw["paths"].items():
        pattern = re.compile(re.escape(server_path + template).replace(r"\{", "{").replace(r"\}", "}"))
        pattern = re.compile(re.sub(r"\{[^}]+\}", r"[^/]+", pattern.pattern))
        for method, operation in item.items():
            if method in ("get", "post", "put", "delete", "patch"):
                operations.append((method, pattern, operation))
    return Document(filename, api, operations)


def documents_for(path: str) -> list[Document]:
    if path.startswith("/wiki/api/v2/"):
        return [_document("confluence-openapi-v2.json", "/wiki/api/v2")]
    if path.startswith("/wiki/rest/api/"):
        return [_document("confluence-openapi-v1.json", ""), _document("confluence-openapi-v1-2021.json", "")]
    return []


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _strip_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_strip_nulls(item) for item in value]
    return value


class _OpenAPIRequest:
    def __init__(self, request: httpx.Request, path: str) -> None:
        url = urlsplit(str(request.url))
        self.host_url = HOST
        self.path = path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(url.query, keep_blank_values=True)),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )
        self.content_type = request.headers.get("content-type", "")
        self.body = request.read() or None

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


class _OpenAPIResponse:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "").split(";")[0]
        self.headers = Headers(list(response.headers.items()))
        data = response.content
        if self.content_type == "application/json" and data:
            data = json.dumps(_strip_nulls(json.loads(data))).encode()
        self.data = data


def api_path(url: httpx.URL) -> str:
    """The site-form path of a request, whichever gateway form it went through."""
    path = url.path
    for prefix in (r"^/confluence/ex/confluence/[^/]+", r"^/ex/confluence/[^/]+"):
        path = re.sub(prefix, "", path)
    return path


def check_exchange(response: httpx.Response) -> None:
    """Raise ContractError if the exchange breaks Atlassian's documents."""
    request = response.request
    path = api_path(request.url)
    documents = documents_for(path)
    if not documents:
        return
    method = request.method.lower()
    matched = [(doc, op) for doc in documents if (op := doc.find(method, path)) is not None]
    if not matched:
        raise ContractError(f"{request.method} {path} is not an operation in Atlassian's documents")
    document, operation = matched[0]
    problems = []
    for document, operation in matched:
        try:
            _check_with(document, operation, request, response, path)
            return
        except ContractError as problem:
            problems.append(f"[{document.name}] {problem}")
    raise ContractError("; ".join(problems))


def _check_with(document: Document, operation: dict[str, Any], request: httpx.Request,
                response: httpx.Response, path: str) -> None:
    openapi_request = _OpenAPIRequest(request, path)
    if response.status_code < 400:
        # Only requests the server accepted must be valid: tests send bad ones on purpose.
        try:
            document.api.validate_request(openapi_request)
        except SecurityValidationError:
            pass  # credentials are the middleware's business, tested separately
        except Exception as error:  # openapi-core raises many classes; all mean "invalid"
            raise ContractError(f"request {request.method} {request.url} is invalid: {_explain(error)}") from None
    status = response.status_code
    documented = operation.get("responses", {})
    if str(status) not in documented and "default" not in documented:
        if status in UNDOCUMENTED_STATUSES or status in (401, 403, 404, 413, 400):
            _check_error_envelope(path, response)
            return
        raise ContractError(f"{request.method} {path} answered {status}, which the document does not list "
                            f"(it lists {', '.join(documented)})")
    content = (documented.get(str(status)) or documented.get("default") or {}).get("content")
    if status >= 400:
        _check_error_envelope(path, response)
        return
    if not content:
        return
    try:
        document.api.validate_response(openapi_request, _OpenAPIResponse(response))
    except Exception as error:
        raise ContractError(f"response to {request.method} {request.url} ({status}) is invalid: "
                            f"{_explain(error)}") from None


def _check_error_envelope(path: str, response: httpx.Response) -> None:
    try:
        body = response.json()
    except ValueError:
        raise ContractError(f"error response {response.status_code} for {path} is not JSON") from None
    if path.startswith("/wiki/rest/"):
        if not {"statusCode", "message", "reason"} <= set(body):
            raise ContractError(f"v1 error body lacks statusCode/message/reason: {body}")
        return
    errors = body.get("errors") if isinstance(body, dict) else None
    if not (isinstance(errors, list) and errors and {"status", "code", "title"} <= set(errors[0])):
        raise ContractError(f"v2 error body is not {{'errors': [{{status, code, title, detail}}]}}: {body}")


def _explain(error: BaseException) -> str:
    parts = [str(error)]
    cause = error.__cause__
    while cause is not None:
        details = getattr(cause, "schema_errors", None)
        parts.append(str(cause) if not details else "; ".join(str(item.message) for item in details))
        cause = cause.__cause__
    return " <- ".join(parts)[:2000]


def iter_operations(prefix: str = "/wiki/api/v2") -> Iterator[tuple[str, str]]:
    """(METHOD, path template) for every operation of the v2 document, for coverage reports."""
    raw = json.loads((SPEC_DIR / "confluence-openapi-v2.json").read_text(encoding="utf-8"))
    for template, item in raw["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "delete"):
                yield method.upper(), prefix + template
