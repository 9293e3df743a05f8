"""What a bulk import publishes: files, directories (recursively) and JSON Lines, read into one
list of items before anything is signed, so a bad line refuses the import, naming it, and
nothing is half-done.

A JSON Lines file has one object per line: `{"text": ...}` or `{"path": ...}` (relative to the
file's directory), and optionally `"license"`, `"url"`, `"parents"` (CIDs) and `"media_type"`.
Text becomes a `text/plain` body (UTF-8). Any other file is one item, its media type
guessed from its name. Hidden files and directories (a leading dot) are skipped.
"""

import json
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aigora.core.cid import InvalidCID, digest_of
from aigora.core.errors import AigoraError

JSONL_SUFFIXES = (".jsonl", ".ndjson")
LINE_FIELDS = frozenset({"text", "path", "license", "url", "parents", "media_type"})
TEXT_TYPE = "text/plain"


class BulkImportError(AigoraError):
    """An import's input is unreadable or malformed: nothing was published."""


@dataclass(frozen=True)
class ImportItem:
    """One body to publish, with its manifest's fields and where it came from."""

    body: bytes
    media_type: str
    license: str
    source: str
    url: str = ""
    parents: tuple[str, ...] = field(default_factory=tuple)


def media_type_of(path: Path) -> str:
    """As `aigora publish FILE` guesses it, from the name."""
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BulkImportError(f"cannot read {path}: {exc.strerror}") from None


def parse_line(line: str, where: str, base: Path, default_license: str) -> ImportItem:
    """One JSON Lines record as an item; `BulkImportError` naming `where` for anything else."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BulkImportError(f"{where}: not JSON: {exc.msg}") from None
    if not isinstance(record, dict):
        raise BulkImportError(f"{where}: a line must be a JSON object")
    unknown = sorted(set(record) - LINE_FIELDS)
    if unknown:
        raise BulkImportError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if ("text" in record) == ("path" in record):
        raise BulkImportError(f'{where}: give exactly one of "text" and "path"')
    for name in ("text", "path", "license", "url", "media_type"):
        if name in record and not isinstance(record[name], str):
            raise BulkImportError(f"{where}: {name} must be a string")
    parents = record.get("parents", [])
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise BulkImportError(f"{where}: parents must be a list of CIDs")
    for parent in parents:
        try:
            digest_of(parent)
        except InvalidCID as exc:
            raise BulkImportError(f"{where}: parent {parent!r}: {exc}") from None
    if "text" in record:
        if not record["text"].strip():
            raise BulkImportError(f"{where}: the text is empty")
        body, media_type = record["text"].encode("utf-8"), TEXT_TYPE
    else:
        path = base / record["path"]
        body, media_type = _read(path), media_type_of(path)
    return ImportItem(
        body=body,
        media_type=record.get("media_type", media_type),
        license=record.get("license", default_license),
        source=where,
        url=record.get("url", ""),
        parents=tuple(parents),
    )


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).parts
        if path.is_file() and not any(part.startswith(".") for part in relative):
            yield path


def collect(paths: list[Path], default_license: str) -> list[ImportItem]:
    """Every item the paths name, in a stable order (arguments, then sorted paths, then
    lines); the whole input is read and checked before the caller signs anything."""
    items: list[ImportItem] = []
    for given in paths:
        if not given.exists():
            raise BulkImportError(f"{given}: no such file or directory")
        for path in _files(given) if given.is_dir() else [given]:
            if path.suffix.lower() in JSONL_SUFFIXES:
                try:
                    text = _read(path).decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise BulkImportError(f"{path}: not UTF-8 JSON Lines: {exc.reason}") from None
                for number, line in enumerate(text.splitlines(), 1):
                    if line.strip():
                        items.append(
                            parse_line(line, f"{path}:{number}", path.parent, default_license)
                        )
            else:
                body = _read(path)
                items.append(ImportItem(body, media_type_of(path), default_license, str(path)))
    if not items:
        raise BulkImportError("nothing to publish: the paths hold no files")
    return items
