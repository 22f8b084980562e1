"""JOSE attacks end to end, through HTTP: the server's answer, and what recipients detect.

The envelope's tamper cases are unit-tested in tests/exchange/protocol/envelope/test_policy.py, and
sixteen of them go through POST /v1/cases in tests/exchange/api/test_problems.py::
test_every_envelope_refusal_is_its_own_problem (log size checked). Here every one of
those, plus the header and JWE cases that only the unit tests had, is posted to both
endpoints with the whole database checked unchanged; then key substitution, a sender
showing different recipients different records, and surreptitious forwarding.
"""

import copy
import json
from typing import Any

import pytest

from exchange.protocol import envelope as env
from exchange.protocol.envelope import errors
from exchange.protocol.envelope.canonical import canonical, sha256_b64url
from exchange.protocol.envelope.jose import STATEMENT_TYP, encrypt, sign_compact
from keys import b64url_encode
from tests.exchange.api.support import assert_problem, created, receipt, submit
from tests.exchange.api.test_problems import envelope_cases
from tests.exchange.protocol.envelope import forge
from tests.helpers.world import Official, World, statement_of
from tests.security.support import signed_in, unchanged


def more_cases(world: World) -> dict[str, tuple[int, str, Any]]:
    """Tamper cases of the unit tests not posted by test_problems, with their answer."""
    officer = world.officials["officer-1"]
    key = officer.identity.signing_key
    sealed = world.seal_case(officer, "clipshare")
    _, payload, _ = sealed.statement.split(".")

    def header(**changes: Any) -> env.Envelope:
        protected = {"alg": "Ed25519", "kid": officer.identity.signing_kid, "typ": STATEMENT_TYP}
        protected.update(changes)
        signing_input = f"{b64url_encode(json.dumps(protected).encode())}.{payload}"
        signature = b64url_encode(key.sign(signing_input.encode()))
        return env.Envelope(f"{signing_input}.{signature}", sealed.jwe)

    def jwe_changed(change: Any) -> env.Envelope:
        jwe = copy.deepcopy(sealed.jwe)
        change(jwe)
        return forge.resign(sealed, key, jwe=jwe)

    def protected(jwe: dict[str, Any], value: dict[str, Any]) -> None:
        jwe["protected"] = b64url_encode(json.dumps(value).encode())

    swapped = copy.deepcopy(sealed.jwe)
    first, second = swapped["recipients"][:2]
    first["header"]["kid"], second["header"]["kid"] = (
        second["header"]["kid"],
        first["header"]["kid"],
    )
    cases: dict[str, tuple[int, str, Any]] = {
        f"statement header {name}": (422, "envelope-forbidden-header", header(**{name: "x"}))
        for name in ("zip", "crit", "b64", "x5u", "jwk", "x5c")
    }
    cases |= {
        f"alg {alg}": (422, "envelope-unsupported-algorithm", header(alg=alg))
        for alg in ("EdDSA", "RS256", "Ed448")
    }
    cases |= {
        "zip in the jwe": (
            422,
            "envelope-forbidden-header",
            jwe_changed(
                lambda j: protected(
                    j, {"cty": "hotline-record+jws", "enc": "A256GCM", "zip": "DEF"}
                )
            ),
        ),
        "A128CBC-HS256 jwe": (
            422,
            "envelope-unsupported-algorithm",
            jwe_changed(
                lambda j: protected(j, {"cty": "hotline-record+jws", "enc": "A128CBC-HS256"})
            ),
        ),
        "recipient kids swapped": (
            422,
            "envelope-digest-mismatch",
            env.Envelope(sealed.statement, swapped),
        ),
        "ciphertext bit flipped": (
            422,
            "envelope-digest-mismatch",
            env.Envelope(
                sealed.statement,
                {**sealed.jwe, "ciphertext": forge.flip_bit(sealed.jwe["ciphertext"], 9)},
            ),
        ),
        "two signatures": (
            422,
            "validation-failed",
            {"statement": {"payload": payload, "signatures": [{}, {}]}, "jwe": sealed.jwe},
        ),
        "four segments": (
            422,
            "validation-failed",
            env.Envelope(sealed.statement + ".AAAA", sealed.jwe),
        ),
        "padded base64": (
            422,
            "validation-failed",
            env.Envelope(sealed.statement + "==", sealed.jwe),
        ),
        "recipient alg ECDH-ES": (
            422,
            "validation-failed",
            jwe_changed(lambda j: j["recipients"][0]["header"].update(alg="ECDH-ES")),
        ),
        "recipient jku": (
            422,
            "validation-failed",
            jwe_changed(lambda j: j["recipients"][0]["header"].update(jku="https://evil/")),
        ),
    }
    return cases


def _document(sealed: Any) -> Any:
    return sealed.to_json() if isinstance(sealed, env.Envelope) else sealed


def test_every_tamper_case_on_submission_stores_nothing(world):
    officer = signed_in(world).officials["officer-1"]
    cases = {name: (422, slug, sealed) for name, (slug, sealed) in envelope_cases(world).items()}
    cases |= more_cases(world)
    for name, (status, slug, sealed) in cases.items():
        with unchanged(world):
            body = assert_problem(officer.post("/v1/cases", _document(sealed)), status, slug)
        assert body["detail"], name


def test_every_tamper_case_on_a_handoff_stores_nothing(world):
    """The same cases, re-pointed at a case that exists, through the handoffs endpoint:
    the envelope checks come before anything about the case."""
    officer = world.officials["officer-1"]
    _, statement = submit(world, officer)
    path = f"/v1/cases/{statement['case_id']}/handoffs"
    signed_in(world)
    cases = {name: (422, slug, sealed) for name, (slug, sealed) in envelope_cases(world).items()}
    cases |= more_cases(world)
    for name, (status, slug, sealed) in cases.items():
        with unchanged(world):
            body = assert_problem(officer.post(path, _document(sealed)), status, slug)
        assert body["detail"], name


# --- key substitution ------------------------------------------------------------------------


def _signed_as(world: World, signer: Official, claimed: Official, kid: str) -> env.Envelope:
    """A case record of `claimed`, whose statement names `kid` but is signed by `signer`."""
    record = world.case_record(claimed, "clipshare")
    sealed = env.seal(record, claimed.identity.signing_key, world.keys_of("clipshare", claimed.org))
    payload = statement_of(sealed)
    payload["sender"]["kid"] = kid
    header = {"alg": "Ed25519", "kid": kid, "typ": STATEMENT_TYP}
    signing_input = (
        f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(canonical(payload))}"
    )
    signature = b64url_encode(signer.identity.signing_key.sign(signing_input.encode()))
    return env.Envelope(f"{signing_input}.{signature}", sealed.jwe)


def test_key_substitution_is_refused(world):
    officer, colleague = world.officials["officer-1"], world.officials["officer-2"]
    reviewer = world.officials["cs-reviewer"]
    signed_in(world)
    attempts = {
        # A valid signature by another official's key (of another organisation).
        "a platform official's key": (
            _signed_as(world, reviewer, officer, reviewer.identity.signing_kid),
            "envelope-unknown-signer-key",
        ),
        # A colleague's key, the kid saying so: not one of the caller's keys.
        "a colleague's key": (
            _signed_as(world, colleague, officer, colleague.identity.signing_kid),
            "envelope-unknown-signer-key",
        ),
        # The caller's kid, signed with the colleague's key: the signature fails.
        "the caller's kid, another key": (
            _signed_as(world, colleague, officer, officer.identity.signing_kid),
            "envelope-bad-signature",
        ),
        # Everything the colleague's, posted with the caller's token.
        "another official's whole envelope": (
            world.seal_case(colleague, "clipshare"),
            "envelope-unknown-signer-key",
        ),
    }
    for name, (sealed, slug) in attempts.items():
        with unchanged(world):
            body = assert_problem(officer.send(sealed), 422, slug)
        assert body["detail"], name


# --- different records for different recipients -----------------------------------------------


def test_a_sender_cannot_show_recipients_different_records(world):
    """The malicious agency encrypts record A for everyone but cs-reviewer, and wraps a
    different content key for cs-reviewer, under which it encrypted record B. One JWE has
    one ciphertext: the server cannot tell (it never decrypts) and accepts; the lead opens
    record A; cs-reviewer's decryption fails. A receipt binding record B, what the sender
    meant cs-reviewer to see, is refused; the receipt binding what was signed passes."""
    officer, lead = world.officials["officer-1"], world.officials["cs-lead"]
    reviewer = world.officials["cs-reviewer"]
    record_a = world.case_record(officer, "clipshare")
    record_b = {**record_a, "body": {**record_a["body"], "summary": "Nothing to see here."}}
    inner_a = forge.sign_record(
        {"typ": "hotline.record/v1", **record_a}, officer.identity.signing_key
    )
    inner_b = forge.sign_record(
        {"typ": "hotline.record/v1", **record_b}, officer.identity.signing_key
    )
    others = [
        p.identity.encryption_public_key for p in (officer, world.officials["officer-2"], lead)
    ]
    jwe = encrypt(inner_a.encode("ascii"), others)
    jwe_b = encrypt(inner_b.encode("ascii"), [reviewer.identity.encryption_public_key])
    jwe["recipients"].append(jwe_b["recipients"][0])
    honest = env.seal(
        record_a, officer.identity.signing_key, world.keys_of("clipshare", officer.org)
    )
    payload = statement_of(honest)
    payload["record_sha256"] = sha256_b64url(inner_a.encode("ascii"))
    spliced = forge.resign(honest, officer.identity.signing_key, payload, jwe)
    answer = created(officer.send(spliced))  # the server cannot see inside

    document = spliced.to_json()
    opened = lead.open(document)
    assert opened.record_sha256 == payload["record_sha256"]
    with pytest.raises(errors.DecryptionFailedError):
        reviewer.open(document)

    fooled = world.reply(
        reviewer,
        answer["case_id"],
        "receipt",
        answer["handoff_id"],
        "metro-police",
        meta={
            "handoff_id": answer["handoff_id"],
            "record_sha256": sha256_b64url(inner_b.encode("ascii")),
            "received_at": payload["issued_at"],
        },
    )
    signed_in(world)
    with unchanged(world):
        body = assert_problem(reviewer.send(fooled), 422, "receipt-digest-mismatch")
    assert body["expected"] == payload["record_sha256"]
    created(lead.send(receipt(world, lead, spliced, "metro-police")))


# --- surreptitious forwarding --------------------------------------------------------------------


def test_a_platform_cannot_forward_an_agencys_record_to_another_platform(world):
    """cs-reviewer decrypts an agency's case and re-encrypts the agency-signed record for
    chatter. The server refuses every way of sending it; and a chatter official handed
    the envelope out of band sees it is not what it claims to be."""
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, statement = submit(world, officer)
    record_jws = reviewer.open({"statement": case.statement, "jwe": case.jwe}).record_jws
    chatter = world.keys_of("chatter", "clipshare")
    forwarded_jwe = encrypt(record_jws.encode("ascii"), chatter)

    # Under the forwarder's own statement, as a new case of their own.
    own = statement_of(case)
    own["sender"] = reviewer.sender()
    own["to"] = ["chatter"]
    own["case_id"] = own["handoff_id"] = "0" * 8 + own["case_id"][8:]
    own["jwe_sha256"] = sha256_b64url(canonical(forwarded_jwe))
    as_own = env.Envelope(
        sign_compact(canonical(own), reviewer.identity.signing_key, STATEMENT_TYP), forwarded_jwe
    )
    # Under the agency's own statement, with the new JWE.
    as_agency = env.Envelope(case.statement, forwarded_jwe)
    # Claiming to be the agency, signed by the forwarder.
    claimed = {**own, "sender": officer.sender() | {"kid": reviewer.identity.signing_kid}}
    as_claimed = env.Envelope(
        sign_compact(canonical(claimed), reviewer.identity.signing_key, STATEMENT_TYP),
        forwarded_jwe,
    )
    _, other = submit(world, world.officials["caseworker-1"], to="chatter")
    signed_in(world)
    lead = world.officials["ch-lead"]
    with unchanged(world):
        assert_problem(reviewer.send(as_own), 403, "forbidden")  # platforms submit no cases
        assert_problem(reviewer.send(as_agency), 403, "forbidden")
        # Through the agency's own account it would still not be the agency's statement.
        assert_problem(officer.send(as_agency), 422, "envelope-digest-mismatch")
        # Into the case the forwarder may act on, addressed to chatter.
        path = f"/v1/cases/{statement['case_id']}/handoffs"
        assert_problem(reviewer.post(path, as_claimed.to_json()), 403, "sender-mismatch")
        # Into a chatter case: not theirs to see.
        other_path = f"/v1/cases/{other['case_id']}/handoffs"
        reply = {**own, "kind": "supplement", "case_id": other["case_id"], "meta": {}}
        reply["in_reply_to"] = other["handoff_id"]
        reply["handoff_id"] = "1" * 8 + own["handoff_id"][8:]
        supplement = env.Envelope(
            sign_compact(canonical(reply), reviewer.identity.signing_key, STATEMENT_TYP),
            forwarded_jwe,
        )
        assert_problem(reviewer.post(other_path, supplement.to_json()), 404, "not-found")

    # Out of band, the chatter lead detects the forgery on opening.
    keys = {**world.signing_keys()}
    with pytest.raises(errors.SignerMismatchError):
        env.open(as_own, lead.identity.encryption_key, keys, "chatter")
    with pytest.raises(errors.DigestMismatchError):
        env.open(as_agency, lead.identity.encryption_key, keys, "chatter")
