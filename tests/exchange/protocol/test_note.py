"""exchange.protocol.note against the Go implementation's vectors and the C2SP signed-note rules."""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.protocol import note
from exchange.protocol.note import (
    AmbiguousKeyError,
    MalformedKeyError,
    MalformedNoteError,
    NoteError,
    NoteSignatureError,
    NoteSigner,
    UnknownKeyError,
    parse_verifier_key,
    sign,
    verifier_key,
    verify,
)
from exchange.protocol.verification import VerificationError

# golang.org/x/mod/sumdb/note note_test.go
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_B64 = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
PETER_SIG = f"— PeterNeumann {PETER_B64}\n"
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnW"
    "Lox33WWd1RvMc+QQ=\n"
)

# google/trillian-examples formats/log tests: Go-generated key pairs, and a real
# sum.golang.org checkpoint with cosignatures by three more keys.
GO_KEY_PAIRS = [
    ("PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
     "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs"),
    ("PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
     "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH"),
    ("PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
     "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj"),
    ("PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
     "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots"),
    (PETER_SKEY, PETER_VKEY),
]  # fmt: skip
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_TEXT = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"
SUMDB_NOTE = (
    SUMDB_TEXT + "\n— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIG"
    "u95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n"
)
COSIGNER_VKEYS = [
    "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT",
    "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M",
    "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN",
]
COSIGNATURES = (
    "— monkeys 202ffh9ve46Mqbhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2Nb"
    "vAnaepM6Y+8ww=\n"
    "— bananas z2OfE+2bbsBZ7NLgfuslc0v7NFW2QyexJ7fhePpoL2N/P7N/COd5S+JNHbQEAlYzz2C5sg0E+x/Mgg"
    "S1mDR6t3/9rQw=\n"
    "— witness 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGg"
    "CdcpR8SVSoqAU=\n"
)
# Another published sum.golang.org checkpoint, cosigned by a witness we do not know.
SUMDB_WITNESSED = (
    "go.sum database tree\n15067302\ngJyioq6dwR9n+NjEWORfYmH+ubeYm3kH42BBQ0bTpYI=\n\n"
    "— sum.golang.org Az3grp1rvWOs5NKlr/xR4GLN/CDyzzakmt1o61uSxYKpK1SerqOP2ClbX/peKUZjYnyom"
    "H5Xz7GZG3TpB7OeKn4E2ww=\n"
    "— test.example.com qTGhC/xIPQ0AXKHK6Y+9ypRfuvMZWPjRXM8NiOg5M1WREn07VQXyuIXM3NRNav3ieVFLU"
    "qDRK77PWDmL6w8w84UqeAw=\n"
)


def go_private_key(skey: str) -> Ed25519PrivateKey:
    """The Ed25519 key in a Go "PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>" string."""
    encoded = base64.b64decode(skey.split("+", 4)[4])
    assert encoded[0] == 1
    return Ed25519PrivateKey.from_private_bytes(encoded[1:])


def key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


# --- interoperability -----------------------------------------------------------------


@pytest.mark.parametrize(("skey", "vkey"), GO_KEY_PAIRS)
def test_verifier_key_reproduces_go(skey: str, vkey: str) -> None:
    name = skey.split("+")[2]
    assert verifier_key(name, go_private_key(skey).public_key()) == vkey
    parsed_name, key_id, public_key = parse_verifier_key(vkey)
    assert parsed_name == name
    assert key_id.hex() == vkey.split("+")[1]
    assert verifier_key(name, public_key) == vkey


def test_sign_reproduces_go_byte_for_byte() -> None:
    assert sign(TEXT, "PeterNeumann", go_private_key(PETER_SKEY)) == TEXT + "\n" + PETER_SIG


def test_a_note_signer_keeps_its_key_id_and_signs_as_go_does_each_time() -> None:
    signer = NoteSigner("PeterNeumann", go_private_key(PETER_SKEY))
    assert signer.verifier_key == PETER_VKEY
    assert [signer.sign(TEXT) for _ in range(2)] == [TEXT + "\n" + PETER_SIG] * 2


def test_verify_accepts_go_notes() -> None:
    assert verify(TEXT + "\n" + PETER_SIG, [PETER_VKEY]) == TEXT
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert verify(both, [PETER_VKEY]) == TEXT
    assert verify(both, [ENOCH_VKEY]) == TEXT
    assert verify(both, [PETER_VKEY, ENOCH_VKEY]) == TEXT
    # Identical repeats in the key list are one key, not an ambiguity.
    assert verify(TEXT + "\n" + ENOCH_SIG, [ENOCH_VKEY, PETER_VKEY, ENOCH_VKEY]) == TEXT


def test_verify_accepts_real_sumdb_checkpoints_and_cosignatures() -> None:
    assert verify(SUMDB_NOTE, [SUMDB_VKEY]) == SUMDB_TEXT
    cosigned = SUMDB_NOTE + COSIGNATURES
    assert verify(cosigned, [SUMDB_VKEY]) == SUMDB_TEXT
    for cosigner in COSIGNER_VKEYS:
        assert verify(cosigned, [cosigner]) == SUMDB_TEXT
    assert verify(cosigned, [SUMDB_VKEY, *COSIGNER_VKEYS]) == SUMDB_TEXT
    assert verify(SUMDB_WITNESSED, [SUMDB_VKEY]).startswith("go.sum database tree\n15067302\n")


def test_go_open_cases() -> None:
    """The refusals of Go's TestOpen, with our error classes."""
    with pytest.raises(UnknownKeyError, match="no signature by a verifier key"):
        verify(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    assert verify(TEXT + "\n" + PETER_SIG * 100, [PETER_VKEY]) == TEXT
    with pytest.raises(MalformedNoteError, match="more than 100 signatures"):
        verify(TEXT + "\n" + PETER_SIG * 101, [PETER_VKEY])
    with pytest.raises(MalformedNoteError, match="more than 100 signatures"):
        verify(TEXT + "\n" + PETER_SIG * 101, [])
    with pytest.raises(NoteSignatureError, match="PeterNeumann\\+c74f20a3 does not verify"):
        verify(TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [PETER_VKEY])

    # Repeated and unknown signatures, one of them damaged, by keys we do not hold.
    enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    crowded = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    assert verify(crowded, [PETER_VKEY]) == TEXT

    bad_notes = [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        "\udcff" + TEXT + "\n" + PETER_SIG,  # Go's "\xff": not UTF-8
        TEXT + "\n" + "— Bad Name " + PETER_B64,
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ]
    for bad in bad_notes:
        with pytest.raises(MalformedNoteError):
            verify(bad, [PETER_VKEY])

    # A signature under another name, or another key id, is by a key we do not know.
    misnamed = PETER_SIG.replace("PeterNeumann", "CarmenSandiego")
    with pytest.raises(UnknownKeyError, match="CarmenSandiego\\+c74f20a3"):
        verify(TEXT + "\n" + misnamed, [PETER_VKEY])
    with pytest.raises(UnknownKeyError):
        verify(TEXT + "\n" + PETER_SIG.replace("x08g", "xxxx"), [PETER_VKEY])


def test_go_verifier_key_manglings_refused() -> None:
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(MalformedKeyError):
                    parse_verifier_key(PETER_VKEY[i:j])
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(MalformedKeyError):
            parse_verifier_key(mangled)
    # Wrong key length and an unknown algorithm, each with a key id that matches.
    with pytest.raises(MalformedKeyError):
        parse_verifier_key(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
    with pytest.raises(MalformedKeyError, match="not of type 0x01"):
        parse_verifier_key("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    with pytest.raises(MalformedKeyError, match="lowercase hex"):
        parse_verifier_key(PETER_VKEY.replace("c74f20a3", "C74F20A3"))
    raw = b"\x01" + b"\x00" * 33
    too_long = f"x+{note._key_id('x', raw[1:]).hex()}+{base64.b64encode(raw).decode()}"
    with pytest.raises(MalformedKeyError, match="is 33 bytes, expected 32"):
        parse_verifier_key(too_long)


# --- round trip and refusals ------------------------------------------------------------

NOTE_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters={chr(c) for c in range(32)} - {"\n"}),
    max_size=200,
).map(lambda text: text + "\n")


@settings(max_examples=60, deadline=None)
@given(NOTE_TEXT)
def test_round_trip(text: str) -> None:
    signer = key(7)
    vkey = verifier_key("example.com/log", signer.public_key())
    assert verify(sign(text, "example.com/log", signer), [vkey]) == text


def test_text_with_blank_lines_and_unicode() -> None:
    # The example of the C2SP spec: the text may hold blank lines; the last one ends it.
    text = (
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\n"
        "ed è subito sera.\n"
    )
    name = "quasimodo.example/salvatore"
    signed = sign(text, name, key(1))
    assert verify(signed, [verifier_key(name, key(1).public_key())]) == text
    assert verify(sign("\n", name, key(1)), [verifier_key(name, key(1).public_key())]) == "\n"


def test_tampered_text_refused() -> None:
    for i in range(len(TEXT)):
        changed = TEXT[:i] + chr(ord(TEXT[i]) ^ 1) + TEXT[i + 1 :]
        # A newline turns into U+000B, a control character.
        error = MalformedNoteError if TEXT[i] == "\n" else NoteSignatureError
        with pytest.raises(error):
            verify(changed + "\n" + PETER_SIG, [PETER_VKEY])
    with pytest.raises(NoteSignatureError):
        verify(TEXT + "extra line\n" + "\n" + PETER_SIG, [PETER_VKEY])


def test_tampered_signature_refused() -> None:
    prefix = "— PeterNeumann "
    raw = base64.b64decode(PETER_SIG[len(prefix) : -1])
    for i in range(len(raw)):
        damaged = bytearray(raw)
        damaged[i] ^= 0x40
        line = prefix + base64.b64encode(bytes(damaged)).decode() + "\n"
        # The first four bytes are the key id: changing them makes it someone else's key.
        error = UnknownKeyError if i < 4 else NoteSignatureError
        with pytest.raises(error):
            verify(TEXT + "\n" + line, [PETER_VKEY])
    short = prefix + base64.b64encode(raw[:-1]).decode() + "\n"
    with pytest.raises(NoteSignatureError):
        verify(TEXT + "\n" + short, [PETER_VKEY])


def test_one_failing_known_key_refuses_the_note() -> None:
    enoch_bad = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    with pytest.raises(NoteSignatureError, match="EnochRoot"):
        verify(TEXT + "\n" + PETER_SIG + enoch_bad, [PETER_VKEY, ENOCH_VKEY])
    with pytest.raises(NoteSignatureError, match="EnochRoot"):
        verify(TEXT + "\n" + enoch_bad + PETER_SIG, [ENOCH_VKEY, PETER_VKEY])
    # Stricter than Go, which checks only a key's first signature: every one must verify.
    peter_bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteSignatureError):
        verify(TEXT + "\n" + PETER_SIG + peter_bad, [PETER_VKEY])


BAD_B64 = PETER_B64[:-2] + "N="  # the same bytes, but with unused bits set


@pytest.mark.parametrize(
    "block",
    [
        f"- PeterNeumann {PETER_B64}\n",
        f"—PeterNeumann {PETER_B64}\n",
        f"— PeterNeumann{PETER_B64}\n",
        f"—  {PETER_B64}\n",
        f"— PeterNeumann  {PETER_B64}\n",
        f"— Peter+Neumann {PETER_B64}\n",
        f"— Peter\u00a0Neumann {PETER_B64}\n",
        f"— PeterNeumann {PETER_B64[:-1]}\n",
        f"— PeterNeumann {BAD_B64}\n",
        f"— PeterNeumann {PETER_B64} \n",
        f"— PeterNeumann {PETER_B64.replace('/', '_')}\n",
        "— PeterNeumann x08goA==\n",
        "— PeterNeumann \n",
        "\n",
        f"— PeterNeumann {PETER_B64}\r\n",
        f"— PeterNeumann {PETER_B64}\n\n",
    ],
)
def test_malformed_signature_lines_refused(block: str) -> None:
    with pytest.raises(MalformedNoteError):
        verify(TEXT + "\n" + block, [PETER_VKEY])


def test_size_limit() -> None:
    filler = "x" * 100 + "\n"
    text = filler * (note.MAX_NOTE_SIZE // len(filler))
    with pytest.raises(MalformedNoteError, match="exceed"):
        sign(text, "n", key(2))
    with pytest.raises(MalformedNoteError, match="more than"):
        verify(text + "\n" + PETER_SIG, [PETER_VKEY])


@pytest.mark.parametrize(
    "name", ["", "a+b", "a b", "a\tb", "a\u00a0b", "a\u2028b", "a\u3000b", "a\x7f\x01", "\udc80"]
)
def test_invalid_names_refused(name: str) -> None:
    with pytest.raises(MalformedKeyError):
        verifier_key(name, key(3).public_key())
    with pytest.raises(MalformedKeyError):
        sign(TEXT, name, key(3))


@pytest.mark.parametrize("name", ["example.com/log42", "ünïcødé", "a-b_c.d~e:f@g"])
def test_valid_names_accepted(name: str) -> None:
    vkey = verifier_key(name, key(4).public_key())
    assert verify(sign(TEXT, name, key(4)), [vkey]) == TEXT


@pytest.mark.parametrize("text", ["no final newline", "tab\there\n", "cr\r\n", "\udc80\n", ""])
def test_unsignable_text_refused(text: str) -> None:
    with pytest.raises(MalformedNoteError):
        sign(text, "n", key(5))


def test_key_list_mistakes() -> None:
    with pytest.raises(TypeError):
        verify(TEXT + "\n" + PETER_SIG, PETER_VKEY)
    with pytest.raises(MalformedKeyError):
        verify(TEXT + "\n" + PETER_SIG, [PETER_VKEY, "not a key"])


def test_colliding_key_ids_are_ambiguous(monkeypatch: pytest.MonkeyPatch) -> None:
    # A real collision takes 2**32 tries; pretend every key has the same id.
    monkeypatch.setattr(note, "_key_id", lambda name, public_key: b"\x00\x00\x00\x00")
    keys = [verifier_key("n", key(seed).public_key()) for seed in (5, 6)]
    with pytest.raises(AmbiguousKeyError, match="n\\+00000000"):
        verify(sign(TEXT, "n", key(5)), keys)


def test_error_hierarchy() -> None:
    for error in (MalformedNoteError, MalformedKeyError, AmbiguousKeyError, UnknownKeyError,
                  NoteSignatureError):  # fmt: skip
        assert issubclass(error, NoteError)
    assert issubclass(NoteError, VerificationError)
