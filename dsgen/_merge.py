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


def _lines(text: str) -> list[str]:
    """Lines ended by \n only: str.splitlines also splits at U+2028, \x0c, \r, … which
    generated code may hold inside a string literal, and a conflict must mark whole lines."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _matches(a: list[str], b: list[str]) -> dict[int, int]:
    """Index in a -> index in b for every line the diff pairs up.

    The common head and tail are paired first: SequenceMatcher takes the longest block
    first, which for repeated lines (`}`, blank lines) can pair a line with a later copy
    and turn a plain insertion into a spurious conflict.
    """
    pairs: dict[int, int] = {}
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        pairs[head] = head
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
        pairs[len(a) - tail] = len(b) - tail
    middle = SequenceMatcher(None, a[head:len(a) - tail], b[head:len(b) - tail],
                             autojunk=False)
    for block in middle.get_matching_blocks():
        for k in range(block.size):
            pairs[head + block.a + k] = head + block.b + k
    return pairs


def merge3(base: str, ours: str, theirs: str) -> MergeResult:
    """Merge the changes base->ours and base->theirs; overlapping changes become conflicts.

    Lines that base, ours and theirs all share are sync points; between two sync points a
    chunk changed on one side only takes that side, the same change on both sides is taken
    once, and different changes are a conflict marked diff3-style.
    """
    b, o, t = _lines(base), _lines(ours), _lines(theirs)
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
