"""Trusted decisions that hold no records: the judge, its scenarios, the integrity scan,
the notebook's inert HTML, and where each graded cell sits in the course.

docs/design.md, "The trust boundary". The judge plans the probe's inputs (in the grading
worker, before execution) and decides the verdicts (in the grading process, after it);
both halves are pure functions of the source notebook, the reference solutions and the
run's seed, so the grading worker may import this package. It imports nothing of
`autograder.sandbox`, `autograder.records` or `autograder.reporting`.
"""
