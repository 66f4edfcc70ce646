"""Print a batch-system job script that starts grading workers for a running scheduler.

    python -m autograder cluster-script slurm tls://head:8786 --cores 8 --memory 32GB \\
        --walltime 02:00:00 --queue teaching \\
        --tls-ca ca.pem --tls-cert worker.pem --tls-key worker.key > grader.sbatch
    sbatch grader.sbatch          # once per node wanted

The script runs `python -m autograder worker` (its sandbox check first) with one
single-threaded worker process per core. It is written by dask-jobqueue: install the
extra first (pip install -e '.[slurm]').
"""

from __future__ import annotations

import argparse
import sys

from autograder.sandbox import backend


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("system", choices=["slurm"], help="the batch system")
    parser.add_argument("scheduler", help="the scheduler's address: tcp://... or tls://...")
    parser.add_argument("--cores", type=int, required=True, help="cores per node = workers")
    parser.add_argument("--memory", required=True, help="memory per node, e.g. 32GB")
    parser.add_argument("--walltime", default="02:00:00", help="default: 02:00:00")
    parser.add_argument("--queue", help="the partition (-p)")
    parser.add_argument("--account", help="the account (-A)")
    parser.add_argument("--python", help="the course's python on the nodes (default: this one)")
    parser.add_argument(
        "--directive",
        action="append",
        default=[],
        metavar="OPTION",
        help="one more #SBATCH option, e.g. --constraint=bwrap (repeatable)",
    )
    parser.add_argument("--tls-ca", metavar="PEM", help="the cluster's CA (tls://)")
    parser.add_argument("--tls-cert", metavar="PEM", help="the workers' certificate")
    parser.add_argument("--tls-key", metavar="PEM", help="the workers' private key")


def run(args: argparse.Namespace) -> int:
    tls = backend.tls_files(args.tls_ca, args.tls_cert, args.tls_key, here=False)
    try:
        script = backend.slurm_job_script(
            args.scheduler,
            cores=args.cores,
            memory=args.memory,
            walltime=args.walltime,
            queue=args.queue,
            account=args.account,
            python=args.python,
            tls=tls,
            directives=tuple(args.directive),
        )
    except ImportError:
        print("cluster-script needs dask-jobqueue: pip install -e '.[slurm]'", file=sys.stderr)
        return 2
    print(script)
    return 0
