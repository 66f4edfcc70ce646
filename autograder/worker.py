"""Serve grading jobs from this host: a sandbox check, then `dask worker`.

    python -m autograder worker tls://head:8786 --nworkers 8 \\
        --tls-ca ca.pem --tls-cert worker.pem --tls-key worker.key
    python -m autograder worker --scheduler-file /shared/scheduler.json
    python -m autograder worker          # the address in DASK_SCHEDULER_ADDRESS (Kubernetes)

First it runs bubblewrap once, as grading does (autograder.sandbox.bwrap.sandbox_available). A
host where the sandbox does not work refuses to start: student code there would run with
the worker's rights. --allow-unsandboxed starts it anyway, for trusted submissions only
(every notebook graded there then says NOT SANDBOXED).

Then it becomes `dask worker ADDRESS --nthreads 1 --resources grader=1`: each worker
process takes one job at a time, and offers the resource that grading jobs need, which a
plain `dask worker` on the same scheduler does not. The host needs this package installed
(the same version as the grading host: a job from other grading code is refused) and
bubblewrap; not the course folder: each job brings its hand-in, and each assignment's
bundle (autograder.sandbox.bundle) is staged under --cache-dir, once per bundle. The MNIST
data is this host's CNN_COURSE_DATA folder, when an assignment needs it.
The exit code is 2 when the sandbox check fails; otherwise it is dask worker's.
"""

from __future__ import annotations

import argparse
import os
import sys

import dask

from autograder.sandbox import backend, bundle, bwrap

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
    "bubblewrap) and allow unprivileged user namespaces (sysctl "
    "kernel.unprivileged_userns_clone=1; in a container, a seccomp profile that permits "
    "them), then start the worker again"
)


def dask_worker_command(args: argparse.Namespace) -> list[str]:
    """The `dask worker` command line this verb runs (this interpreter's distributed)."""
    cmd = [sys.executable, "-m", "distributed.cli.dask_worker"]
    if args.scheduler_file:
        cmd += ["--scheduler-file", args.scheduler_file]
    else:
        cmd.append(args.address)
    cmd += ["--nthreads", "1", "--resources", f"{backend.RESOURCE}=1"]
    cmd += ["--nworkers", str(args.nworkers), "--no-dashboard"]
    # Fail at start, not at the first job, on a host without the course package.
    cmd += ["--preload", "autograder.sandbox.backend"]
    cmd.append("--nanny" if args.nanny else "--no-nanny")
    for flag, value in (
        ("--name", args.name),
        ("--memory-limit", args.memory_limit),
        ("--death-timeout", args.death_timeout),
        ("--local-directory", args.local_directory),
        ("--tls-ca-file", args.tls_ca),
        ("--tls-cert", args.tls_cert),
        ("--tls-key", args.tls_key),
    ):
        if value:
            cmd += [flag, str(value)]
    return cmd


def preflight(*, allow_unsandboxed: bool) -> tuple[bool, str]:
    """Whether this host may take jobs, and the line to print about it."""
    ok, how = bwrap.sandbox_available()
    if ok:
        return True, f"sandbox check passed: {how}"
    if allow_unsandboxed:
        return True, (
            f"WARNING: the grading sandbox does NOT work here ({how}); starting anyway "
            "(--allow-unsandboxed): student code will run with this worker's rights"
        )
    return False, (
        f"refusing to start: this host cannot sandbox student code ({how}). {INSTALL_HINT}; "
        "or, for trusted submissions only, start with --allow-unsandboxed"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "address",
        nargs="?",
        help="the scheduler: tcp://host:8786 or tls://host:8786 (default: DASK_SCHEDULER_ADDRESS)",
    )
    parser.add_argument("--scheduler-file", metavar="PATH", help="read the address from PATH")
    parser.add_argument(
        "--nworkers", type=int, default=1, metavar="N", help="worker processes (default: 1)"
    )
    parser.add_argument(
        "--nthreads",
        type=int,
        choices=[1],
        default=1,
        help="threads per worker process: always 1, one job at a time (accepted for "
        "dask-jobqueue's command line)",
    )
    parser.add_argument("--name", help="the worker's name (dask worker --name)")
    parser.add_argument(
        "--memory-limit",
        metavar="BYTES",
        default="0",
        help="Dask's memory limit per worker process (default: 0, none; the sandbox's "
        "cgroup limits student code)",
    )
    parser.add_argument("--death-timeout", metavar="S", help="exit when no scheduler for S")
    parser.add_argument("--local-directory", metavar="PATH", help="Dask's scratch folder")
    parser.add_argument(
        "--cache-dir",
        metavar="PATH",
        help=f"where the assignment bundles are staged and jobs run (default: "
        f"${bundle.CACHE_ENV}, else ~/.cache/cnn-course/grader)",
    )
    parser.add_argument(
        "--nanny",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="restart a worker process that died (default: on)",
    )
    parser.add_argument("--tls-ca", "--tls-ca-file", metavar="PEM", help="the cluster's CA")
    parser.add_argument("--tls-cert", metavar="PEM", help="this worker's certificate")
    parser.add_argument("--tls-key", metavar="PEM", help="this worker's private key")
    parser.add_argument(
        "--allow-unsandboxed",
        action="store_true",
        help="start even where bubblewrap does not work (trusted submissions only)",
    )


def run(args: argparse.Namespace) -> int:
    if not (args.address or args.scheduler_file):
        # Where the Dask operator starts the worker (a Kubernetes pod), it says where the
        # scheduler is in DASK_SCHEDULER_ADDRESS, which Dask reads as `scheduler-address`.
        args.address = dask.config.get("scheduler-address", None)
    if not (args.address or args.scheduler_file):
        raise ValueError(
            "give the scheduler's ADDRESS or --scheduler-file (or set DASK_SCHEDULER_ADDRESS)"
        )
    backend.tls_files(args.tls_ca, args.tls_cert, args.tls_key)  # all three, or none
    ok, line = preflight(allow_unsandboxed=args.allow_unsandboxed)
    print(line, file=sys.stderr, flush=True)
    if not ok:
        return 2
    if args.cache_dir:  # the dask worker processes inherit it
        os.environ[bundle.CACHE_ENV] = os.path.abspath(args.cache_dir)
    for name, value in backend.config_env(backend.QUIET_CONFIG).items():
        os.environ.setdefault(name, value)  # the instructor's own DASK_* settings win
    cmd = dask_worker_command(args)
    os.execv(cmd[0], cmd)
    return 0  # not reached: execv replaces this process
