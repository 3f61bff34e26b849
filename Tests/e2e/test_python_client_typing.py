"""The Python client's type hints: `mypy --strict` is clean on the package (its configuration
is in clients/python/pyproject.toml), and a sample of uses type-checks while each mistake in it
is reported (python_client_typing_sample.py: every mistake carries the `type: ignore[code]` mypy
must need; an ignore that is not needed fails, as --strict warns on unused ignores)."""
from __future__ import annotations

import pathlib
import subprocess
import sys

CLIENT = pathlib.Path(__file__).resolve().parents[2] / "clients" / "python"
SAMPLE = pathlib.Path(__file__).with_name("python_client_typing_sample.py")


def _mypy(*targets: str) -> subprocess.CompletedProcess[str]:
    # Run from the package's folder: mypy reads [tool.mypy] there and imports this checkout's ruvector.
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", *targets], cwd=CLIENT,
                          capture_output=True, text=True, timeout=300)


def test_the_package_is_clean_under_mypy_strict() -> None:
    done = _mypy("-p", "ruvector")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


def test_uses_type_check_and_mistakes_are_caught() -> None:
    done = _mypy(str(SAMPLE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert SAMPLE.read_text().count("# type: ignore[") >= 5
