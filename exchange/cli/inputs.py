"""Files in and out of records: `--attach PATH` and `show --save-attachments DIR`.

An attachment travels inside the encrypted record as base64 with its SHA-256; the user
names a file, and the digest is computed here. Saving writes an attachment only after
its digest matched, under its bare file name (the schema forbids paths), owner-only.
"""

import hashlib
import mimetypes
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from exchange.cli.contract import Refused, UsageProblem
from keys.b64 import b64_decode, b64_encode
from schemas.case_body import MAX_ATTACHMENTS, MAX_ATTACHMENTS_BYTES


def attachment(path: Path) -> dict[str, str]:
    """One file as an attachment: its name, media type, SHA-256 and base64 data."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageProblem(f"--attach {path}: {exc.strerror}") from exc
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return {
        "name": path.name,
        "media_type": media_type,
        "sha256": hashlib.sha256(data).hexdigest(),
        "data": b64_encode(data),
    }


def attach(body: dict[str, Any], paths: Sequence[Path]) -> dict[str, Any]:
    """The body with the files appended to its attachments, within the schema's limits."""
    if not paths:
        return body
    attachments = [*body.get("attachments", []), *(attachment(path) for path in paths)]
    if len(attachments) > MAX_ATTACHMENTS:
        raise UsageProblem(f"at most {MAX_ATTACHMENTS} attachments, not {len(attachments)}")
    total = sum(len(b64_decode(a["data"])) for a in attachments)
    if total > MAX_ATTACHMENTS_BYTES:
        raise UsageProblem(
            f"attachments total {total} bytes; at most {MAX_ATTACHMENTS_BYTES} fit in a record"
        )
    return {**body, "attachments": attachments}


def attachments_of(records: Iterable[Mapping[str, Any] | None]) -> list[Mapping[str, Any]]:
    return [
        item
        for record in records
        if record is not None
        for item in record.get("body", {}).get("attachments", [])
    ]


def save_attachments(items: Sequence[Mapping[str, Any]], folder: Path) -> list[Path]:
    """Write each attachment whose SHA-256 matches its data; refuse (exit 1) on a mismatch."""
    for item in items:
        data = b64_decode(item["data"])
        if hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise Refused(f"attachment {item['name']}: its data does not match its SHA-256")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        written = []
        for item in items:
            target = _free_name(folder, Path(str(item["name"])).name)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(b64_decode(item["data"]))
            written.append(target)
    except OSError as exc:
        raise UsageProblem(f"cannot write to {folder}: {exc.strerror}") from exc
    return written


def _free_name(folder: Path, name: str) -> Path:
    """`name`, or `name (2)` … where a file of that name exists: never overwrite."""
    target = folder / name
    stem, suffix = target.stem, target.suffix
    number = 2
    while target.exists():
        target = folder / f"{stem} ({number}){suffix}"
        number += 1
    return target
