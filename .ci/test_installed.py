"""Run the test suite against the installed fastmf (a wheel), not the source tree.

    python .ci/test_installed.py [PROJECT_DIR] [pytest args...]

Copies PROJECT_DIR/tests into a temporary folder and runs pytest there, with the doctests of
the installed package (``--pyargs fastmf``) and the pytest options of pyproject.toml, so that the
source tree's fastmf/ (without compiled extensions, or with files the wheel lacks) can never
be imported instead. Fails when the fastmf it imports is not the installed one.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv):
    project = Path(argv[0] if argv else Path(__file__).resolve().parents[1]).resolve()
    with tempfile.TemporaryDirectory(prefix="fastmf-installed-") as tmp:
        shutil.copytree(project / "tests", Path(tmp, "tests"))
        check = subprocess.run([sys.executable, "-c", "import fastmf; print(fastmf.__file__)"],
                               cwd=tmp, capture_output=True, text=True, check=True)
        where = Path(check.stdout.strip()).resolve()
        if where.is_relative_to(project):
            sys.exit(f"fastmf is imported from the source tree ({where}), not installed")
        print(f"testing the installed fastmf at {where.parent}", flush=True)
        env = dict(os.environ)
        env.setdefault("FASTMF_SHARED_DATA", str(project.parent / "shared" / "data"))
        # pyproject.toml's pytest options (markers, doctest flags, --doctest-modules), with
        # the copy as rootdir; --pyargs: the doctests of the installed package
        cmd = [sys.executable, "-m", "pytest", "-q", "-c", str(project / "pyproject.toml"),
               "--rootdir", tmp, "tests", "--pyargs", "fastmf", *argv[1:]]
        return subprocess.run(cmd, cwd=tmp, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
