"""A line-based three-way merge (diff3), so regeneration keeps user edits without git."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

OURS_MARK = "<<<<<<< yours"
BASE_MARK = "||||||| last dsgen render"
SEP_MARK = "======="
THEIRS_MARK = ">>>>>>> new dsgen render"


@dataclass(frozen=True, slots=True)
class MergeResult:
    text: str
    conflicts: int

    @property
    def clean(self) -> bool:
        return self.conflicts == 0


def _matches(a: list[str], b: list[str]) -> dict[int, int]:
    """Index in a -> index in b for every line the longest-matching diff pairs up."""
    pairs: dict[int, int] = {}
    for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            pairs[block.a + k] = block.b + k
    return pairs


def merge3(base: str, ours: str, theirs: str) -> MergeResult:
    """Merge the changes base->ours and base->theirs; overlapping changes become conflicts.

    Lines that base, ours and theirs all share are sync points; between two sync points a
    chunk changed on one side only takes that side, the same change on both sides is taken
    once, and different changes are a conflict marked diff3-style.
    """
    b = base.splitlines(keepends=True)
    o = ours.splitlines(keepends=True)
    t = theirs.splitlines(keepends=True)
    mo, mt = _matches(b, o), _matches(b, t)
    out: list[str] = []
    conflicts = 0
    i = oi = ti = 0
    while True:
        k = i
        while k < len(b) and not (k in mo and k in mt):
            k += 1
        o_end = mo[k] if k < len(b) else len(o)
        t_end = mt[k] if k < len(b) else len(t)
        if k == i and k < len(b) and o_end == oi and t_end == ti:
            out.append(b[i])
            i, oi, ti = i + 1, oi + 1, ti + 1
            continue
        base_chunk, ours_chunk, theirs_chunk = b[i:k], o[oi:o_end], t[ti:t_end]
        if ours_chunk == base_chunk:
            out.extend(theirs_chunk)
        elif theirs_chunk == base_chunk or ours_chunk == theirs_chunk:
            out.extend(ours_chunk)
        else:
            conflicts += 1
            out.append(OURS_MARK + "\n")
            out.extend(_ended(ours_chunk))
            out.append(BASE_MARK + "\n")
            out.extend(_ended(base_chunk))
            out.append(SEP_MARK + "\n")
            out.extend(_ended(theirs_chunk))
            out.append(THEIRS_MARK + "\n")
        if k >= len(b):
            break
        i, oi, ti = k, o_end, t_end
    return MergeResult("".join(out), conflicts)


def _ended(lines: list[str]) -> list[str]:
    """Lines with a final newline, so a marker never lands on the end of a content line."""
    if lines and not lines[-1].endswith("\n"):
        return [*lines[:-1], lines[-1] + "\n"]
    return lines
