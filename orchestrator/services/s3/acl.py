"""Canned ACLs: accepted on buckets and objects (`x-amz-acl`, PutBucketAcl, PutObjectAcl),
kept, and answered by GetBucketAcl/GetObjectAcl as the grants S3 derives from them. ripple
enforces no access control: every caller is the owner."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from orchestrator.services.s3.buckets import XML, owner
from orchestrator.services.s3.context import S3Context
from orchestrator.services.s3.errors import NotImplementedOperation
from orchestrator.services.s3.headers import canned_acl
from orchestrator.services.s3.records import ObjectMeta
from orchestrator.services.s3.requests import S3Request, S3Response
from orchestrator.services.s3.xml import DECLARATION, NAMESPACE

XSI = "http://www.w3.org/2001/XMLSchema-instance"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
# The grants each canned ACL adds to the owner's FULL_CONTROL.
CANNED_GRANTS: dict[str, list[tuple[str, str]]] = {
    "public-read": [(ALL_USERS, "READ")],
    "public-read-write": [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")],
    "authenticated-read": [(AUTHENTICATED_USERS, "READ")],
    "log-delivery-write": [(LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")],
}


def acl_document(acl: str) -> bytes:
    """`AccessControlPolicy`: the owner's FULL_CONTROL and the canned ACL's grants; each
    grantee carries its `xsi:type`, as on S3."""
    ElementTree.register_namespace("xsi", XSI)
    root = ElementTree.Element("AccessControlPolicy", {"xmlns": NAMESPACE})
    owner_element = ElementTree.SubElement(root, "Owner")
    for tag, value in owner():
        ElementTree.SubElement(owner_element, tag).text = str(value)
    grants = ElementTree.SubElement(root, "AccessControlList")
    everyone = [("CanonicalUser", "", "FULL_CONTROL")] + [
        ("Group", uri, permission) for uri, permission in CANNED_GRANTS.get(acl, [])]
    for kind, uri, permission in everyone:
        grant = ElementTree.SubElement(grants, "Grant")
        grantee = ElementTree.SubElement(grant, "Grantee", {f"{{{XSI}}}type": kind})
        if uri:
            ElementTree.SubElement(grantee, "URI").text = uri
        else:
            for tag, value in owner():
                ElementTree.SubElement(grantee, tag).text = str(value)
        ElementTree.SubElement(grant, "Permission").text = permission
    return DECLARATION + ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)


def _requested_acl(request: S3Request) -> str:
    if request.body.strip() and not request.header("x-amz-acl"):
        raise NotImplementedOperation("ripple's S3 accepts canned ACLs (x-amz-acl) only, not "
                                      "an AccessControlPolicy document")
    return canned_acl(request.headers)


def put_bucket_acl(context: S3Context, request: S3Request) -> S3Response:
    context.store.bucket(request.bucket)
    context.store.set_bucket_field(request.bucket, "acl", _requested_acl(request))
    return S3Response(200)


def get_bucket_acl(context: S3Context, request: S3Request) -> S3Response:
    return S3Response(200, XML, acl_document(context.store.bucket(request.bucket).acl))


def put_object_acl(context: S3Context, request: S3Request) -> S3Response:
    acl = _requested_acl(request)

    def change(meta: ObjectMeta) -> None:
        meta.acl = acl

    context.store.update_meta(request.bucket, request.key, request.query.get("versionId"),
                              change)
    return S3Response(200)


def get_object_acl(context: S3Context, request: S3Request) -> S3Response:
    meta = context.store.head_object(request.bucket, request.key,
                                     request.query.get("versionId"))
    return S3Response(200, XML, acl_document(meta.acl))
