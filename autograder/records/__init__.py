"""The trusted records: the gradebook, the ledger, scoring, and where each submission stands.

docs/design.md, "The trust boundary" and "Data flow of one grading run". Only the grading
process writes here: `score` (the gradebook's only writer during grading, one job at a
time), `ledger` (one fsynced line per finished job), `grading` (the run: plan, hand the
jobs to autograder.sandbox, score each result once), `intake` (hand-ins into
submitted/). The gradebook is opened, and its course id and the submissions' times read,
in `gradebook` alone. `states` reads the records for status, export, feedback and the
class report.
"""
