"""The clinic's seal on consent PDFs: a local certificate authority, a kiosk signing certificate,
a PAdES signature over the whole file, and the check that proves a file is one we sealed.

The seal is an organisational seal over the patient's handwritten mark and its manifestation
(both drawn into the page by ReportLab), not the patient's own digital signature. The signature
field is invisible (QtPdf cannot draw pyHanko's widget) and certifies the document with "no
changes allowed", so anything appended later is reported.

pyHanko costs about 0.3 s to import, so it is imported inside the functions that need it, never
at start-up. Certificates are made with ``cryptography`` (already a dependency of pyHanko).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from kiosk.private_files import create_private_file, private_folder

ROOT_CERT = "clinic-root.crt"
ROOT_KEY = "clinic-root.key"
SEAL_CERT = "kiosk-seal.crt"
SEAL_KEY = "kiosk-seal.key"
FIELD_NAME = "KioskSeal"
ROOT_YEARS = 20
SEAL_YEARS = 5


class SealError(RuntimeError):
    """No seal could be made (certificates missing or unreadable). Says what to do."""


@dataclass(frozen=True)
class Certificates:
    """Where the clinic's certificates and private keys live (the key folder, never the DB)."""

    folder: Path

    def path(self, name: str) -> Path:
        return self.folder / name

    def exist(self) -> bool:
        return all(self.path(n).is_file() for n in (ROOT_CERT, SEAL_CERT, SEAL_KEY))

    def missing_message(self) -> str:
        return (
            f"the clinic's seal certificates are not in {self.folder}. "
            "Run 'kiosk certs init' once on this computer (or copy them from the clinic's "
            "key backup), then start again."
        )


def _write_public(path: Path, data: bytes) -> None:
    with path.open("xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@dataclass(frozen=True)
class CertificateSummary:
    root_subject: str
    seal_subject: str
    seal_fingerprint: str  # SHA-256 of the seal certificate, as staff may compare it
    seal_not_after: dt.datetime


def init_certificates(
    certs: Certificates, *, clinic_name: str, kiosk_id: str, now: dt.datetime | None = None
) -> CertificateSummary:
    """Make the clinic's root CA and this kiosk's seal certificate (key usage includes
    non-repudiation, which pyHanko requires by default). Refuses to replace existing ones."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if any(certs.path(n).exists() for n in (ROOT_CERT, ROOT_KEY, SEAL_CERT, SEAL_KEY)):
        raise SealError(
            f"certificates already exist in {certs.folder}; they were not replaced "
            "(a new root would make every earlier seal unverifiable here)"
        )
    now = now or dt.datetime.now(dt.UTC)
    private_folder(certs.folder)
    # RSA for the widest reader support (older Acrobat, poppler/NSS); 3072 bits per NIST 2030+.
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    organisation = clinic_name[:64] or "Clinic"
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} consent root"[:64]),
        ]
    )
    seal_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Consent kiosk {kiosk_id}"[:64]),
        ]
    )
    start = now - dt.timedelta(minutes=5)  # a kiosk clock a little behind still accepts it
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    seal = (
        x509.CertificateBuilder()
        .subject_name(seal_name)
        .issuer_name(root_name)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * SEAL_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(seal_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    private = serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    create_private_file(certs.path(ROOT_KEY), root_key.private_bytes(pem, private, none))
    create_private_file(certs.path(SEAL_KEY), seal_key.private_bytes(pem, private, none))
    _write_public(certs.path(ROOT_CERT), root.public_bytes(pem))
    _write_public(certs.path(SEAL_CERT), seal.public_bytes(pem))
    return CertificateSummary(
        root_subject=root.subject.rfc4514_string(),
        seal_subject=seal.subject.rfc4514_string(),
        seal_fingerprint=seal.fingerprint(hashes.SHA256()).hex(),
        seal_not_after=seal.not_valid_after_utc,
    )


def seal_pdf(pdf: bytes, certs: Certificates, *, reason: str, location: str) -> bytes:
    """Certify ``pdf`` with the kiosk's seal: PAdES, SHA-256, DocMDP "no changes allowed",
    an invisible signature field over the whole file."""
    if not certs.exist():
        raise SealError(certs.missing_message())
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    try:
        signer = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
            str(certs.path(SEAL_KEY)),
            str(certs.path(SEAL_CERT)),
            ca_chain_files=(str(certs.path(ROOT_CERT)),),
        )
    except (OSError, ValueError) as exc:
        raise SealError(f"the seal certificate cannot be read ({type(exc).__name__})") from None
    if signer is None:
        raise SealError("the seal certificate or its key cannot be read")
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        reason=reason,
        location=location,
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    out = signers.sign_pdf(writer, meta, signer=signer)  # a new, invisible field
    sealed: bytes = out.getvalue()
    return sealed


@dataclass
class SealCheck:
    """What :func:`check_seal` found. ``ok`` only with no reasons."""

    sha256: str
    reasons: list[str] = field(default_factory=list)
    signer: str = ""
    signed_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.reasons


def _load_root(certs: Certificates) -> Any:
    from asn1crypto import pem, x509

    data = certs.path(ROOT_CERT).read_bytes()
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return x509.Certificate.load(data)


_DAMAGED: tuple[type[Exception], ...] = (
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    # pyHanko's reader asserts on a damaged catalogue and calls methods on a null object where a
    # dictionary was expected (one flipped bit near the end of a sealed file does either)
    AssertionError,
    AttributeError,
    ArithmeticError,  # decimal.InvalidOperation: a number in the file that is not one
    RecursionError,
)
"""What pyHanko raises, besides its PdfError, on a file too damaged to read: never a traceback."""


def check_seal(data: bytes, certs: Certificates) -> SealCheck:
    """Is ``data`` a PDF sealed by this clinic, untouched since, with the seal covering all of
    it? Every reason is in plain words; the file's SHA-256 is returned for the records check."""
    result = SealCheck(sha256=hashlib.sha256(data).hexdigest())
    if not data.startswith(b"%PDF-"):
        result.reasons.append("this is not a PDF file")
        return result
    if not certs.path(ROOT_CERT).is_file():
        result.reasons.append(certs.missing_message())
        return result
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    damaged: tuple[type[Exception], ...] = (PdfError, *_DAMAGED)
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except damaged as exc:
        result.reasons.append(
            f"the file is damaged or incomplete and cannot be read as a PDF ({type(exc).__name__})"
        )
        return result
    ours = [s for s in signatures if s.field_name == FIELD_NAME]
    if not ours:
        result.reasons.append(
            "the file has no kiosk seal: it was not sealed by this kiosk software"
        )
        return result
    if len(signatures) > 1:
        result.reasons.append("the file carries other signatures added after the kiosk's seal")
    root = _load_root(certs)
    context = ValidationContext(trust_roots=[root], allow_fetching=False)
    try:
        status = validate_pdf_signature(ours[0], context)
    except damaged as exc:
        result.reasons.append(
            f"the seal cannot be checked: the file is damaged ({type(exc).__name__})"
        )
        return result
    result.signer = status.signing_cert.subject.human_friendly if status.signing_cert else ""
    result.signed_at = status.signer_reported_dt
    if not status.intact:
        result.reasons.append(
            "the content changed after it was sealed (the fingerprint does not match)"
        )
    elif not status.valid:
        result.reasons.append("the seal's cryptographic signature is not valid")
    if status.intact and status.valid and not status.trusted:
        result.reasons.append("the seal was not made with this clinic's certificate")
    coverage = getattr(status.coverage, "name", str(status.coverage))
    if coverage != "ENTIRE_FILE":
        result.reasons.append(
            "something was added to the file after it was sealed (the seal does not cover "
            "the whole file)"
        )
    modification = getattr(status.modification_level, "name", str(status.modification_level))
    if coverage == "ENTIRE_FILE" and modification not in ("NONE",):
        result.reasons.append("the file was modified after it was sealed")
    if status.docmdp_ok is False and coverage == "ENTIRE_FILE":
        result.reasons.append("the file breaks the seal's 'no changes allowed' rule")
    return result
