"""S3's REST/XML bodies: documents built from nested (tag, content) pairs, request bodies parsed
into elements without their namespace, and the two time formats S3 answers with."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from email.utils import formatdate
from typing import TypeAlias

from orchestrator.services.s3.errors import MalformedXML, S3Error

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# An element's content: text, a number, a flag, or its children as (tag, content) pairs.
Content: TypeAlias = "str | int | bool | None | Iterable[tuple[str, Content]]"
Element = ElementTree.Element


def document(tag: str, content: Content, namespace: bool = True) -> bytes:
    """A whole XML response, e.g. `document("CopyObjectResult", [("ETag", '"…"')])`."""
    root = ElementTree.Element(tag, {"xmlns": NAMESPACE} if namespace else {})
    _fill(root, content)
    return DECLARATION + ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)


def _fill(element: Element, content: Content) -> None:
    if content is None:
        return
    if isinstance(content, bool):
        element.text = "true" if content else "false"
    elif isinstance(content, str | int):
        element.text = str(content)
    else:
        for tag, child in content:
            _fill(ElementTree.SubElement(element, tag), child)


def error_document(error: S3Error, resource: str, request_id: str, host_id: str) -> bytes:
    """`<Error><Code>…</Code><Message>…</Message>…<RequestId>…</RequestId></Error>`."""
    details = [(name, str(value)) for name, value in error.extra.items()]
    return document("Error", [("Code", error.code), ("Message", error.message), *details,
                              ("Resource", resource), ("RequestId", request_id),
                              ("HostId", host_id)], namespace=False)


def parse(body: bytes, root: str) -> Element:
    """A request body whose root element must be `root`; tags lose their namespace.
    Anything else (not XML, a DTD, another root) is MalformedXML."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise MalformedXML()
    try:
        element = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise MalformedXML() from None
    for node in element.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.split("}", 1)[1]
    if element.tag != root:
        raise MalformedXML()
    return element


def text(element: Element, tag: str, default: str | None = None) -> str | None:
    """The text of the first child named `tag` ("" when it is empty), else `default`."""
    child = element.find(tag)
    if child is None:
        return default
    return child.text or ""


def iso_time(epoch: float) -> str:
    """Listings' timestamps: `2009-10-12T17:50:30.000Z`."""
    whole = int(epoch)
    millis = int(round((epoch - whole) * 1000)) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def http_date(epoch: float) -> str:
    """Headers' timestamps (RFC 1123): `Mon, 12 Oct 2009 17:50:30 GMT`."""
    return formatdate(epoch, usegmt=True)
