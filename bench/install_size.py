"""Installed size of rdsca's core and of each extra, side by side (issue 27.1): rdsca's wheel is built from this
checkout, then installed with its dependencies from PyPI into fresh virtualenvs (core, [pulumi], [demo]); the size
is what the install adds to site-packages (pip and setuptools, which every virtualenv has, are left out), on disk
and as the files' own sizes. Also times `rdsca --version` and a Terraform check in the core install.

    python bench/install_size.py            # needs PyPI; about a minute per variant
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = {"pip", "setuptools", "pkg_resources", "_distutils_hack", "distutils-precedence.pth"}


def _size(site: Path) -> tuple[float, float]:
    disk = apparent = 0
    for entry in site.iterdir():
        if entry.name.split("-")[0] in BASE or entry.name in BASE:
            continue
        for path in (entry.rglob("*") if entry.is_dir() else [entry]):
            if path.is_file() and not path.is_symlink():
                stat = path.stat()
                apparent += stat.st_size
                disk += stat.st_blocks * 512
    return disk / 1e6, apparent / 1e6


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="rdsca-size-"))
    try:
        subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(work / "dist"),
                        str(ROOT)], check=True, capture_output=True)
        (wheel,) = (work / "dist").glob("rdsca-*.whl")
        rows = []
        for variant in ("", "[pulumi]", "[demo]"):
            env_dir = work / f"venv{variant.strip('[]') or '-core'}"
            venv.EnvBuilder(with_pip=True).create(env_dir)
            python = env_dir / "bin" / "python"
            started = time.monotonic()
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            f"{wheel}{variant}"], check=True)
            took = time.monotonic() - started
            site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                        "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
            disk, apparent = _size(site)
            rows.append((variant or "core", disk, apparent, took, env_dir))
        print(f"load average: {os.getloadavg()[0]:.2f}")
        print("| install | on disk MB | files MB | pip install s |")
        print("|---|---|---|---|")
        for name, disk, apparent, took, _env in rows:
            print(f"| rdsca{'' if name == 'core' else name} | {disk:.1f} | {apparent:.1f} | {took:.0f} |")
        core = rows[0][4] / "bin" / "rdsca"
        legacy = str(ROOT / "examples" / "terraform-legacy")
        for label, args in (("rdsca --version", ["--version"]),
                            ("rdsca check examples/terraform-legacy", ["check", legacy])):
            times = []
            for _ in range(5):
                started = time.monotonic()
                subprocess.run([str(core), *args], capture_output=True, check=False)
                times.append(time.monotonic() - started)
            print(f"core install, {label}: median {statistics.median(times):.2f} s of 5")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
