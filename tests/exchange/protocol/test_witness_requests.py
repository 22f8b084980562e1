"""C2SP tlog-witness request and response bodies, with the spec's example request."""

import pytest

from exchange.protocol.witness_requests import (
    AddCheckpoint,
    WitnessRequestError,
    parse_add_checkpoint,
    parse_conflict,
    parse_cosignature_lines,
)
from keys.b64 import b64_decode

SPEC_EXAMPLE = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


def test_the_spec_s_example_request_round_trips():
    request = parse_add_checkpoint(SPEC_EXAMPLE.encode())
    assert request.old_size == 20852014
    assert request.proof[0] == b64_decode("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")
    assert len(request.proof) == 4
    assert request.checkpoint.startswith("example.com/behind-the-sofa\n20852163\n")
    assert request.encode() == SPEC_EXAMPLE.encode()


def test_from_size_zero_there_are_no_proof_lines():
    body = AddCheckpoint(0, (), "o\n1\n" + "A" * 43 + "=\n\n\u2014 o AAAA\n").encode()
    assert body.startswith(b"old 0\n\no\n1\n")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"old 01\n\nx", "old size '01' is not a decimal size"),
        (b"new 1\n\nx", "does not start with an old size line"),
        (b"old 1\nx", "no empty line before the checkpoint"),
        (b"old 1\nAAAA\n\nx", "proof line 1 is not a 32-byte hash"),
        (b"old 1\n" + b"A" * 43 + b"=\n" * 64 + b"\nx", "more than 63 consistency proof lines"),
        (b"old 1\n\xff\n\nx", "request body is not UTF-8"),
        (b"old 18446744073709551616\n\nx", "is not a decimal size"),
    ],
)
def test_malformed_requests(body, message):
    with pytest.raises(WitnessRequestError, match=message):
        parse_add_checkpoint(body)


def test_responses():
    assert parse_conflict(b"20852014\n") == 20852014
    with pytest.raises(WitnessRequestError):
        parse_conflict(b"20852014")
    line = "\u2014 w.example/1 AAAA\n"
    assert parse_cosignature_lines(line.encode()) == [line]
    with pytest.raises(WitnessRequestError, match="not a note signature line"):
        parse_cosignature_lines(b"hello world\n")
