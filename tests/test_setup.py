"""`make setup` (and the README's `make demo` and `make test`, which run the same step)
installs bubblewrap on a fresh machine, or says how, with `bwrap` hidden from PATH.

Each case runs the real Makefile target with a PATH that holds only stand-ins: an `id` that
says who we are, and an `apt-get` that records its arguments and "installs" a `bwrap`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _machine(tmp_path: Path, *, uid: int, apt_get: bool, bwrap: bool = False) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _tool(bin_dir, "id", f"echo {uid}")
    if apt_get:
        # Records each call; `install` puts a bwrap on PATH, as the real package does.
        _tool(
            bin_dir,
            "apt-get",
            f'echo "$*" >> {tmp_path}/apt.log\n'
            f'case "$*" in *install*) printf "#!/bin/sh\\n" > {bin_dir}/bwrap; '
            f"chmod +x {bin_dir}/bwrap;; esac",
        )
    if bwrap:
        _tool(bin_dir, "bwrap", "exit 0")
    return bin_dir


def _setup_step(bin_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MAKE, "-s", "-C", str(ROOT), "sandbox-tool"],
        env={"PATH": str(bin_dir)},  # no /usr/bin: the machine's own bwrap is hidden
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_root_with_apt_get_installs_bubblewrap(tmp_path):
    bin_dir = _machine(tmp_path, uid=0, apt_get=True)
    run = _setup_step(bin_dir)
    assert run.returncode == 0, run.stderr
    assert "install -y -qq bubblewrap" in (tmp_path / "apt.log").read_text()
    assert (bin_dir / "bwrap").exists()
    assert "Installing bubblewrap" in run.stdout


@pytest.mark.parametrize(
    ("uid", "apt_get"), [(1000, True), (0, False)], ids=["not-root", "no-apt-get"]
)
def test_without_a_way_to_install_it_prints_the_command_and_goes_on(tmp_path, uid, apt_get):
    bin_dir = _machine(tmp_path, uid=uid, apt_get=apt_get)
    run = _setup_step(bin_dir)
    assert run.returncode == 0, run.stderr
    assert "sudo apt-get install bubblewrap" in run.stdout
    assert not (tmp_path / "apt.log").exists()
    assert not (bin_dir / "bwrap").exists()


def test_nothing_happens_when_bubblewrap_is_there(tmp_path):
    bin_dir = _machine(tmp_path, uid=0, apt_get=True, bwrap=True)
    run = _setup_step(bin_dir)
    assert run.returncode == 0 and run.stdout == "", run.stdout + run.stderr
    assert not (tmp_path / "apt.log").exists()


def test_the_readme_commands_run_the_step():
    text = (ROOT / "Makefile").read_text()
    for target in ("setup", "demo", "test"):
        assert f"\n{target}: " in text
        line = text.split(f"\n{target}: ", 1)[1].split("\n", 1)[0]
        assert "sandbox-tool" in line, target
