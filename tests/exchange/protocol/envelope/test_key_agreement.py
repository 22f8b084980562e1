"""The envelope's own ECDH-ES+A256KW model: what it writes, and what it leaves alone."""

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from joserfc import jwe as jrfc_jwe
from joserfc.jwa import ECDHESAlgKeyAgreement
from joserfc.jwe import JWERegistry
from joserfc.jwk import OKPKey

from exchange.protocol.envelope import jose
from exchange.protocol.envelope.key_agreement import REGISTRY
from keys import b64url_decode


def test_joserfcs_process_wide_registry_keeps_its_own_model() -> None:
    standard = JWERegistry(algorithms=["ECDH-ES+A256KW", "A256GCM"]).get_alg("ECDH-ES+A256KW")
    assert type(standard) is ECDHESAlgKeyAgreement
    assert type(REGISTRY.get_alg("ECDH-ES+A256KW")) is not ECDHESAlgKeyAgreement


def test_every_recipient_gets_its_own_ephemeral_key_and_joserfc_opens_each() -> None:
    recipients = [X25519PrivateKey.generate() for _ in range(3)]
    document = jose.encrypt(b"the signed record", [key.public_key() for key in recipients])
    epks = [entry["header"]["epk"] for entry in document["recipients"]]
    assert [sorted(epk) for epk in epks] == [["crv", "kty", "x"]] * 3
    assert {(epk["kty"], epk["crv"]) for epk in epks} == {("OKP", "X25519")}
    assert len({epk["x"] for epk in epks}) == 3
    assert all(len(b64url_decode(epk["x"])) == 32 for epk in epks)
    stock = JWERegistry(algorithms=["ECDH-ES+A256KW", "A256GCM"], verify_all_recipients=False)
    for key in recipients:
        opened = jrfc_jwe.decrypt_json(document, OKPKey.import_key(key), registry=stock)
        assert opened.plaintext == b"the signed record"
