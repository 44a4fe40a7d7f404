"""The OpenAPI 3.1 description of the JSON API, served at /openapi.json (checked by the tests)."""
from __future__ import annotations

from typing import Any

from retrieval.query import MAX_LIMIT, MAX_URL_CHARS

VERSION = "1.0.0"

_TIMESTAMP = {"type": "string", "maxLength": 40,
              "description": "Wayback-style timestamp prefix, 4 to 20 digits "
                             "(`2026`, `20261122`, `20261122043000`, a capture's 20-digit timestamp), "
                             "or ISO 8601 (`2026-11-22T04:30:00Z`). Times are UTC.",
              "example": "20261122"}
_URL = {"type": "string", "maxLength": MAX_URL_CHARS, "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+",
        "description": "An absolute http(s) URL. Traditional-Chinese gateway mirrors "
                       "(`/gate/big5/<host>/…`, `big5.<host>`) resolve to the Simplified page.",
        "example": "http://www.zs.gov.cn/zwgk/202611/t20261120_1000.html"}


def _param(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Malformed input (the message names the parameter)",
            404: "Nothing archived for this URL (or at this time)",
            503: "The archive cannot be reached"}
    return {str(code): {"description": text[code], "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}} for code in codes}


_URL_PARAM = _param("url", _URL, "The page's URL (or, with match=prefix, a URL prefix).", required=True)
_AT_PARAM = _param("at", _TIMESTAMP, "Pick the capture closest to this time; the latest when absent.")
_NULLABLE_STR = {"type": ["string", "null"]}
_LINKS = {"type": "object", "additionalProperties": {"type": "string"},
          "properties": {name: {"type": "string"}
                         for name in ("document", "raw", "warc", "text_page", "raw_page")}}
_CAPTURE = {
    "type": "object",
    "required": ["url", "timestamp", "captured_at", "kind", "status", "title", "text_fingerprint",
                 "digest"],
    "properties": {
        "url": {**_NULLABLE_STR, "description": "The URL as captured (may be a mirror's)"},
        "timestamp": {"type": "string", "pattern": "^[0-9]{20}$",
                      "description": "The capture's timestamp, YYYYMMDDhhmmss + microseconds (UTC)"},
        "captured_at": {"type": "string", "format": "date-time"},
        "kind": {"type": "string", "description": "capture, revisit, removed, …"},
        "status": {"type": ["integer", "null"], "description": "HTTP status the server answered"},
        "title": _NULLABLE_STR,
        "text_fingerprint": {**_NULLABLE_STR,
                             "description": "SHA-1 of the clean text without whitespace: equal "
                                            "fingerprints, same text"},
        "digest": {"type": "string", "description": "First 12 hex digits of the body's SHA-1"},
        "content_type": _NULLABLE_STR,
        "links": _LINKS,
    },
}


def spec() -> dict[str, Any]:
    """The description as a JSON-ready dict."""
    download = {"description": "A download (Content-Disposition: attachment)",
                "headers": {"Content-Disposition": {"schema": {"type": "string"}},
                            "Memento-Datetime": {"schema": {"type": "string"}}},
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "govarchive retrieval", "version": VERSION,
                 "description": "Read-only retrieval of archived government pages by URL and time, "
                                "after the Wayback CDX server: list captures, closest capture to a time, "
                                "date ranges, prefix queries; the clean text and metadata of a capture; "
                                "its raw bytes or WARC records."},
        "paths": {
            "/api/v1/captures": {"get": {
                "operationId": "listCaptures",
                "summary": "Captures of a URL, newest first (by URL, then newest first, for a prefix)",
                "parameters": [
                    _URL_PARAM,
                    _param("match", {"type": "string", "enum": ["exact", "prefix"], "default": "exact"},
                           "exact: this URL; prefix: every URL starting with it"),
                    _param("from", _TIMESTAMP, "Only captures at or after this time (inclusive)"),
                    _param("to", _TIMESTAMP, "Only captures at or before this time (inclusive: "
                                             "`to=2026` includes all of 2026)"),
                    _param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                     "default": 100}, "Captures per page"),
                    _param("cursor", {"type": "string", "maxLength": 4096},
                           "`next_cursor` of the previous page"),
                ],
                "responses": {"200": {"description": "One page of captures", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/CaptureList"}}}},
                    **_errors(400, 503)},
            }},
            "/api/v1/document": {"get": {
                "operationId": "getDocument",
                "summary": "One capture's document: clean text and metadata (latest, or closest to `at`)",
                "parameters": [_URL_PARAM, _AT_PARAM],
                "responses": {"200": {"description": "The archived JSON document",
                                      "headers": {"Memento-Datetime": {"schema": {"type": "string"}}},
                                      "content": {"application/json": {"schema": {
                                          "$ref": "#/components/schemas/Document"}}}},
                              **_errors(400, 404, 503)},
            }},
            "/api/v1/raw": {"get": {
                "operationId": "getRaw",
                "summary": "The raw capture as a download: the body with its original content type, "
                           "or the WARC request/response records (gzipped)",
                "parameters": [_URL_PARAM, _AT_PARAM,
                               _param("format", {"type": "string", "enum": ["body", "warc"],
                                                 "default": "body"}, "body or warc")],
                "responses": {"200": download, **_errors(400, 404, 503)},
            }},
            "/api/v1/diff": {"get": {
                "operationId": "diffCaptures",
                "summary": "Two captures of a URL compared: metadata changes and a paragraph diff",
                "parameters": [_URL_PARAM,
                               _param("a", _TIMESTAMP, "The older side (closest capture)", True),
                               _param("b", _TIMESTAMP, "The newer side (closest capture)", True)],
                "responses": {"200": {"description": "The comparison", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Diff"}}}}, **_errors(400, 404, 503)},
            }},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"],
                      "properties": {"error": {"type": "string"}}},
            "Capture": _CAPTURE,
            "CaptureList": {
                "type": "object", "required": ["url", "match", "total", "count", "captures",
                                               "next_cursor", "next"],
                "properties": {
                    "url": {"type": "string"}, "match": {"type": "string", "enum": ["exact", "prefix"]},
                    "total": {"type": ["integer", "null"],
                              "description": "Captures matching an exact-URL query (null for prefix)"},
                    "count": {"type": "integer"},
                    "captures": {"type": "array", "items": {"$ref": "#/components/schemas/Capture"}},
                    "next_cursor": _NULLABLE_STR,
                    "next": {**_NULLABLE_STR, "description": "The next page's path and query"}}},
            "Document": {
                "type": "object", "additionalProperties": True,
                "required": ["url", "captured_at", "kind", "status", "timestamp", "links"],
                "properties": {
                    "url": {"type": "string"}, "canonical_url": {"type": "string"},
                    "variant": _NULLABLE_STR, "captured_at": {"type": "string"},
                    "kind": {"type": "string"}, "status": {"type": ["integer", "null"]},
                    "timestamp": {"type": "string", "pattern": "^[0-9]{20}$"},
                    "title": _NULLABLE_STR, "text": _NULLABLE_STR, "published_at": _NULLABLE_STR,
                    "source": _NULLABLE_STR, "editor": _NULLABLE_STR,
                    "gkml": {"type": ["object", "null"], "description": "信息公开 fields: index_no, "
                             "publisher, doc_number (文号), written_at, topic, validity"},
                    "text_fingerprint": _NULLABLE_STR, "raw_key": {"type": "string"},
                    "links": _LINKS}},
            "Diff": {
                "type": "object", "required": ["url", "a", "b", "counts", "fields", "lines", "unified"],
                "properties": {
                    "url": {"type": "string"},
                    "a": {"$ref": "#/components/schemas/Capture"},
                    "b": {"$ref": "#/components/schemas/Capture"},
                    "counts": {"type": "object", "required": ["added", "removed", "unchanged"],
                               "properties": {k: {"type": "integer"}
                                              for k in ("added", "removed", "unchanged")}},
                    "fields": {"type": "array", "items": {
                        "type": "object", "required": ["field", "old", "new"],
                        "properties": {"field": {"type": "string"}, "old": {}, "new": {}}}},
                    "lines": {"type": "array", "items": {
                        "type": "object", "required": ["op", "text"],
                        "properties": {"op": {"type": "string", "enum": ["=", "-", "+"]},
                                       "text": {"type": "string"}}}},
                    "unified": {"type": "string"}}},
        }},
    }
