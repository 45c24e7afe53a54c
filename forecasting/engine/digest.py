"""sha256 of files (checkpoints, pretraining corpora, their manifests and recipes), without torch or Django."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

BLOCK = 1 << 20


def file_digest(path: str | Path, *, sync: bool = False) -> tuple[str, int]:
    """(sha256 hex digest, size in bytes) of a file, read in 1 MiB blocks; ``sync`` flushes it to disk first, so
    the digest recorded for a file just written is that of the stored bytes."""
    digest = hashlib.sha256()
    size = 0
    with Path(path).open("rb") as handle:
        if sync:
            os.fsync(handle.fileno())
        while block := handle.read(BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
