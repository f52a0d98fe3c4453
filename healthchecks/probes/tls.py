"""Read when a server's TLS certificate expires, on its own short connection.

The certificate is fetched without verification (a self-signed or already-expired one must
still report its date) and its notAfter is read from the DER with a few lines of ASN.1
walking. Whether the certificate names the host (tls probes) is read with cryptography's
x509 parser: subjectAltName matching has rules (wildcards, IP entries) not worth writing again.
"""

import ipaddress
import socket
import ssl
from datetime import UTC, datetime

from cryptography import x509


class CertificateError(Exception):
    pass


def _element(data: bytes, start: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `start`."""
    if start + 2 > len(data):
        raise CertificateError("truncated certificate")
    tag, length = data[start], data[start + 1]
    start += 2
    if length & 0x80:
        size = length & 0x7F
        if not 0 < size <= 4:
            raise CertificateError("bad DER length")
        length = int.from_bytes(data[start : start + size], "big")
        start += size
    end = start + length
    if end > len(data):
        raise CertificateError("truncated certificate")
    return tag, start, end


def _time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii").rstrip("Z")
    if tag == 0x17:  # UTCTime: two-digit year, 50-99 → 19xx (RFC 5280)
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18:  # GeneralizedTime
        raise CertificateError("notAfter is not a time")
    return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def not_after(der: bytes) -> datetime:
    """The expiry of a DER certificate: Certificate → tbsCertificate → validity → notAfter."""
    _, cert_start, _ = _element(der, 0)
    _, position, _ = _element(der, cert_start)  # tbsCertificate
    tag, _, end = _element(der, position)
    if tag == 0xA0:  # optional explicit version
        position = end
    for _skipped in ("serialNumber", "signature", "issuer"):
        _, _, position = _element(der, position)
    tag, validity, _ = _element(der, position)
    if tag != 0x30:
        raise CertificateError("no validity in certificate")
    _, _, after_not_before = _element(der, validity)
    tag, start, end = _element(der, after_not_before)
    return _time(tag, der[start:end])


def peer_certificate(host: str, port: int, *, timeout: float) -> bytes:
    """The DER certificate the server presents, fetched without verification."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        # Connected under the probe's deadline (core.deadline watches it), so the handshake too
        # ends in time however slow the server.
        with (
            socket.create_connection((host, port), timeout=timeout) as sock,
            context.wrap_socket(sock, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateError(f"{type(exc).__name__}: {exc}"[:300]) from exc
    if not der:
        raise CertificateError("the server sent no certificate")
    return der


def certificate_expiry(host: str, port: int, *, timeout: float) -> datetime:
    der = peer_certificate(host, port, timeout=timeout)
    try:
        return not_after(der)
    except (ValueError, IndexError, UnicodeDecodeError) as exc:
        raise CertificateError(f"unreadable certificate: {exc}") from exc


def _name_matches(pattern: str, host: str) -> bool:
    """RFC 6125: a wildcard stands for the whole left-most label only (*.example.com)."""
    pattern, host = pattern.rstrip(".").lower(), host.rstrip(".").lower()
    if pattern.startswith("*."):
        return "." in host and host.split(".", 1)[1] == pattern[2:]
    return pattern == host


def hostname_mismatch(der: bytes, host: str) -> str:
    """Why the certificate is not for `host` ("" when it is): its subjectAltName names (DNS and
    IP), or its common name when it has none, the way browsers no longer but many servers do."""
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CertificateError(f"unreadable certificate: {exc}") from exc
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = names.get_values_for_type(x509.DNSName)
        addresses = names.get_values_for_type(x509.IPAddress)
    except x509.ExtensionNotFound:
        common = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        dns_names, addresses = [str(attribute.value) for attribute in common], []
        if address is not None:
            addresses = [ipaddress.ip_address(n) for n in dns_names if _is_address(n)]
    if address is not None:
        if address in addresses:
            return ""
    elif any(_name_matches(name, host) for name in dns_names):
        return ""
    listed = ", ".join([*dns_names, *(str(a) for a in addresses)]) or "no names"
    return f"certificate is not for {host} (it names {listed})"[:500]


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
