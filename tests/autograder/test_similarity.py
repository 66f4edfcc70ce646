"""Similar hand-ins: copydetect's fingerprints over the solution code, template and
reference excluded."""

from __future__ import annotations

from autograder.reporting import similarity

TEMPLATE = 'def add(a, b):\n    """Elementwise sum."""\n    raise NotImplementedError()\n'
REFERENCE = '''def add(a, b):
    """Elementwise sum."""
    assert len(a) == len(b), "a and b must have one length"
    return [x + y for x, y in zip(a, b)]
'''
LONG = '''def add(a, b):
    """Elementwise sum."""
    if len(a) != len(b):
        raise ValueError("a and b differ in length")
    collected = []
    for position in range(len(a)):
        left_value = a[position]
        right_value = b[position]
        collected.append(left_value + right_value)
    size = len(collected)
    return [collected[index] for index in range(size)]
'''
#: LONG with every name changed, a comment added and the layout changed.
RENAMED = '''def add(a, b):
    """Elementwise sum."""
    if len(a) != len(b):
        raise ValueError("the lengths differ")
    out = []   # the sums
    for i in range(len(a)):
        x = a[i]
        y = b[i]
        out.append(x + y)
    n = len(out)
    return [out[k] for k in range(n)]
'''
#: LONG with its statements rewritten (a comprehension over zip): the same idea.
REWRITTEN = '''def add(a, b):
    """Elementwise sum."""
    pairs = list(zip(a, b))
    return [left + right for left, right in pairs]
'''


def test_renamed_code_is_flagged_the_reference_and_the_template_are_not():
    docs = {"ann": LONG, "ben": RENAMED, "cas": REFERENCE, "dot": REFERENCE, "eve": TEMPLATE}
    found = similarity.compare(docs, TEMPLATE, REFERENCE)
    assert [(p.first, p.second) for p in found.pairs] == [("ann", "ben")]
    (pair,) = found.pairs
    assert min(pair.similarity) > 0.8 and pair.overlap >= similarity.MIN_OVERLAP
    assert '<mark class="same">' in pair.first_html and "collected" in pair.first_html
    # cas and dot hand in the reference: identical, yet no pair; they match the reference.
    assert found.reference["cas"] == 1.0 and found.reference["dot"] == 1.0
    assert found.compared == 2  # ann and ben; eve's stub and the references are not theirs


def test_rewritten_statements_are_not_found():
    found = similarity.compare({"ann": LONG, "fay": REWRITTEN}, TEMPLATE, REFERENCE)
    assert found.pairs == []


def test_the_side_by_side_view_escapes_the_code():
    hostile = LONG.replace("collected = []", "collected = []  # </pre><script>x()</script>")
    found = similarity.compare({"ann": LONG, "ben": hostile}, TEMPLATE)
    (pair,) = found.pairs
    assert "<script>" not in pair.second_html and "&lt;script&gt;" in pair.second_html
