"""The check engine: passes right answers, names recognised mistakes, explains the rest."""

from __future__ import annotations

import re
import traceback
from pathlib import Path

import numpy as np
import pytest

from course.checks import (
    Case,
    CheckFailed,
    Mistake,
    _core,
    answer_digest,
    assert_close,
    check,
    check_answer,
    fmt,
)

X = np.arange(9.0).reshape(3, 3)
CASE = Case("the lecture 000 example", (X,), X * 2)
DOUBLED_WRONG = Mistake(
    "added_instead", "you added X to itself twice", "Multiply once.", lambda c: c.args[0] * 3
)


def test_right_answer_passes_and_says_so(capsys):
    """A correct function passes every case and prints one line naming them."""
    # Nothing comes back: nbgrader would read a returned number as partial credit.
    assert check(lambda a: a * 2, name="double", cases=[CASE]) is None
    assert "✓ double: 1 of 1 checks passed (the lecture 000 example)" in capsys.readouterr().out


def test_recognised_mistake_is_named():
    """An output equal to a catalogued mistake's output gets that mistake's sentence."""
    with pytest.raises(CheckFailed) as info:
        check(lambda a: a * 3, name="double", cases=[CASE], mistakes=[DOUBLED_WRONG])
    assert info.value.mistake == "added_instead"
    assert "It looks like you added X to itself twice" in str(info.value)
    assert "expected" in str(info.value) and "got" in str(info.value)


def test_unrecognised_wrong_answer_points_to_the_lecture():
    """A wrong answer that matches no mistake still says expected vs got and the pointer."""
    with pytest.raises(CheckFailed) as info:
        check(lambda a: a + 1, name="double", cases=[CASE], pointer="See lecture 000.")
    assert info.value.mistake is None
    assert "See lecture 000." in str(info.value)
    assert "values differ" in str(info.value)


@pytest.mark.parametrize(
    ("fn", "key"),
    [
        (lambda a: np.zeros_like(a), "returns_zeros"),
        (lambda a: a, "returns_input"),
        (lambda a: None, "returned_none"),
        (lambda a: 1 / 0, "raised"),
        (lambda a: (_ for _ in ()).throw(NotImplementedError("Exercise 1.1")), "not_implemented"),
    ],
)
def test_generic_mistakes(fn, key):
    """Mistakes any exercise can make are recognised without a catalogue."""
    with pytest.raises(CheckFailed) as info:
        check(fn, name="double", cases=[CASE])
    assert info.value.mistake == key


def test_in_place_edit_of_the_input_is_caught():
    """A function that overwrites its argument is told so, even if its output is right."""

    def double_in_place(a):
        a *= 2
        return a

    with pytest.raises(CheckFailed) as info:
        check(double_in_place, name="double", cases=[CASE])
    assert info.value.mistake == "mutates_input"


def test_mistake_equal_to_the_right_answer_is_not_blamed():
    """If a mistake gives the right output on a case, it cannot explain a failure there."""
    harmless = Mistake("harmless", "x", "y", lambda c: c.expected)
    with pytest.raises(CheckFailed) as info:
        check(lambda a: a - 1, name="double", cases=[CASE], mistakes=[harmless])
    assert info.value.mistake is None


def test_wrong_shape_is_reported_as_shape():
    with pytest.raises(CheckFailed, match=r"shape \(2, 2\), expected \(3, 3\)"):
        check(lambda a: a[:2, :2], name="double", cases=[CASE])


def test_assert_close_reveals_no_values():
    """Hidden-test failures name the case but print no numbers of the hidden data."""
    secret = np.array([[123.456, 789.0]])
    with pytest.raises(AssertionError) as info:
        assert_close(secret + 1, secret, "corr2d on a random 1×2 input")
    assert "123" not in str(info.value) and "789" not in str(info.value)
    assert "corr2d on a random 1×2 input" in str(info.value)
    assert_close(secret, secret.copy(), "same")


def test_quiz_answers_are_checked_by_digest(capsys):
    digest = answer_digest((3, 3))
    check_answer([3.0, 3], question="Q2", digest=digest, hint="Use the formula.")
    assert "✓ Q2: correct." in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="not right"):
        check_answer((2, 2), question="Q2", digest=digest, hint="Use the formula.")
    with pytest.raises(CheckFailed, match="no answer yet"):
        check_answer(None, question="Q2", digest=digest, hint="")


def test_fmt_is_compact():
    assert (
        fmt(np.array([[19.0, 25.0], [37.0, 43.0]]))
        == "[[19, 25],\n             [37, 43]]  [shape (2, 2)]"
    )
    assert "top-left corner" in fmt(np.zeros((20, 20)))
    assert fmt(3.0) == "3"


def test_mistake_ruled_out_by_an_earlier_case_is_not_named():
    """A student who passed case 1 cannot have a mistake that fails case 1, even if that
    mistake's output coincides with theirs on case 2."""
    first = Case("case 1", (np.array([1.0, 2.0]),), np.array([2.0, 4.0]))
    second = Case("case 2", (np.array([3.0, 5.0]),), np.array([6.0, 10.0]))
    # Wrong on case 1 (gives a+1 = [2, 3]) and, on case 2, equal to the student's output.
    plus_one = Mistake("plus_one", "you added one", "", lambda c: c.args[0] + 1)

    def student(a):  # right on case 1, gives [4, 6] on case 2 (= a + 1 there)
        return a * 2 if a[0] == 1 else a + 1

    with pytest.raises(CheckFailed) as info:
        check(student, name="double", cases=[first, second], mistakes=[plus_one])
    assert info.value.mistake is None
    with pytest.raises(CheckFailed) as info:
        check(student, name="double", cases=[second], mistakes=[plus_one])
    assert info.value.mistake == "plus_one"


def test_ambiguous_mistakes_are_decided_by_later_cases():
    """Two mistakes that coincide on the failing case are told apart by the next cases."""
    symmetric = Case("symmetric", (np.array([1.0, 1.0]),), np.array([1.0, 2.0]))
    plain = Case("plain", (np.array([1.0, 3.0]),), np.array([1.0, 6.0]))
    reverse = Mistake("reversed", "you reversed", "", lambda c: c.args[0][::-1])
    ignore = Mistake("ignored", "you ignored", "", lambda c: c.args[0])

    def student(a):  # "ignored" on every case
        return a.copy()

    with pytest.raises(CheckFailed) as info:
        check(student, name="f", cases=[symmetric, plain], mistakes=[reverse, ignore])
    assert info.value.mistake == "ignored"
    assert info.value.case == "symmetric"  # reported where it first fails
    # Without the later case, the first catalogued candidate is all the check can say.
    with pytest.raises(CheckFailed) as info:
        check(student, name="f", cases=[symmetric], mistakes=[reverse, ignore])
    assert info.value.mistake == "reversed"


def test_a_mistake_that_leaves_a_later_wrong_case_right_is_no_name():
    """A catalogued mistake that computes a later case right, where the student is wrong,
    does not explain the student (the loss of `log(softmax)`, whose gradient is right, is
    no name for a loss and a gradient both wrong). One that does not decide a case (None)
    says nothing there."""
    a = np.array([1.0, 2.0])
    loss = Case("the loss", (a,), np.array([3.0]), {"part": 0})
    grad = Case("the gradient", (a,), np.array([1.0, 1.0]), {"part": 1})

    def student(a, *, part):  # both parts wrong
        return [np.array([4.0]), a * 5][part]

    def wrong_loss(case, other):
        return np.array([4.0]) if case.kwargs["part"] == 0 else other(case)

    decides = Mistake(
        "loss_off", "the loss is off", "", lambda c: wrong_loss(c, lambda d: d.expected)
    )
    with pytest.raises(CheckFailed) as info:
        check(student, name="f", cases=[loss, grad], mistakes=[decides])
    assert info.value.mistake is None
    undecided = Mistake("loss_off", "the loss is off", "", lambda c: wrong_loss(c, lambda c: None))
    with pytest.raises(CheckFailed) as info:
        check(student, name="f", cases=[loss, grad], mistakes=[undecided])
    assert info.value.mistake == "loss_off"


def test_ragged_tuple_output_gets_a_generic_message():
    """A tuple of arrays of different shapes that matches nothing is still explained."""
    case = Case("pair", (np.zeros(2),), (np.zeros(2), np.zeros((2, 3))))
    with pytest.raises(CheckFailed) as info:
        check(lambda a: (np.ones(2), np.zeros((2, 3))), name="f", cases=[case])
    assert info.value.mistake is None


# ---------------------------------------------------------------------------------------
# What a student sees in Jupyter: the message, the student's frames, never the checker's
# ---------------------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")

KERNEL_CELLS = [
    "import numpy as np\nfrom course.checks import conv as checks",
    # 1: a wrong answer the catalogue names
    "def corr2d(X, K):\n"
    "    X, K = np.asarray(X, float), np.asarray(K, float)[::-1, ::-1]\n"
    "    h, w = K.shape\n"
    "    return np.array([[np.sum(X[i:i + h, j:j + w] * K)\n"
    "                      for j in range(X.shape[1] - w + 1)]\n"
    "                     for i in range(X.shape[0] - h + 1)])\n"
    "checks.check_corr2d(corr2d)",
    # 2: the student's own function raises
    "def corr2d(X, K):\n    scale = 0\n    return helper_of_mine(X, K) / scale\n"
    "def helper_of_mine(X, K):\n    raise ZeroDivisionError('my own bug on this line')\n"
    "checks.check_corr2d(corr2d)",
    # 3: a pass shows its line and no Out[n]
    "def corr2d(X, K):\n"
    "    X, K = np.asarray(X, float), np.asarray(K, float)\n"
    "    h, w = K.shape\n"
    "    return np.array([[np.sum(X[i:i + h, j:j + w] * K)\n"
    "                      for j in range(X.shape[1] - w + 1)]\n"
    "                     for i in range(X.shape[0] - h + 1)])\n"
    "checks.check_corr2d(corr2d)",
]


@pytest.fixture(scope="module")
def kernel_outputs():
    """Run KERNEL_CELLS in a real IPython kernel, as JupyterLab would."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in KERNEL_CELLS])
    NotebookClient(
        nb,
        timeout=60,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(Path(__file__).resolve().parents[2])}},
    ).execute()
    return [cell.outputs for cell in nb.cells]


def _error_text(outputs) -> str:
    (err,) = [o for o in outputs if o["output_type"] == "error"]
    return ANSI.sub("", "\n".join(err["traceback"]))


@pytest.mark.slow  # starts a kernel: about 3 s
def test_jupyter_shows_the_diagnosis_and_no_checker_frame(kernel_outputs):
    text = _error_text(kernel_outputs[1])
    assert text.startswith("Check failed: corr2d(")
    assert "It looks like" in text and "flipped" in text
    assert "course/checks" not in text and "_core.py" not in text and "File " not in text
    # Wrapped at word boundaries to a fixed width: the browser never breaks a word.
    assert max(len(line) for line in text.split("\n")) <= _core.WIDTH


@pytest.mark.slow
def test_jupyter_shows_the_students_frames_when_their_function_raised(kernel_outputs):
    text = _error_text(kernel_outputs[2])
    assert "helper_of_mine(X, K) / scale" in text  # the student's frames, with their lines
    assert "raise ZeroDivisionError('my own bug on this line')" in text
    assert "ZeroDivisionError: my own bug on this line" in text
    assert "course/checks" not in text and "_core.py" not in text
    # The message comes after the student's traceback, which it points to ("above").
    assert text.index("ZeroDivisionError: my own bug") < text.index("Check failed:")
    assert "traceback above" in text


@pytest.mark.slow
def test_a_passing_check_prints_its_line_and_no_value(kernel_outputs):
    outputs = kernel_outputs[3]
    assert [o["output_type"] for o in outputs] == ["stream"]
    assert outputs[0]["text"].startswith("✓ corr2d: 9 of 9 checks passed")


def test_plain_python_keeps_a_normal_traceback():
    """Outside IPython the protocol is not used: pytest and scripts see every frame."""

    def broken(a):
        raise ZeroDivisionError("boom")

    try:
        check(broken, name="double", cases=[CASE])
    except CheckFailed as exc:
        text = "".join(traceback.format_exception(exc))
    assert "_core.py" in text and "ZeroDivisionError: boom" in text
    assert "The above exception was the direct cause" in text


def test_long_messages_wrap_at_words_and_keep_excerpts():
    prose = "word " * 40 + "a_very_long_identifier_that_must_not_be_broken_anywhere"
    text = _core.wrap_message(f"{prose}\n  expected: [1, 2, 3]")
    lines = text.split("\n")
    assert all(len(line) <= _core.WIDTH for line in lines)
    assert lines[-1] == "  expected: [1, 2, 3]"
    assert "a_very_long_identifier_that_must_not_be_broken_anywhere" in lines[-2]


def test_excerpts_show_the_first_difference_not_the_corner():
    """A difference far from the top-left corner: the excerpts are the window around it,
    so expected and got never look the same."""
    expected = np.arange(120.0).reshape(10, 12)
    got = expected.copy()
    got[8, 11] = -1.0
    case = Case("a 10×12 input", (expected,), expected)
    with pytest.raises(CheckFailed) as info:
        check(lambda a: got, name="f", cases=[case])
    text = str(info.value)
    assert "first difference is at index [8, 11]" in text
    expected_line, got_line = (
        ln for ln in text.splitlines() if ln.startswith("  expected:") or ln.startswith("  got:")
    )
    assert expected_line.split(":", 1)[1] != got_line.split(":", 1)[1]
    assert "-1" in text and "rows 4-9, columns 4-11" in text


def test_first_difference_is_none_for_other_shapes_and_equal_arrays():
    assert _core.first_difference(np.zeros((2, 2)), np.zeros((2, 3))) is None
    assert _core.first_difference(np.ones(3), np.ones(3)) is None
    assert _core.first_difference(np.array([1.0, 2.0, 5.0]), np.array([1.0, 2.0, 3.0])) == (2,)


def test_a_float32_result_for_float64_inputs_fails_with_its_reason():
    """Right to 7 digits is not right: the exercises' float arrays are float64. Where a
    float32 array is given, a float32 result is fine."""
    X = np.arange(6.0).reshape(2, 3)
    cases = [Case("a 2×3 input", (X,), X * 2)]
    with pytest.raises(CheckFailed) as info:
        check(lambda X: (X * 2).astype(np.float32), name="double", cases=cases)
    assert info.value.mistake == "float32_output", str(info.value)
    assert "float32" in str(info.value) and "7 digits" in str(info.value)
    given = [Case("a float32 input", (X.astype(np.float32),), X * 2)]
    check(lambda X: X * 2, name="double", cases=given, quiet=True)
