"""What the trusted records become for people: feedback, the CSV export, the class report.

docs/design.md, "Data flow of one grading run". These modules read the gradebook (through
autograder.records.gradebook), the ledger and the autograded notebooks, and write
feedback/, exports/ and reports/; they never grade, and never show what a kernel printed
in a graded cell.
"""
