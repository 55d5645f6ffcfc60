"""The built wheel installs into a fresh virtual environment and works without the source tree."""

from __future__ import annotations

import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the project's wheel installed (dependencies from this interpreter)."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp / "dist"),
        ],
        check=True,
        cwd=tmp,
    )
    wheels = list((tmp / "dist").glob("osce_kg-*.whl"))
    assert len(wheels) == 1, wheels
    env_dir = tmp / "venv"
    # The dependencies (rdflib & co.) come from the interpreter running the tests, without a
    # network: a .pth file appends its site-packages, so this works in a virtual environment too
    # (system_site_packages would see the base interpreter, not the venv pytest runs in). The
    # wheel itself goes into the new venv, whose own site-packages come first on sys.path.
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site_dir = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    outer = dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]])
    (Path(site_dir) / "outer-environment.pth").write_text("\n".join(outer) + "\n")
    subprocess.run(
        [str(py), "-m", "pip", "install", "--no-deps", "-q", str(wheels[0])], check=True, cwd=tmp
    )
    return env_dir


@pytest.mark.slow
def test_wheel_ships_ontology_shapes_and_data(wheel_venv: Path, tmp_path: Path) -> None:
    py = wheel_venv / "bin" / "python"
    code = (
        "import kg, kg.resources as r;"
        "print(kg.__file__);"
        "print(len(r.turtle_files(r.ontology_dir())), len(r.turtle_files(r.shapes_dir())));"
        "print(sum(1 for f in r.reference_dir().iterdir() if f.name.endswith('.tsv')))"
    )
    out = subprocess.run(
        [str(py), "-c", code], check=True, cwd=tmp_path, capture_output=True, text=True
    ).stdout.split()
    assert out[0].startswith(str(wheel_venv)), f"kg imported from {out[0]}, not the wheel"
    ontology_files, shape_files, tables = map(int, out[1:])
    assert ontology_files >= 1
    assert shape_files >= 1
    assert tables >= 9


@pytest.mark.slow
def test_wheel_ships_the_production_set_up(wheel_venv: Path) -> None:
    shipped = {p.name for p in wheel_venv.glob("lib/python*/site-packages/server/deploy/*")}
    assert {"gunicorn_conf.py", "nginx.conf"} <= shipped, shipped


@pytest.mark.slow
def test_wheel_cli_validates_reference_graph(wheel_venv: Path, tmp_path: Path) -> None:
    exe = wheel_venv / "bin" / "osce-kg"
    result = subprocess.run(
        [str(exe), "validate"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
