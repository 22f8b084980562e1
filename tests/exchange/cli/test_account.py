"""enroll, init and whoami against a live server."""

import json

from keys import load_jwks


def test_a_code_enrolls_once(hotline):
    code = hotline.server.invite("police", "officer-b", "agency_officer")
    key_dir = hotline.keys / "officer-b"
    args = ("enroll", "--server", hotline.server.url, "--code", code, "--key-dir", str(key_dir))
    first = hotline("officer-b", *args, "--yes", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["official"] == "officer-b"
    again = hotline("officer-b-again", *args, "--yes")
    assert again.exit_code == 1
    assert again.stderr == "error: The enrollment code is unknown, used or expired\n"


def test_enroll_refuses_an_unexpected_log_key(hotline):
    code = hotline.server.invite("police", "officer-c", "agency_officer")
    result = hotline(
        "officer-c",
        "enroll",
        "--server",
        hotline.server.url,
        "--code",
        code,
        "--key-dir",
        str(hotline.keys / "officer-c"),
        "--log-key",
        "somebody+00000000+AAAA",
    )
    assert result.exit_code == 1
    assert "not the expected somebody+00000000+AAAA" in result.stderr
    # Nothing was enrolled: the code still works.
    ok = hotline(
        "officer-c",
        "enroll",
        "--server",
        hotline.server.url,
        "--code",
        code,
        "--key-dir",
        str(hotline.keys / "officer-c"),
        "--yes",
    )
    assert ok.exit_code == 0, ok.output


def test_enroll_reuses_keys_already_in_the_directory(hotline):
    key_dir = hotline.keys / "officer-d"
    assert hotline(None, "keygen", "--key-dir", str(key_dir)).exit_code == 0
    generated = load_jwks(json.loads((key_dir / "public.jwks").read_text()))
    code = hotline.server.invite("police", "officer-d", "agency_officer")
    result = hotline(
        "officer-d",
        "enroll",
        "--server",
        hotline.server.url,
        "--code",
        code,
        "--key-dir",
        str(key_dir),
        "--yes",
    )
    assert result.exit_code == 0, result.output
    # The operator's invitation is pending until police's lead approves it.
    hotline.json("officer", "org", "approve", "officer-d", "--role", "agency_officer")
    me = hotline.json("officer-d", "whoami")
    assert me["kid"] in generated


def test_init_writes_a_profile_for_enrolled_keys(hotline):
    key = hotline.json("officer", "whoami")
    config = json.loads((hotline.config / "config.json").read_text())
    officer = config["profiles"]["officer"]
    result = hotline(
        "officer-by-hand",
        "init",
        "--server",
        hotline.server.url,
        "--key-dir",
        officer["key_dir"],
        "--org",
        "police",
        "--official",
        "officer",
        "--log-key",
        officer["log_verifier_keys"][0],
    )
    assert result.exit_code == 0, result.output
    assert hotline.json("officer-by-hand", "whoami")["kid"] == key["kid"]
    missing = hotline(
        "x",
        "init",
        "--server",
        hotline.server.url,
        "--key-dir",
        str(hotline.keys),
        "--org",
        "p",
        "--official",
        "o",
        "--yes",
    )
    assert missing.exit_code == 2
