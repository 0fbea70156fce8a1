"""The document of the connection's tenant as one caller sees it.

Documents are built only when something they describe changes, and kept in a bounded per-process
LRU keyed by (schema, metadata stamp, language, what the caller may use):

- the metadata stamp, drawn afresh with every definition change (metadata/registry.py), so a
  changed field or object is in the very next document, and a rolled-back change never is;
- what the caller may use: the objects they may read and, per object, the fields they may read
  and write and the operations their role allows. Callers with the same rights (every admin,
  everyone of one role without field rules) share one document; field names are not secret, but
  a document listing only what a caller can use is the one their generated client should have.
"""

import hashlib
import json
from dataclasses import dataclass

from django.db import connection
from django.utils import translation

from api.openapi.objects import expand, object_views
from api.openapi.static import static_document
from crm_platform.lru import BoundedCache
from metadata import registry

CACHED_DOCUMENTS = 32


@dataclass(frozen=True)
class Document:
    body: bytes  # JSON, keys sorted, so equal documents are equal bytes
    etag: str


_cache = BoundedCache(CACHED_DOCUMENTS)


def tenant_document(user) -> Document:
    """The current tenant's document for `user`, from the cache when nothing it says changed."""
    snapshot = registry.snapshot()
    stamp = getattr(snapshot, "stamp", None)
    cacheable = True
    if stamp is None:
        # A snapshot that does not carry its stamp: read it, and cache only if it is the
        # snapshot's version (a change may have committed since the snapshot was read).
        version, stamp = registry.current_version()
        cacheable = snapshot.version == version
    views = object_views(user)
    rights = hashlib.blake2b(repr([view.signature() for view in views]).encode(), digest_size=16).digest()
    key = (connection.schema_name, stamp, translation.get_language(), rights)
    found = _cache.get(key)
    if found is not None:
        return found
    document = _rendered(expand(static_document(), views))
    if cacheable:
        _cache.put(key, document)
    return document


def tenant_schema(request) -> dict:
    """The OpenAPI document of the request's tenant, as the request's user may use it."""
    return json.loads(tenant_document(request.user).body)


def _rendered(document: dict) -> Document:
    body = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return Document(body, '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"')
