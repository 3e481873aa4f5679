"""write_files: ownership-aware, all-or-nothing writes that never lose a user's edit.

dsgen records what it wrote in `.dsgen/lock.json` (a sha256 per file) and keeps the pristine
last render under `.dsgen/pristine/`, so a later render can tell an untouched file (update
it) from a user-edited one (three-way merge: base = pristine, ours = the user's file,
theirs = the new render) without git.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from dsgen._errors import ConflictError, UnsafePathError, UsageError
from dsgen._merge import merge3
from dsgen._render import RenderedFile

STATE_DIR = ".dsgen"
LOCK_FILE = f"{STATE_DIR}/lock.json"
PRISTINE_DIR = f"{STATE_DIR}/pristine"
LOCK_VERSION = 1


class Action(str, Enum):
    CREATE = "created"
    UPDATE = "updated"
    IDENTICAL = "identical"
    MERGE = "merged"            # user edits and new render combined cleanly
    CONFLICT = "conflict"       # user edits and new render overlap
    KEEP = "kept"               # user-edited, and dsgen has nothing new for it
    DELETED = "deleted"         # the user deleted it: it stays deleted
    REMOVE = "removed"          # no longer generated and untouched: removed
    ORPHAN = "orphaned"         # no longer generated but user-edited: left alone
    UNMANAGED = "unmanaged"     # exists, dsgen never wrote it, and it differs: not touched

    @property
    def changes_disk(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE, Action.MERGE, Action.CONFLICT,
                        Action.REMOVE)


class Conflicts(str, Enum):
    """The conflict policy of every write (CLI and library): what happens when a user edit
    cannot be merged or a file dsgen did not write is in the way."""

    ABORT = "abort"         # raise ConflictError before any byte is written
    MARKERS = "markers"     # write the merge with diff3 markers (unmanaged files: untouched)

    @classmethod
    def of(cls, value: Conflicts | str) -> Conflicts:
        try:
            return cls(value)
        except ValueError:
            raise UsageError(f"unknown conflict policy {value!r}; expected "
                             + " or ".join(repr(c.value) for c in cls)) from None

    def check(self, results: list[FileResult]) -> None:
        """Raise ConflictError (nothing written yet) when this policy must stop the write."""
        if self is not Conflicts.ABORT:
            return
        blocked = [r.path for r in results if r.action in (Action.CONFLICT, Action.UNMANAGED)]
        if blocked:
            raise ConflictError(f"{len(blocked)} file(s) would lose your edits or overwrite "
                                "files dsgen did not write; nothing was written", blocked)


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    action: Action
    before: bytes | None        # what is on disk now
    after: bytes | None         # what the file will hold (None: not written / removed)
    rendered: bytes | None      # the new pristine render (None when no longer generated)
    conflicts: int = 0


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_SHA = frozenset("0123456789abcdef")


def bad_relpath(path: object) -> str | None:
    """Why `path` is no file path dsgen may write under a project, or None when it is one:
    relative, normalised, POSIX (no backslash, no drive), no `..`, no NUL, not dsgen's state.
    The lock is input (a cloned repository brings its own): its paths are checked too."""
    if not isinstance(path, str) or not path:
        return "not a path"
    if "\0" in path or any(ord(c) < 32 for c in path):
        return "holds a control character"
    if "\\" in path:
        return "holds a backslash"
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return "is absolute"
    parts = path.split("/")
    if ".." in parts:
        return "leads out of the project through '..'"
    if any(part in ("", ".") for part in parts):
        return "is not normalised"
    if parts[0] == STATE_DIR:
        return f"is inside dsgen's own {STATE_DIR}/"
    return None


class _Root:
    """The project folder, resolved once: is a path (after symbolic links) inside it?"""

    def __init__(self, dest: Path):
        self.dest = dest
        self.real = os.path.realpath(dest)

    def outside(self, target: Path | str) -> bool:
        real = os.path.realpath(target)
        return real != self.real and not real.startswith(self.real.rstrip(os.sep) + os.sep)

    def shown(self, target: Path) -> str:
        """A target that resolves outside, for the message: where it is, where it leads."""
        where = target.relative_to(self.dest).as_posix() if target.is_relative_to(self.dest) \
            else str(target)
        return f"{where} leads outside the project (to {os.path.realpath(target)})"

    def check(self, paths: list[str], *, state: bool = True) -> None:
        """Raise UnsafePathError, before anything is read or written, when a path (or its
        pristine copy) is malformed or resolves outside the project."""
        bad: list[str] = []
        for path in paths:
            reason = bad_relpath(path)
            if reason is not None:
                bad.append(f"{path!r} {reason}")
                continue
            targets = [self.dest / path] + ([self.dest / PRISTINE_DIR / path] if state else [])
            bad.extend(self.shown(target) for target in targets if self.outside(target))
        if bad:
            raise UnsafePathError(f"refusing to write outside the project {self.dest}; "
                                  "nothing was written:", bad)


def check_inside(dest: Path, targets: list[Path]) -> None:
    """UnsafePathError, before anything is written, when a target resolves outside dest."""
    root = _Root(dest)
    escaping = sorted({root.shown(t) for t in targets if root.outside(t)})
    if escaping:
        raise UnsafePathError(f"refusing to write outside the project {dest}; nothing was "
                              "written:", escaping)


class LockError(UnsafePathError):
    """`.dsgen/lock.json` is not a lock dsgen wrote; nothing was written."""


def read_lock(dest: Path) -> dict[str, dict]:
    """The lock's entries, checked: every path relative and inside the project, every
    entry a sha256 (and an optional `deleted` flag). LockError otherwise."""
    path = dest / LOCK_FILE
    root = _Root(dest)
    for state in (dest / STATE_DIR, path):
        if root.outside(state):
            raise UnsafePathError(f"refusing to use dsgen's state outside the project "
                                  f"{dest}; nothing was written:",
                                  [root.shown(state)])
    if not path.is_file():
        return {}

    def invalid(why: str) -> LockError:
        return LockError(f"{path} is not a lock dsgen wrote ({why}); nothing was written. "
                         "Restore it from version control, or delete it: dsgen then leaves "
                         "every existing file it would change alone as unmanaged:", [])

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise invalid(f"unreadable: {str(exc)[:200]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files", {}), dict):
        raise invalid("expected an object with 'files' by path")
    files = dict(data.get("files", {}))
    for name, entry in files.items():
        reason = bad_relpath(name)
        if reason is not None:
            raise invalid(f"the entry {name!r} {reason}")
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(sha, str) or len(sha) != 64 or not _SHA.issuperset(sha):
            raise invalid(f"the entry {name!r} has no sha256")
        if not isinstance(entry.get("deleted", False), bool) or \
                set(entry) - {"sha256", "deleted"}:
            raise invalid(f"the entry {name!r} holds unknown keys or values")
    root.check(list(files))
    return files


def _text(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def plan_writes(rendered: list[RenderedFile], dest: Path) -> list[FileResult]:
    """Decide what happens to every file; reads the disk, writes nothing.

    Every path (rendered or in the lock) is checked first: UnsafePathError when one is
    malformed or leads outside the project through a symbolic link."""
    lock = read_lock(dest)
    _Root(dest).check([f.path for f in rendered])
    results: list[FileResult] = []
    wanted = {f.path for f in rendered}
    for f in rendered:
        target = dest / f.path
        entry = lock.get(f.path)
        if target.exists() and not target.is_file():
            # A directory (or another non-file) where dsgen would write: never touched.
            results.append(FileResult(f.path, Action.UNMANAGED, None, None, None))
            continue
        current = target.read_bytes() if target.is_file() else None
        if entry is None:
            if current is None:
                results.append(FileResult(f.path, Action.CREATE, None, f.content, f.content))
            elif current == f.content:
                results.append(FileResult(f.path, Action.IDENTICAL, current, current, f.content))
            else:
                results.append(FileResult(f.path, Action.UNMANAGED, current, None, None))
            continue
        if current is None:
            action = Action.DELETED
            results.append(FileResult(f.path, action, None, None, f.content))
            continue
        if _sha(current) == entry["sha256"]:       # untouched since dsgen wrote it
            action = Action.IDENTICAL if current == f.content else Action.UPDATE
            results.append(FileResult(f.path, action, current, f.content, f.content))
            continue
        base = _pristine(dest, f.path)
        if base == f.content or current == f.content:
            results.append(FileResult(f.path, Action.KEEP, current, current, f.content))
            continue
        base_text, ours, theirs = _text(base), _text(current), _text(f.content)
        if base_text is None or ours is None or theirs is None:
            results.append(FileResult(f.path, Action.CONFLICT, current, None, f.content, 1))
            continue
        merged = merge3(base_text, ours, theirs)
        action = Action.MERGE if merged.clean else Action.CONFLICT
        results.append(FileResult(f.path, action, current, merged.text.encode("utf-8"),
                                  f.content, merged.conflicts))
    for path in sorted(set(lock) - wanted):
        target = dest / path
        if lock[path].get("deleted") or not target.is_file():
            continue
        current = target.read_bytes()
        if _sha(current) == lock[path]["sha256"]:
            results.append(FileResult(path, Action.REMOVE, current, None, None))
        else:
            results.append(FileResult(path, Action.ORPHAN, current, current, None))
    results.sort(key=lambda r: r.path)
    return results


def _pristine(dest: Path, path: str) -> bytes | None:
    p = dest / PRISTINE_DIR / path
    return p.read_bytes() if p.is_file() else None


def write_files(rendered: list[RenderedFile], dest: Path, *,
                conflicts: Conflicts | str = Conflicts.ABORT,
                untracked: frozenset[str] | set[str] = frozenset()) -> list[FileResult]:
    """Apply a render to `dest`; all-or-nothing.

    conflicts="abort" (default) raises ConflictError before any byte is written when a
    user edit cannot be merged or an unmanaged file is in the way; "markers" writes the
    merge with diff3 conflict markers instead (unmanaged files are still never touched).
    """
    results = plan_writes(rendered, dest)
    Conflicts.of(conflicts).check(results)
    apply(results, dest, untracked)
    return results


def apply(results: list[FileResult], dest: Path, untracked: frozenset[str] | set[str] = frozenset()
          ) -> None:
    """Stage every write as a temp file first, then rename them into place, then the lock.

    Paths in `untracked` (the user's own spec) are written when created but never recorded
    as dsgen's.
    """
    lock = read_lock(dest)
    writes: list[tuple[Path, bytes]] = []
    removes: list[Path] = []
    for r in results:
        target = dest / r.path
        if r.action in (Action.CREATE, Action.UPDATE, Action.MERGE, Action.CONFLICT) \
                and r.after is not None:
            writes.append((target, r.after))
        if r.action is Action.REMOVE:
            removes.append(target)
            removes.append(dest / PRISTINE_DIR / r.path)
        if r.path in untracked:
            continue
        if r.rendered is not None and r.action is not Action.UNMANAGED:
            if _pristine(dest, r.path) != r.rendered:
                writes.append((dest / PRISTINE_DIR / r.path, r.rendered))
            # The lock holds the hash of dsgen's own render, never of a merged or edited
            # file: a file differs from it exactly when the user has edited it.
            lock[r.path] = {"sha256": _sha(r.rendered)}
            if r.action is Action.DELETED:
                lock[r.path]["deleted"] = True
        elif r.action in (Action.REMOVE, Action.ORPHAN):
            lock.pop(r.path, None)
            removes.append(dest / PRISTINE_DIR / r.path)
    lock_bytes = (json.dumps({"version": LOCK_VERSION, "files": dict(sorted(lock.items()))},
                             indent=2, sort_keys=False) + "\n").encode()
    lock_path = dest / LOCK_FILE
    if not lock_path.is_file() or lock_path.read_bytes() != lock_bytes:
        writes.append((lock_path, lock_bytes))
    # The whole plan is checked before the first byte: no write or removal may resolve
    # outside the project (a symbolic link `app -> ../elsewhere`, a pristine dir that is one).
    check_inside(dest, [t for t, _ in writes] + removes)
    staged: list[tuple[str, Path]] = []
    folders: set[Path] = set()
    try:
        for target, data in writes:
            folder = target.parent
            if folder not in folders:       # one mkdir per folder, not per file
                folder.mkdir(parents=True, exist_ok=True)
                folders.add(folder)
            tmp = f"{folder}/.{target.name}.dsgen-tmp"
            staged.append((tmp, target))
            with open(tmp, "wb") as fh:
                fh.write(data)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    for path in removes:
        path.unlink(missing_ok=True)
