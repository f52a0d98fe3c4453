"""Two-factor devices for tests: a confirmed TOTP device, the code it shows now, and a software
WebAuthn authenticator (ES256, "none" attestation) that answers ceremonies as a browser would."""

import hashlib
import json
import os

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from config.mfa import services


def totp_device(user, *, name: str = "Phone", confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name=name, confirmed=confirmed)


def code_now(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def recovery_codes(user) -> list[str]:
    return services.recovery_codes_generate(user=user)


class FormClient(Client):
    """A client with CSRF enforced that sends its current token, as a browser's page does (the
    token changes at each login)."""

    def __init__(self, **extra):
        super().__init__(enforce_csrf_checks=True, **extra)

    def request(self, **request):
        if "csrftoken" in self.cookies:
            request.setdefault("HTTP_X_CSRFTOKEN", self.cookies["csrftoken"].value)
        return super().request(**request)


def form_client(**extra) -> FormClient:
    client = FormClient(**extra)
    client.get("/admin/login/")
    return client


def password_step(client: Client, username: str, password: str):
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})


class SoftAuthenticator:
    """One ES256 credential, answering registration and authentication options."""

    def __init__(self, origin: str = "http://testserver", rp_id: str = "testserver"):
        self.origin, self.rp_id = origin, rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin}).encode()

    def _auth_data(self, *, attested: bool) -> bytes:
        self.sign_count += 1
        flags = 0x01 | 0x04 | (0x40 if attested else 0)  # user present, verified, attested data
        data = (
            hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags]) + self.sign_count.to_bytes(4, "big")
        )
        if attested:
            numbers = self.key.public_key().public_numbers()
            cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
            data += (
                bytes(16)
                + len(self.credential_id).to_bytes(2, "big")
                + self.credential_id
                + cbor2.dumps(cose)
            )
        return data

    def register(self, options: dict) -> dict:
        client_data = self._client_data("webauthn.create", options["challenge"])
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": self._auth_data(attested=True)})
        raw_id = bytes_to_base64url(self.credential_id)
        return {
            "id": raw_id,
            "rawId": raw_id,
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "attestationObject": bytes_to_base64url(attestation),
            },
            "clientExtensionResults": {},
        }

    def authenticate(self, options: dict) -> dict:
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = self._auth_data(attested=False)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        raw_id = bytes_to_base64url(self.credential_id)
        assert any(base64url_to_bytes(c["id"]) == self.credential_id for c in options["allowCredentials"])
        return {
            "id": raw_id,
            "rawId": raw_id,
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(auth_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": None,
            },
            "clientExtensionResults": {},
        }
