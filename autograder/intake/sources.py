"""Read the entries of a submissions folder or zip without trusting them.

Nothing is extracted to disk. A folder is walked without following symlinks
(a symlink is reported as such, never opened); a file is opened with
``O_NOFOLLOW`` and read up to a size cap. A zip is read member by member with
a cap on the bytes actually inflated (the sizes a zip declares can lie), a cap
on the number of members, and member names that are only ever used as labels,
never as paths; names with ``..`` or absolute paths are flagged unsafe.
"""
from __future__ import annotations

import os
import posixpath
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

# Folders an OS, Jupyter or an archiver leaves behind; never submissions.
IGNORED_DIRS = {".ipynb_checkpoints", "__MACOSX", ".git", ".svn", "__pycache__", ".Trash", ".DS_Store"}
MAX_DEPTH = 5  # submitted/<sid>/<lab>/<lab>.ipynb is depth 4
MAX_ENTRIES = 50_000
MAX_ZIP_TOTAL_BYTES = 8 * 1024**3  # inflated bytes read from one zip, all members together


class TooLarge(Exception):
    def __init__(self, size: int | None, cap: int) -> None:
        super().__init__(f"over the {cap} byte cap")
        self.size = size
        self.cap = cap


class Unreadable(Exception):
    """The member or file exists but cannot be read (message is TA-facing)."""


@dataclass
class Entry:
    """One item of a submissions source. ``kind``: file, symlink, other (device,
    fifo, ...), unsafe (zip name escaping the archive), encrypted."""

    path: str  # '/'-separated, relative to the source root
    kind: str
    size: int  # declared size (a zip's declaration is not trusted when reading)
    _read: Callable[[int], bytes] | None = None
    target: str = ""  # a symlink's target, for the message

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parts(self) -> list[str]:
        return self.path.split("/")

    def read(self, cap: int) -> bytes:
        """At most ``cap`` bytes, else :class:`TooLarge`; never follows a symlink."""
        if self.kind != "file" or self._read is None:
            raise Unreadable(f"{self.path} is not a regular file")
        if self.size > cap:
            raise TooLarge(self.size, cap)
        return self._read(cap)


class Source:
    root: Path
    kind: str  # "folder" | "zip"

    def entries(self) -> Iterator[Entry]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


def _ignored(name: str) -> bool:
    return name in IGNORED_DIRS or name.startswith("._")


class FolderSource(Source):
    kind = "folder"

    def __init__(self, root: Path) -> None:
        self.root = root

    def entries(self) -> Iterator[Entry]:
        count = 0
        stack: list[tuple[Path, str, int]] = [(self.root, "", 0)]
        while stack:
            folder, rel, depth = stack.pop()
            try:
                with os.scandir(folder) as it:
                    items = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            for item in items:
                if _ignored(item.name):
                    continue
                count += 1
                if count > MAX_ENTRIES:
                    return
                path = f"{rel}{item.name}"
                try:
                    st = item.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISLNK(st.st_mode):
                    try:
                        target = os.readlink(item.path)
                    except OSError:
                        target = "?"
                    yield Entry(path, "symlink", 0, target=target)
                elif stat.S_ISDIR(st.st_mode):
                    if depth + 1 < MAX_DEPTH:
                        stack.append((Path(item.path), path + "/", depth + 1))
                elif stat.S_ISREG(st.st_mode):
                    yield Entry(path, "file", st.st_size, _read=_file_reader(Path(item.path)))
                else:
                    yield Entry(path, "other", 0)


def _file_reader(path: Path) -> Callable[[int], bytes]:
    def read(cap: int) -> bytes:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise Unreadable(f"could not open the file ({exc.strerror})") from exc
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise Unreadable("not a regular file")
            if st.st_size > cap:
                raise TooLarge(st.st_size, cap)
            chunks, total = [], 0
            while True:
                chunk = os.read(fd, min(1 << 20, cap + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > cap:
                    raise TooLarge(None, cap)
            return b"".join(chunks)
        finally:
            os.close(fd)

    return read


class ZipSource(Source):
    kind = "zip"

    def __init__(self, root: Path) -> None:
        self.root = root
        self._zip = zipfile.ZipFile(root)
        self._budget = MAX_ZIP_TOTAL_BYTES

    def close(self) -> None:
        self._zip.close()

    def entries(self) -> Iterator[Entry]:
        infos = self._zip.infolist()
        for count, info in enumerate(infos):
            if count >= MAX_ENTRIES:
                return
            raw = info.filename.replace("\\", "/")
            if info.is_dir() or raw.endswith("/"):
                continue
            parts = [p for p in raw.split("/") if p not in ("", ".")]
            if any(_ignored(p) for p in parts) or not parts:
                continue
            unsafe = raw.startswith("/") or ".." in parts or (len(raw) > 1 and raw[1] == ":")
            path = posixpath.join(*[p for p in parts if p != ".."]) if parts else raw
            mode = (info.external_attr >> 16) & 0o170000
            if unsafe:
                yield Entry(path, "unsafe", info.file_size, target=raw)
            elif mode == stat.S_IFLNK:
                yield Entry(path, "symlink", info.file_size, target="(a link stored in the zip)")
            elif info.flag_bits & 0x1:
                yield Entry(path, "encrypted", info.file_size)
            else:
                yield Entry(path, "file", info.file_size, _read=self._member_reader(info))

    def _member_reader(self, info: zipfile.ZipInfo) -> Callable[[int], bytes]:
        def read(cap: int) -> bytes:
            chunks, total = [], 0
            try:
                with self._zip.open(info) as member:
                    while True:
                        chunk = member.read(min(1 << 20, cap + 1 - total))
                        if not chunk:
                            break
                        chunks.append(chunk)
                        total += len(chunk)
                        self._budget -= len(chunk)
                        if total > cap:
                            raise TooLarge(None, cap)
                        if self._budget < 0:
                            raise Unreadable("the zip inflates to more data than the grader accepts (a zip bomb?)")
            except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
                raise Unreadable(f"the zip member could not be read ({type(exc).__name__}: {exc})") from exc
            except Exception as exc:  # zlib.error and friends
                if isinstance(exc, (TooLarge, Unreadable)):
                    raise
                raise Unreadable(f"the zip member could not be read ({type(exc).__name__})") from exc
            return b"".join(chunks)

        return read


def open_source(path: Path) -> Source:
    if path.is_dir():
        return FolderSource(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return ZipSource(path)
    if path.is_file() and path.suffix.lower() == ".zip":
        raise ValueError(f"{path} is not a readable zip file")
    if not path.exists():
        raise FileNotFoundError(f"submissions not found: {path}")
    raise ValueError(f"{path} is neither a folder of notebooks nor a zip file")
