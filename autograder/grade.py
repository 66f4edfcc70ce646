"""Autograde collected submissions: sandboxed, in parallel, safe to kill and rerun.

    python -m autograder grade                              everything not graded yet
    python -m autograder grade --assignment 01_convolution --student alice
    python -m autograder grade --force --workers 4 --cell-timeout 30
    python -m autograder grade --scheduler tls://head:8786 --tls-ca ca.pem \
        --tls-cert grader.pem --tls-key grader.key            on a Dask cluster

A job is one student's submission of one assignment (submitted/<student>/<assignment>/).
Dask worker processes execute jobs in the sandbox (autograder.sandbox.backend and .worker):
an embedded LocalCluster of --workers processes, or the workers of a running scheduler.
This process scores each finished job into the gradebook, one at a time
(autograder.records.score), then records it in the ledger (autograder.records.ledger); a
result for a submission the ledger already has graded is ignored, so a job Dask ran twice
counts once.
A job whose submission has not changed since it was graded is skipped (--force regrades
it). Killing the command at any moment loses at most the jobs in progress: run it again
and it finishes them, counting nothing twice.

A submission that raises, loops, runs out of memory, kills its kernel or tampers with the
tests gets the points its own work earns (or 0 and a flag); the batch goes on. One on
which the grading worker died three times is never scored: `status` lists it for a
person. The exit code is 0 when the batch ran, even if some jobs failed (they are
listed); 1 when the pipeline itself failed or the cluster was lost.

A thin command over autograder.records.grading, which runs the jobs.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from autograder.layout import Course
from autograder.records.grading import GRADING_LIMITS, ON_TAMPER, grade
from autograder.sandbox import backend
from autograder.sandbox.backend import Cluster, ClusterLostError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--assignment",
        action="append",
        metavar="NAME",
        help="grade only this assignment (repeatable); default: all",
    )
    parser.add_argument(
        "--student",
        action="append",
        metavar="ID",
        help="grade only this student (repeatable); default: all",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count(),
        metavar="N",
        help="worker processes of the embedded Dask LocalCluster "
        f"(default: {os.cpu_count()}, the number of cores)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the running Dask scheduler at ADDRESS (tcp://host:8786 or "
        "tls://host:8786) and its `python -m autograder worker` processes",
    )
    where.add_argument(
        "--scheduler-file",
        metavar="PATH",
        help="the same, with the address read from `dask scheduler --scheduler-file PATH`",
    )
    parser.add_argument("--tls-ca", metavar="PEM", help="CA certificate of the cluster (tls://)")
    parser.add_argument("--tls-cert", metavar="PEM", help="this client's certificate")
    parser.add_argument("--tls-key", metavar="PEM", help="this client's private key")
    parser.add_argument(
        "--force", action="store_true", help="regrade submissions already graded and unchanged"
    )
    parser.add_argument(
        "--on-tamper",
        choices=ON_TAMPER,
        default="zero",
        help="tampering detected: zero the notebook (an override you can lift after "
        "review; default) or only flag it",
    )
    parser.add_argument(
        "--cell-timeout",
        type=int,
        default=GRADING_LIMITS.cell_timeout,
        metavar="S",
        help=f"seconds one cell may run (default: {GRADING_LIMITS.cell_timeout})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per job")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    course = Course.at(args.course)
    limits = replace(GRADING_LIMITS, cell_timeout=args.cell_timeout)
    try:
        cluster = Cluster(
            workers=args.workers,
            scheduler=args.scheduler,
            scheduler_file=args.scheduler_file,
            tls_ca=args.tls_ca,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
        )
        report = grade(
            course,
            args.assignment,
            args.student,
            cluster=cluster,
            force=args.force,
            limits=limits,
            progress=not args.quiet,
            on_tamper=args.on_tamper,
            verbose=args.verbose,
        )
    except (ValueError, FileNotFoundError):
        raise  # the CLI prints these as "error: ..." (exit 2)
    except ClusterLostError as exc:
        print(f"grading stopped: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the pipeline itself failed
        print(f"grading failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if not report.outcomes and not report.duplicates:
        print("nothing to grade: no submissions in", course.submitted)
        return 0
    print(report.table())
    if report.failed:
        print(
            f"{len(report.failed)} job(s) failed: run the same command again to retry them "
            "(see `python -m autograder status` for the messages)."
        )
    if report.needs_person:
        print(
            f"{len(report.needs_person)} submission(s) need a person: the grading worker died "
            f"{backend.WORKER_DEATHS} times on each (`python -m autograder status` says more)."
        )
    return 0
