"""The untrusted side: everything that runs a student's code or stands next to it.

docs/design.md, "The trust boundary" and "What runs where". Here live the driver that runs
inside the sandbox (`driver`, the one file mounted there), the host half of an execution
(`executor`), the sandbox's plan (`bwrap`, `cgroup`, `seccomp`), the grading worker that
prepares and executes one submission (`worker`), and where jobs run (`backend`: a Dask
LocalCluster or a running scheduler). What comes out of here is data for the trusted side
to judge; nothing here reads or writes the gradebook's live file or the ledger, judges a
cell or scores a notebook: these modules never import `autograder.records` or
`autograder.reporting` (tests/autograder/test_architecture.py).
"""
