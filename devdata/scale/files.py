"""The bid files of scale data on disk.

Bid files share their content: one small file per kind is written once under
``MEDIA_ROOT/scale/shared/`` and every bid file of that kind is a hard link
to it (a copy where links are not possible), so every file a page serves is
there, with the SHA-256 its record names, at almost no cost in disk space.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
from pathlib import Path

from django.conf import settings

from devdata.scale.batch import Batch
from devdata.scale.shapes import FILE_KINDS, MEDIA_FOLDER


def _content(kind: int) -> bytes:
    """A small, real file of each kind (a PDF starts with %PDF-, and so on)."""
    name, ext, _ = FILE_KINDS[kind]
    if ext == "pdf":
        body = f"%PDF-1.4\n% {name}: seeded at council scale\n".encode()
        return body + b"%" + b"x" * 2000 + b"\n%%EOF\n"
    if ext == "csv":
        lines = ["item,quantity,unit price"] + [f"Item {i},{i},{i * 12}.50" for i in range(1, 60)]
        return ("\n".join(lines) + "\n").encode()
    return ("We will employ local people and pay the Real Living Wage.\n" * 20).encode()


@functools.cache
def shared_contents() -> tuple[bytes, ...]:
    """The content of each kind of file (``FILE_KINDS``' order)."""
    return tuple(_content(kind) for kind in range(len(FILE_KINDS)))


def sizes_and_digests() -> tuple[list[int], list[str]]:
    """The size and SHA-256 of each kind of file, as its records name them."""
    contents = shared_contents()
    return [len(c) for c in contents], [hashlib.sha256(c).hexdigest() for c in contents]


def put_on_disk(batch: Batch) -> None:
    """Every bid file the batch recorded, linked to its kind's shared file."""
    root = Path(settings.MEDIA_ROOT)
    shared = root / MEDIA_FOLDER / "shared"
    shared.mkdir(parents=True, exist_ok=True)
    sources = []
    for kind, content in enumerate(shared_contents()):
        path = shared / f"{kind}.{FILE_KINDS[kind][1]}"
        path.write_bytes(content)
        sources.append(path)
    made = set()
    linked = 0
    for kind, relative in dict.fromkeys(batch.links):
        target = root / relative
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        try:
            os.link(sources[kind], target)
        except FileExistsError:
            continue
        except OSError:
            shutil.copyfile(sources[kind], target)
        linked += 1
    batch.report.counts["files on disk"] += linked


def remove_files() -> None:
    """Remove the files ``build`` put on disk."""
    shutil.rmtree(Path(settings.MEDIA_ROOT) / MEDIA_FOLDER, ignore_errors=True)
