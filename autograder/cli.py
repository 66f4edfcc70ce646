"""The instructor's command line: one verb per step, one module per verb.

    python -m autograder release            build release/ and register the assignments
    python -m autograder collect PATH       import submissions (folder tree or LMS zip)
    python -m autograder grade              autograde, sandboxed, in parallel
    python -m autograder feedback           one HTML report per student and assignment
    python -m autograder export             CSV for the LMS gradebook
    python -m autograder status             what is collected, graded, pending, failed
    python -m autograder report             what the class got wrong (instructor only)
    python -m autograder demo               a sample class graded end to end
    python -m autograder worker ADDRESS     serve grading jobs from this host (Dask)
    python -m autograder cluster-script     a SLURM script or Kubernetes manifest for them

This layer only parses arguments: each verb's defaults come from its module's function.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from autograder import ensure_tools_on_path

#: verb -> module; each module has add_arguments(parser) and run(args) -> int
VERBS = {
    "release": "autograder.release",
    "collect": "autograder.collect",
    "grade": "autograder.grade",
    "feedback": "autograder.feedback",
    "export": "autograder.export",
    "status": "autograder.status",
    "report": "autograder.report",
    "demo": "autograder.demo",
    "worker": "autograder.worker",
    "cluster-script": "autograder.cluster_script",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Grade the CNN course's notebooks: release, collect, grade, feedback, export.",
    )
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, module_name in VERBS.items():
        module = importlib.import_module(module_name)
        summary = (module.__doc__ or "").strip().splitlines()[0]
        verb_parser = sub.add_parser(
            verb,
            help=summary,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        verb_parser.add_argument(
            "--course",
            default=".",
            metavar="PATH",
            help="course root (holds nbgrader_config.py; default: the current folder)",
        )
        module.add_arguments(verb_parser)
        verb_parser.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    ensure_tools_on_path()
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print(
            "interrupted: what was graded so far is saved; run the same command again to finish",
            file=sys.stderr,
        )
        return 130
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
