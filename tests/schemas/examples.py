"""Realistic, valid wire documents for tests. Every function returns a fresh dict.

The cases: an urgent removal order against a sexual deepfake (video URL, a mirror URL and
the channel spreading it), and an NCII notice from a victim-support helpline carried as
hashes only, as StopNCII does. Organisations, people and content are fictional.
"""

import base64
import hashlib
from typing import Any

from schemas.statement import meta_for


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def digest(label: str) -> str:
    """A 43-character base64url SHA-256 digest, stable per label."""
    return b64url(hashlib.sha256(label.encode()).digest())


def hex_digest(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


AGENCY = "metro-cyber-unit"
HELPLINE = "safe-harbour-helpline"
PLATFORM = "clipshare"
AGENCY_OFFICIAL = "officer-0412"
HELPLINE_OFFICIAL = "caseworker-07"
PLATFORM_LEAD = "ts-lead"
PLATFORM_OFFICIAL = "ts-reviewer-17"

CASE_ID = "4f0c8a52-3b1e-4d6a-9f27-8c5e1b0d7a31"
NCII_CASE_ID = "b7e21c9d-60a4-4b8f-a3d5-1f9e7c2b4a68"
CASE_HANDOFF = "0b6f3c2e-5d1a-4f8e-9c3b-2a7d6e4f1a90"
NCII_CASE_HANDOFF = "7d2a9e14-c5b3-4e8f-b061-3f4d8a2c9e57"
RECEIPT_HANDOFF = "1c7e4b9a-2f6d-4a3c-8e51-9b0d2f7a6c14"
ASSIGNMENT_HANDOFF = "2e8f5c0b-3a7e-4b4d-9f62-0c1e3a8b7d25"
QUESTION_HANDOFF = "3f9a6d1c-4b8f-4c5e-a073-1d2f4b9c8e36"
SUPPLEMENT_HANDOFF = "4a0b7e2d-5c9a-4d6f-b184-2e3a5c0d9f47"
RESPONSE_HANDOFF = "5b1c8f3e-6d0b-4e7a-8295-3f4b6d1e0a58"
WITHDRAWAL_HANDOFF = "6c2d9a4f-7e1c-4f8b-93a6-4a5c7e2f1b69"
CLOSURE_HANDOFF = "7d3e0b5a-8f2d-4a9c-a4b7-5b6d8f3a2c70"

ORDER_PDF = b"%PDF-1.7\n% Removal order MCU/2026/000417 (example)\n%%EOF\n"
VIDEO_SHA256 = hex_digest("clipshare video 8kQ2xZ")


def sender(org: str = AGENCY, official: str = AGENCY_OFFICIAL) -> dict[str, Any]:
    return {"org": org, "official": official, "kid": digest(f"signing key of {official}")}


def deepfake_video_item() -> dict[str, Any]:
    return {
        "item_id": "video-1",
        "locators": [
            {"type": "url", "value": "https://clipshare.example/v/8kQ2xZ"},
            {"type": "url", "value": "https://cdn.clipshare.example/m/8kQ2xZ/720p.mp4?sig=a1b2"},
            {"type": "platform_item_id", "value": "8kQ2xZ"},
        ],
        "requested_actions": ["remove", "hash_block", "preserve"],
        "hashes": [{"algo": "sha256", "value": VIDEO_SHA256}],
        "content_type": "video",
        "annotations": ["generative_ai", "viral"],
        "first_seen_at": "2026-03-02T21:14:05Z",
        "publicly_available": True,
    }


def deepfake_channel_item() -> dict[str, Any]:
    return {
        "item_id": "channel-1",
        "locators": [{"type": "channel", "value": "clipshare.example/@leaks-daily"}],
        "requested_actions": ["suspend_account", "preserve", "disclose_info"],
        "hashes": [],
        "content_type": "channel",
        "annotations": ["commercial", "recurring"],
        "first_seen_at": "2026-02-27T08:00:00Z",
        "publicly_available": True,
        "notes": "Publishes face-swapped sexual videos of real women; sells 'requests'.",
    }


def deepfake_case_body() -> dict[str, Any]:
    """An urgent DSA Art. 9 removal order against a sexual deepfake and its channel."""
    return {
        "issuer_case_ref": "MCU/2026/000417",
        "request_type": "removal_order",
        "category": "sexual_deepfake",
        "keywords": ["deepfake", "face swap", "extortion"],
        "minor_involved": "no",
        "priority": "urgent",
        "escalation_reason": (
            "The victim is being extorted with the video and new copies are uploaded hourly."
        ),
        "legal_basis": [
            {
                "jurisdiction": "EU",
                "instrument": "Regulation (EU) 2022/2065 (Digital Services Act)",
                "article": "Art. 9",
            },
            {"jurisdiction": "DE", "instrument": "Strafgesetzbuch (StGB)", "article": "§ 201a"},
        ],
        "statement_of_reasons": (
            "The video depicts an identifiable adult in fabricated sexual acts produced "
            "without her consent by face-swapping software. Publishing it violates her "
            "intimate privacy and is used to extort her."
        ),
        "territorial_scope": ["EU"],
        "redress_info": (
            "The provider and the uploader may challenge this order before the "
            "Verwaltungsgericht within one month of receipt."
        ),
        "language": "en",
        "on_behalf_of": {"type": "victim", "victim_ref": "V-2026-8f3k2q"},
        "contact": {
            "title": "Duty Desk, Metro Cyber Unit",
            "email": "duty-desk@cyber.metro-police.example",
            "phone": "+4930123456789",
        },
        "items": [deepfake_video_item(), deepfake_channel_item()],
        "attachments": [
            {
                "name": "removal-order-MCU-2026-000417.pdf",
                "media_type": "application/pdf",
                "sha256": hashlib.sha256(ORDER_PDF).hexdigest(),
                "data": base64.b64encode(ORDER_PDF).decode("ascii"),
            }
        ],
    }


def ncii_case_body() -> dict[str, Any]:
    """An NCII notice from a helpline: hashes only, the images never leave the victim."""
    return {
        "issuer_case_ref": "SHH-2026-1193",
        "request_type": "notice",
        "category": "ncii",
        "keywords": [],
        "minor_involved": "no",
        "priority": "high",
        "legal_basis": [
            {
                "jurisdiction": "IE",
                "instrument": "Harassment, Harmful Communications and Related Offences Act 2020",
                "article": "s. 2",
            }
        ],
        "statement_of_reasons": (
            "Intimate images shared without the consent of the person depicted. The person "
            "generated these hashes on her own device; the images were not transmitted."
        ),
        "territorial_scope": ["IE", "GB"],
        "redress_info": "Questions about this notice: contact the helpline below.",
        "language": "en-IE",
        "on_behalf_of": {"type": "victim", "victim_ref": "shh_c9a41e7b20"},
        "contact": {"title": "Case team", "email": "cases@safe-harbour.example"},
        "items": [
            {
                "item_id": "img-1",
                "locators": [],
                "requested_actions": ["hash_block", "remove"],
                "hashes": [{"algo": "pdq", "value": hex_digest("ncii image 1 pdq")}],
                "content_type": "image",
                "annotations": ["cross_platform"],
            },
            {
                "item_id": "vid-1",
                "locators": [],
                "requested_actions": ["hash_block", "remove"],
                "hashes": [
                    {
                        "algo": "md5",
                        "value": hashlib.md5(b"ncii video 1", usedforsecurity=False).hexdigest(),
                    },
                    {
                        "algo": "vpdq",
                        "value": (
                            f"0,100,{hex_digest('frame 0')},0.000\n"
                            f"30,98,{hex_digest('frame 30')},1.001"
                        ),
                    },
                ],
                "content_type": "video",
                "annotations": [],
            },
        ],
    }


def response_body() -> dict[str, Any]:
    return {
        "outcome": "actioned",
        "actions_taken": [
            {
                "item_id": "video-1",
                "action": "remove",
                "at": "2026-03-03T06:41:12Z",
                "territorial_scope": None,
            },
            {
                "item_id": "channel-1",
                "action": "suspend_account",
                "at": "2026-03-03T06:52:40.250000Z",
                "territorial_scope": ["EU"],
            },
        ],
        "automated_detection": False,
        "preservation": {"preserved": True, "until": "2026-09-03T00:00:00Z"},
    }


def question_body() -> dict[str, Any]:
    return {
        "questions": ["Is the channel operator known to be located in the EU?"],
        "item_ids": ["channel-1"],
        "respond_by": "2026-03-04T12:00:00Z",
    }


def supplement_body() -> dict[str, Any]:
    item = deepfake_video_item()
    item["item_id"] = "video-2"
    item["locators"] = [{"type": "url", "value": "https://clipshare.example/v/Q7mR1t"}]
    item["hashes"] = []
    return {"text": "A re-upload appeared under a new id.", "items": [item]}


def withdrawal_body() -> dict[str, Any]:
    return {"reason": "resolved_elsewhere", "explanation": "The uploader removed the video."}


def closure_body() -> dict[str, Any]:
    return {"reason": "completed", "notes": "All items removed; preservation confirmed."}


def record(
    kind: str,
    body: dict[str, Any],
    *,
    handoff_id: str,
    case_id: str = CASE_ID,
    in_reply_to: str | None = CASE_HANDOFF,
    from_platform: bool = False,
) -> dict[str, Any]:
    """A record of `kind`, from the agency to the platform (or back)."""
    return {
        "typ": "hotline.record/v1",
        "handoff_id": handoff_id,
        "case_id": case_id,
        "kind": kind,
        "issued_at": "2026-03-03T07:00:00Z",
        "sender": sender(PLATFORM, PLATFORM_OFFICIAL) if from_platform else sender(),
        "to": [AGENCY] if from_platform else [PLATFORM],
        "in_reply_to": in_reply_to,
        "body": body,
    }


def case_record() -> dict[str, Any]:
    return {
        **record("case", deepfake_case_body(), handoff_id=CASE_HANDOFF, in_reply_to=None),
        "issued_at": "2026-03-03T05:12:09Z",
    }


def ncii_case_record() -> dict[str, Any]:
    return {
        **record(
            "case",
            ncii_case_body(),
            handoff_id=NCII_CASE_HANDOFF,
            case_id=NCII_CASE_ID,
            in_reply_to=None,
        ),
        "sender": sender(HELPLINE, HELPLINE_OFFICIAL),
    }


def response_record() -> dict[str, Any]:
    return record("response", response_body(), handoff_id=RESPONSE_HANDOFF, from_platform=True)


def question_record() -> dict[str, Any]:
    return record("question", question_body(), handoff_id=QUESTION_HANDOFF, from_platform=True)


def supplement_record() -> dict[str, Any]:
    return record(
        "supplement", supplement_body(), handoff_id=SUPPLEMENT_HANDOFF, in_reply_to=QUESTION_HANDOFF
    )


def withdrawal_record() -> dict[str, Any]:
    return record("withdrawal", withdrawal_body(), handoff_id=WITHDRAWAL_HANDOFF)


def closure_record() -> dict[str, Any]:
    return record(
        "closure", closure_body(), handoff_id=CLOSURE_HANDOFF, in_reply_to=RESPONSE_HANDOFF
    )


def records() -> dict[str, dict[str, Any]]:
    """One record of every sealed kind, by kind."""
    return {
        "case": case_record(),
        "response": response_record(),
        "question": question_record(),
        "supplement": supplement_record(),
        "withdrawal": withdrawal_record(),
        "closure": closure_record(),
    }


def statement_for(sealed_record: dict[str, Any]) -> dict[str, Any]:
    """The statement of a sealed record (digests are placeholders, not real ones)."""
    header = {k: v for k, v in sealed_record.items() if k not in ("typ", "body")}
    return {
        "typ": "hotline.handoff/v1",
        **header,
        "meta": meta_for(sealed_record),
        "jwe_sha256": digest(f"jwe of {sealed_record['handoff_id']}"),
        "record_sha256": digest(f"record of {sealed_record['handoff_id']}"),
    }


def case_statement() -> dict[str, Any]:
    return statement_for(case_record())


def receipt_statement() -> dict[str, Any]:
    """The platform acknowledges the case record."""
    return {
        "typ": "hotline.handoff/v1",
        "handoff_id": RECEIPT_HANDOFF,
        "case_id": CASE_ID,
        "kind": "receipt",
        "issued_at": "2026-03-03T05:12:11.402113Z",
        "sender": sender(PLATFORM, PLATFORM_OFFICIAL),
        "to": [AGENCY],
        "in_reply_to": CASE_HANDOFF,
        "meta": {
            "handoff_id": CASE_HANDOFF,
            "record_sha256": digest(f"record of {CASE_HANDOFF}"),
            "received_at": "2026-03-03T05:12:10Z",
        },
        "jwe_sha256": None,
        "record_sha256": None,
    }


def assignment_statement() -> dict[str, Any]:
    """The platform's lead assigns the case to a reviewer."""
    return {
        "typ": "hotline.handoff/v1",
        "handoff_id": ASSIGNMENT_HANDOFF,
        "case_id": CASE_ID,
        "kind": "assignment",
        "issued_at": "2026-03-03T05:20:00Z",
        "sender": sender(PLATFORM, PLATFORM_LEAD),
        "to": [PLATFORM],
        "in_reply_to": CASE_HANDOFF,
        "meta": {"assignee": PLATFORM_OFFICIAL},
        "jwe_sha256": None,
        "record_sha256": None,
    }


def statements() -> dict[str, dict[str, Any]]:
    """One statement of every kind, by kind."""
    sealed = {kind: statement_for(rec) for kind, rec in records().items()}
    return {**sealed, "receipt": receipt_statement(), "assignment": assignment_statement()}


def jwe() -> dict[str, Any]:
    """A structurally valid JWE to two recipient keys (the bytes are not a real encryption)."""
    return {
        "protected": b64url(b'{"enc":"A256GCM"}'),
        "recipients": [
            {
                "header": {
                    "alg": "ECDH-ES+A256KW",
                    "kid": digest(f"encryption key {n}"),
                    "epk": {
                        "kty": "OKP",
                        "crv": "X25519",
                        "x": b64url(hashlib.sha256(f"epk {n}".encode()).digest()),
                    },
                },
                "encrypted_key": b64url(hashlib.sha512(f"cek {n}".encode()).digest()[:40]),
            }
            for n in (1, 2)
        ],
        "iv": b64url(bytes(range(12))),
        "ciphertext": b64url(b"not really ciphertext, but the right alphabet"),
        "tag": b64url(bytes(range(16))),
    }


def envelope() -> dict[str, Any]:
    segments = (b'{"alg":"EdDSA","typ":"hotline.handoff+jws"}', b"{}", bytes(64))
    return {"statement": ".".join(b64url(s) for s in segments), "jwe": jwe()}


def signed_only_envelope() -> dict[str, Any]:
    return {**envelope(), "jwe": None}
