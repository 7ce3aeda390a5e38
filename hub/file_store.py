"""Rendered documents as files under one directory (Settings.documents_path), shared by every replica of the API
and the workers. Content-addressed: a file's name is its SHA-256, so a file once written never changes, two
concurrent writers of different content never overwrite each other, and a retry writes the same name again.
Written to a temporary file and renamed, so a reader never sees half a file. The database keeps the index (which
file is a customer's current deck) and only relative paths, so the directory can move."""

import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath


class FileStore:
    def __init__(self, root: Path):
        self.root = root

    def _absolute(self, relative: str) -> Path:
        path = PurePosixPath(relative)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"not a path inside the file store: {relative!r}")
        return self.root.joinpath(*path.parts)

    def put(self, folder: str, suffix: str, content: bytes) -> tuple[str, str]:
        """Store `content` under `folder`; returns (relative path, sha256)."""
        sha256 = hashlib.sha256(content).hexdigest()
        relative = f"{folder}/{sha256}.{suffix}"
        target = self._absolute(relative)
        if target.exists() and target.stat().st_size == len(content):
            return relative, sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return relative, sha256

    def path(self, relative: str) -> Path:
        """The file's absolute path; FileNotFoundError when it is gone (e.g. the directory is not mounted)."""
        target = self._absolute(relative)
        if not target.is_file():
            raise FileNotFoundError(f"{relative} is missing in the file store")
        return target

    def remove(self, relative: str) -> None:
        self._absolute(relative).unlink(missing_ok=True)
