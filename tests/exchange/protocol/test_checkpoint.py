"""exchange.protocol.checkpoint: the C2SP tlog-checkpoint text, strictly, and signed."""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.protocol.checkpoint import (
    Checkpoint,
    CheckpointError,
    OriginMismatchError,
    sign_checkpoint,
    verify_checkpoint,
)
from exchange.protocol.merkle import leaf_hash
from exchange.protocol.note import NoteSignatureError, UnknownKeyError, sign, verifier_key
from exchange.protocol.verification import VerificationError

ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_B64 = base64.urlsafe_b64encode(b"\xff" * 32).decode()

# A real sum.golang.org checkpoint (google/trillian-examples formats/log tests).
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = (
    "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n"
    "— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYf"
    "vimWEPWL+o3GeoWwOoAw=\n"
)


def key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def test_format_matches_go_tlog() -> None:
    # golang.org/x/mod/sumdb/tlog note_test.go: RecordHash is the RFC 9162 leaf hash.
    golden = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
    checkpoint = Checkpoint("go.sum database tree", 123456789012, leaf_hash(b"hello world"))
    assert checkpoint.format() == golden
    assert Checkpoint.parse(golden) == checkpoint


def test_parse_spec_example() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = Checkpoint.parse(text)
    assert (checkpoint.origin, checkpoint.size, checkpoint.extensions) == (
        "example.com/behind-the-sofa",
        20852163,
        (),
    )
    assert checkpoint.format() == text


def test_extensions_round_trip() -> None:
    checkpoint = Checkpoint("log", 0, ROOT, ("ext one", "— two"))
    assert checkpoint.format() == f"log\n0\n{ROOT_B64}\next one\n— two\n"
    assert Checkpoint.parse(checkpoint.format()) == checkpoint


LINE = st.text(
    st.characters(codec="utf-8", exclude_characters={chr(c) for c in range(32)}),
    min_size=1,
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(
    LINE,
    st.integers(0, 2**64 - 1),
    st.binary(min_size=32, max_size=32),
    st.lists(LINE, max_size=3).map(tuple),
)
def test_round_trip(origin: str, size: int, root: bytes, extensions: tuple[str, ...]) -> None:
    checkpoint = Checkpoint(origin, size, root, extensions)
    assert Checkpoint.parse(checkpoint.format()) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        f"log\n1\n{ROOT_B64}",  # no final newline
        "log\n1\n",
        "log\n",
        "",
        "\n",
        f"\n1\n{ROOT_B64}\n",  # empty origin
        f"log\n\n{ROOT_B64}\n",
        f"log\n01\n{ROOT_B64}\n",
        f"log\n00\n{ROOT_B64}\n",
        f"log\n+1\n{ROOT_B64}\n",
        f"log\n-1\n{ROOT_B64}\n",
        f"log\n 1\n{ROOT_B64}\n",
        f"log\n1 \n{ROOT_B64}\n",
        f"log\n0xabcdef\n{ROOT_B64}\n",
        f"log\n1_000\n{ROOT_B64}\n",
        f"log\n\u0661\n{ROOT_B64}\n",  # ARABIC-INDIC DIGIT ONE: int() would take it
        f"log\n18446744073709551616\n{ROOT_B64}\n",  # 2**64
        f"log\n{'9' * 5000}\n{ROOT_B64}\n",
        "log\n1\n\n",
        "log\n1\nnot base64\n",
        f"log\n1\n{ROOT_B64[:-1]}\n",  # padding missing
        f"log\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",
        f"log\n1\n{base64.b64encode(ROOT + b'x').decode()}\n",
        f"log\n1\n{ROOT_B64[:-2]}9=\n",  # unused bits set
        f"log\n1\n{URLSAFE_B64}\n",
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
        f"log\n1\n{ROOT_B64}\n\n",  # empty extension line
        f"log\n1\n{ROOT_B64}\next\n\nmore\n",
        f"log\n1\n{ROOT_B64}\nJOE",  # Go's ParseTree ignores trailing junk; we do not
        f"log\r\n1\n{ROOT_B64}\n",
        f"log\n1\n{ROOT_B64}\next\r\n",
    ],
)
def test_malformed_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(text)


def test_largest_size_accepted() -> None:
    text = f"log\n18446744073709551615\n{ROOT_B64}\n"
    assert Checkpoint.parse(text).size == 2**64 - 1


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, ()),
        ("a\nb", 1, ROOT, ()),
        ("log", -1, ROOT, ()),
        ("log", 2**64, ROOT, ()),
        ("log", True, ROOT, ()),
        ("\udc80", 1, ROOT, ()),
        ("log", 1, ROOT[:31], ()),
        ("log", 1, bytearray(ROOT), ()),
        ("log", 1, ROOT, ("",)),
        ("log", 1, ROOT, ("a\nb",)),
        ("log", 1, ROOT, ["ext"]),
    ],
)
def test_constructor_refuses_what_parse_would(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(origin, size, root, extensions)


def test_sign_and_verify() -> None:
    checkpoint = Checkpoint("example.com/log", 42, ROOT)
    signed = sign_checkpoint(checkpoint, "example.com/log", key(1))
    vkey = verifier_key("example.com/log", key(1).public_key())
    assert signed.startswith(checkpoint.format() + "\n— example.com/log ")
    assert verify_checkpoint(signed, [vkey], "example.com/log") == checkpoint

    # During a key rotation the log has two keys; either one's signature suffices.
    old_vkey = verifier_key("example.com/log", key(2).public_key())
    assert verify_checkpoint(signed, [old_vkey, vkey], "example.com/log") == checkpoint

    with pytest.raises(OriginMismatchError, match=r"example\.com/other"):
        verify_checkpoint(signed, [vkey], "example.com/other")
    with pytest.raises(UnknownKeyError):
        verify_checkpoint(signed, [old_vkey], "example.com/log")
    with pytest.raises(NoteSignatureError):
        verify_checkpoint(signed.replace("\n42\n", "\n43\n"), [vkey], "example.com/log")


def test_signed_text_that_is_no_checkpoint_refused() -> None:
    vkey = verifier_key("log", key(3).public_key())
    with pytest.raises(CheckpointError):
        verify_checkpoint(sign("log\n01\n" + ROOT_B64 + "\n", "log", key(3)), [vkey], "log")


def test_real_sumdb_checkpoint() -> None:
    checkpoint = verify_checkpoint(SUMDB_NOTE, [SUMDB_VKEY], "go.sum database tree")
    assert checkpoint.size == 6476701
    assert checkpoint.root == base64.b64decode("mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=")
    with pytest.raises(OriginMismatchError):
        verify_checkpoint(SUMDB_NOTE, [SUMDB_VKEY], "Go rocks but I might have the wrong ID")


def test_errors_are_verification_errors() -> None:
    assert issubclass(OriginMismatchError, CheckpointError)
    assert issubclass(CheckpointError, VerificationError)
