"""An HTTP API's JWT authorizer end to end: tokens signed by a key of a JWKS that an issuer
serves on 127.0.0.1 (found through its OpenID discovery document), checked by the stage."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import Deploy, Ripple

ECHO = """
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""
AUDIENCE = "ripple-tests"


class Issuer:
    """An OpenID issuer on 127.0.0.1: its discovery document, its JWKS, and its tokens."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**public, "kid": "key-1", "alg": "RS256", "use": "sig"}]}

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": self.url, "aud": AUDIENCE, "sub": "user-7", "iat": now,
                   "exp": now + 300, **claims}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": "key-1"})


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    documents: dict[str, Any] = {}

    class Serve(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            found = documents.get(self.path)
            body = json.dumps(found).encode()
            self.send_response(200 if found else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Serve)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    issuer = Issuer(f"http://127.0.0.1:{server.server_address[1]}")
    documents["/.well-known/openid-configuration"] = {
        "issuer": issuer.url, "jwks_uri": f"{issuer.url}/jwks.json"}
    documents["/jwks.json"] = issuer.jwks
    yield issuer
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_jwt_authorizer_checks_signature_claims_and_scopes(ripple: Ripple, deploy: Deploy,
                                                             issuer: Issuer) -> None:
    # Given an HTTP API route guarded by a JWT authorizer, and one also needing a scope
    name = f"jwt-{uuid.uuid4().hex[:8]}"
    jwt_config = {"issuer": issuer.url, "audience": [AUDIENCE]}
    deploy(ECHO, name=name, events=[
        {"http": {"method": "GET", "path": f"/{name}/open",
                  "auth": {"authorizer": {"jwt": jwt_config}}}},
        {"http": {"method": "GET", "path": f"/{name}/admin",
                  "auth": {"authorizer": {"jwt": jwt_config, "scopes": ["admin"]}}}}])

    def call(path: str, token: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{ripple.stage_url}/{name}/{path}", headers=headers, timeout=60)

    # When a valid token comes: the handler runs and sees its claims and scopes
    answer = call("open", issuer.token(scope="read write"))
    assert answer.status_code == 200, answer.text
    found = answer.json()["requestContext"]["authorizer"]["jwt"]
    assert (found["claims"]["sub"], found["claims"]["aud"]) == ("user-7", AUDIENCE)
    assert found["scopes"] == ["read", "write"]
    # When there is no token, or it is expired, for another audience, or signed by
    # another key: the HTTP API's 401
    stranger = Issuer(issuer.url)
    for token in (None, issuer.token(exp=int(time.time()) - 60), issuer.token(aud="other"),
                  stranger.token(), "not-a-jwt"):
        answer = call("open", token)
        assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})
    # When the route needs a scope the token lacks: 403
    answer = call("admin", issuer.token(scope="read"))
    assert (answer.status_code, answer.json()) == (403, {"message": "Forbidden"})
    assert call("admin", issuer.token(scope="admin")).status_code == 200
