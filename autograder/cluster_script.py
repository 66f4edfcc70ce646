"""Print what starts grading workers on a batch system or in Kubernetes.

    python -m autograder cluster-script slurm tls://head:8786 --cores 8 --memory 32GB \\
        --walltime 02:00:00 --queue teaching \\
        --tls-ca ca.pem --tls-cert worker.pem --tls-key worker.key > grader.sbatch
    sbatch grader.sbatch          # once per node wanted

    python -m autograder cluster-script kubernetes grading --image registry/course:1 \\
        --workers 32 --memory 4Gi --data-claim mnist > grading.yaml
    kubectl apply -f grading.yaml

Both run `python -m autograder worker` (its sandbox check first) with single-threaded
worker processes. The SLURM script, one process per core of a node, is written by
dask-jobqueue (pip install -e '.[slurm]'). The Kubernetes manifest (one process per pod,
a DaskCluster with its scheduler, and a NetworkPolicy) is for the Dask operator, from
dask-kubernetes' template (pip install -e '.[kubernetes]'; the operator must run in the
cluster): autograder.sandbox.backend.kubernetes_manifest says what is in it.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from autograder.sandbox import backend

#: system -> the extra that writes its script
EXTRAS = {"slurm": "dask-jobqueue", "kubernetes": "dask-kubernetes"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    systems = parser.add_subparsers(dest="system", required=True, metavar="SYSTEM")
    slurm = systems.add_parser("slurm", help="a SLURM batch script; one per node wanted")
    slurm.add_argument("scheduler", help="the scheduler's address: tcp://... or tls://...")
    slurm.add_argument("--cores", type=int, required=True, help="cores per node = workers")
    slurm.add_argument("--memory", required=True, help="memory per node, e.g. 32GB")
    slurm.add_argument("--walltime", default="02:00:00", help="default: 02:00:00")
    slurm.add_argument("--queue", help="the partition (-p)")
    slurm.add_argument("--account", help="the account (-A)")
    slurm.add_argument("--python", help="the course's python on the nodes (default: this one)")
    slurm.add_argument(
        "--directive",
        action="append",
        default=[],
        metavar="OPTION",
        help="one more #SBATCH option, e.g. --constraint=bwrap (repeatable)",
    )
    slurm.add_argument("--tls-ca", metavar="PEM", help="the cluster's CA (tls://)")
    slurm.add_argument("--tls-cert", metavar="PEM", help="the workers' certificate")
    slurm.add_argument("--tls-key", metavar="PEM", help="the workers' private key")

    kube = systems.add_parser(
        "kubernetes", help="a DaskCluster and a NetworkPolicy for the Dask operator"
    )
    kube.add_argument("name", help="the DaskCluster's name (its scheduler: NAME-scheduler)")
    kube.add_argument(
        "--image", required=True, help="an image with this course installed and bubblewrap"
    )
    kube.add_argument("--workers", type=int, required=True, help="worker pods, one job each")
    kube.add_argument("--memory", default="4Gi", help="memory per worker pod (default: 4Gi)")
    kube.add_argument(
        "--data-claim", metavar="PVC", help="a PersistentVolumeClaim holding MNIST's files"
    )
    kube.add_argument(
        "--privileged",
        action="store_true",
        help="privileged worker containers, where the runtime masks /proc and the sandbox "
        "check fails otherwise (a weaker outer boundary)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        if args.system == "kubernetes":
            if args.workers < 1:
                raise ValueError(f"--workers must be at least 1, not {args.workers}")
            objects = backend.kubernetes_manifest(
                args.name,
                image=args.image,
                workers=args.workers,
                memory=args.memory,
                data_claim=args.data_claim,
                privileged=args.privileged,
            )
            print(yaml.safe_dump_all(objects, sort_keys=False), end="")
            return 0
        tls = backend.tls_files(args.tls_ca, args.tls_cert, args.tls_key, here=False)
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
        extra = EXTRAS[args.system]
        print(
            f"cluster-script {args.system} needs {extra}: pip install -e '.[{args.system}]'",
            file=sys.stderr,
        )
        return 2
    print(script)
    return 0
