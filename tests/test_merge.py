"""merge3: a line-based three-way merge that keeps the user's edits and dsgen's new render."""

from __future__ import annotations

import random

import pytest

from dsgen._merge import BASE_MARK, OURS_MARK, SEP_MARK, THEIRS_MARK, merge3

BASE = "a\nb\nc\nd\ne\n"


def test_nothing_changed():
    result = merge3(BASE, BASE, BASE)
    assert (result.text, result.conflicts, result.clean) == (BASE, 0, True)


def test_only_ours_changed():
    ours = "a\nB (mine)\nc\nd\ne\n"
    assert merge3(BASE, ours, BASE).text == ours


def test_only_theirs_changed():
    theirs = "a\nb\nc\nD (new)\ne\n"
    assert merge3(BASE, BASE, theirs).text == theirs


def test_clean_merge_of_separate_changes():
    ours = "a\nB (mine)\nc\nd\ne\n"
    theirs = "a\nb\nc\nD (new)\ne\n"
    result = merge3(BASE, ours, theirs)
    assert result.clean
    assert result.text == "a\nB (mine)\nc\nD (new)\ne\n"


def test_conflict_is_marked_diff3_style():
    ours = "a\nb\nC (mine)\nd\ne\n"
    theirs = "a\nb\nC (new)\nd\ne\n"
    result = merge3(BASE, ours, theirs)
    assert result.conflicts == 1 and not result.clean
    assert result.text == (
        "a\nb\n"
        f"{OURS_MARK}\nC (mine)\n{BASE_MARK}\nc\n{SEP_MARK}\nC (new)\n{THEIRS_MARK}\n"
        "d\ne\n")
    assert OURS_MARK == "<<<<<<< yours" and THEIRS_MARK == ">>>>>>> new dsgen render"


def test_two_conflicts_are_counted():
    ours = "A1\nb\nc\nd\nE1\n"
    theirs = "A2\nb\nc\nd\nE2\n"
    result = merge3(BASE, ours, theirs)
    assert result.conflicts == 2
    assert result.text.count(OURS_MARK) == 2 and result.text.count(THEIRS_MARK) == 2
    assert "b\nc\nd\n" in result.text


def test_identical_changes_on_both_sides_are_taken_once():
    both = "a\nb\nC (same)\nd\nX (same)\ne\n"
    result = merge3(BASE, both, both)
    assert result.clean and result.text == both


def test_identical_deletion_on_both_sides():
    both = "a\nb\nd\ne\n"
    assert merge3(BASE, both, both).text == both


def test_insertions_at_start():
    result = merge3(BASE, "# mine\n" + BASE, BASE.replace("e\n", "e (new)\n"))
    assert result.clean
    assert result.text == "# mine\na\nb\nc\nd\ne (new)\n"


def test_insertions_at_end():
    result = merge3(BASE, BASE + "# mine\n", BASE.replace("a\n", "A (new)\n"))
    assert result.clean
    assert result.text == "A (new)\nb\nc\nd\ne\n# mine\n"


def test_insertions_at_start_on_both_sides_conflict():
    result = merge3(BASE, "mine\n" + BASE, "new\n" + BASE)
    assert result.conflicts == 1
    assert result.text == (f"{OURS_MARK}\nmine\n{BASE_MARK}\n{SEP_MARK}\nnew\n{THEIRS_MARK}\n"
                           + BASE)


def test_insertions_at_end_on_both_sides_conflict():
    result = merge3(BASE, BASE + "mine\n", BASE + "new\n")
    assert result.conflicts == 1
    assert result.text == BASE + (f"{OURS_MARK}\nmine\n{BASE_MARK}\n{SEP_MARK}\nnew\n"
                                  f"{THEIRS_MARK}\n")


def test_same_insertion_at_end_on_both_sides():
    result = merge3(BASE, BASE + "x\n", BASE + "x\n")
    assert result.clean and result.text == BASE + "x\n"


def test_user_deletion_is_kept_when_render_changes_elsewhere():
    ours = "a\nb\nd\ne\n"                         # the user removed c
    theirs = "a\nb\nc\nd\ne\nf (new)\n"
    result = merge3(BASE, ours, theirs)
    assert result.clean and result.text == "a\nb\nd\ne\nf (new)\n"


def test_deletion_against_an_edit_of_the_same_line_conflicts():
    result = merge3(BASE, "a\nb\nd\ne\n", "a\nb\nC (new)\nd\ne\n")
    assert result.conflicts == 1
    assert f"{OURS_MARK}\n{BASE_MARK}\nc\n{SEP_MARK}\nC (new)\n{THEIRS_MARK}\n" in result.text


def test_empty_base():
    assert merge3("", "x\n", "").text == "x\n"
    assert merge3("", "", "y\n").text == "y\n"
    assert merge3("", "x\n", "y\n").conflicts == 1


def test_repeated_lines_do_not_confuse_the_merge():
    base = "}\n}\n}\n"
    ours = "}\nmine\n}\n}\n"
    theirs = "}\n}\n}\nnew\n"
    result = merge3(base, ours, theirs)
    assert result.clean and result.text == "}\nmine\n}\n}\nnew\n"


def test_last_line_without_newline_gets_one_before_a_marker():
    result = merge3("a\nb", "a\nmine", "a\nnew")
    assert result.conflicts == 1
    assert result.text == f"a\n{OURS_MARK}\nmine\n{BASE_MARK}\nb\n{SEP_MARK}\nnew\n{THEIRS_MARK}\n"


def test_clean_merge_keeps_a_missing_final_newline():
    assert merge3("a\nb\nc", "A\nb\nc", "a\nb\nc").text == "A\nb\nc"


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x0c", "\x1c", "\x85", "\r"])
def test_only_newline_ends_a_line(sep):
    # Generated code may hold these characters inside a string literal; a conflict must
    # mark whole lines and never split one of them in two.
    base = f'x = "a{sep}b"\ny = 1\n'
    ours = f'x = "mine{sep}b"\ny = 1\n'
    theirs = f'x = "new{sep}b"\ny = 1\n'
    result = merge3(base, ours, theirs)
    assert result.conflicts == 1
    assert result.text == (f'{OURS_MARK}\nx = "mine{sep}b"\n{BASE_MARK}\nx = "a{sep}b"\n'
                           f'{SEP_MARK}\nx = "new{sep}b"\n{THEIRS_MARK}\ny = 1\n')


def test_crlf_lines_merge_cleanly():
    base = "a\r\nb\r\nc\r\n"
    result = merge3(base, "A\r\nb\r\nc\r\n", "a\r\nb\r\nC\r\n")
    assert result.clean and result.text == "A\r\nb\r\nC\r\n"


def test_merge_is_a_function_of_its_inputs():
    ours = "a\nB (mine)\nc\nd\ne\n"
    theirs = "a\nb\nc\nD (new)\ne\n"
    assert merge3(BASE, ours, theirs) == merge3(BASE, ours, theirs)


def test_separate_edits_in_repetitive_code_always_merge_cleanly():
    # Code is full of repeated lines (blank lines, `}`, `pass`): an insertion or an edit on
    # each side, a few lines apart, must merge cleanly and exactly, whatever the layout.
    rng = random.Random(20240131)
    pool = ["", "}", "    pass", "x = 1", "return None"]
    for _ in range(300):
        base = [rng.choice(pool) if rng.random() < 0.6 else f"line {i}"
                for i in range(rng.randint(10, 50))]
        edits: dict[int, tuple[str, str]] = {}
        last = -3
        for p in sorted(rng.sample(range(len(base)), rng.randint(1, len(base) // 4))):
            if p - last >= 3:
                edits[p] = (rng.choice(["insert", "replace"]), rng.choice("ot"))
                last = p

        def apply(sides: str, base=base, edits=edits) -> str:
            out = []
            for i, line in enumerate(base):
                kind, side = edits.get(i, ("", ""))
                if side and side in sides:
                    out.append(f"{side} edit {i}")
                    if kind == "insert":
                        out.append(line)
                else:
                    out.append(line)
            return "".join(f"{line}\n" for line in out)

        result = merge3(apply(""), apply("o"), apply("t"))
        assert result.clean and result.text == apply("ot"), (base, edits)
