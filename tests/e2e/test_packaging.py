"""The distribution as a user installs it: one import name, next to a project's own packages,
with layers the import linter checks on the installed layout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from factories import REPO

pytestmark = pytest.mark.slow

MAPPED = {"patronage": "patronage", "flows": "patronage.flows", "tasks": "patronage.tasks"}
MAPPED["schemas"] = "patronage.schemas"


def _run(*args: str, cwd: Path | None = None, env: dict | None = None):
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "-w", str(out), str(REPO),
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    return next(out.glob("patronage-*.whl"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory, wheel) -> Path:
    """The wheel unpacked as pip installs it (``--target``): what import-linter reads."""
    target = tmp_path_factory.mktemp("site")
    done = _run(
        sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)
    )
    assert done.returncode == 0, done.stderr
    return target


def test_the_wheel_installs_one_top_level_name(wheel):
    with zipfile.ZipFile(wheel) as archive:
        tops = {n.split("/")[0] for n in archive.namelist() if ".dist-info/" not in n}
    assert tops == {"patronage"}


def test_every_package_folder_is_in_the_wheel(wheel):
    """A folder with an ``__init__.py`` missing from pyproject's package list would be left out."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = {
        "/".join(
            [
                MAPPED[init.relative_to(REPO).parts[0]].replace(".", "/"),
                *init.relative_to(REPO).parts[1:],
            ]
        )  # fmt: skip
        for folder in MAPPED
        for init in (REPO / folder).rglob("__init__.py")
    }
    assert expected - names == set()
    assert "patronage/schemas/migrations/script.py.mako" in names
    assert "patronage/sample_data/company/policy.yaml" in names


def test_it_imports_next_to_a_user_project_with_its_own_flows_and_tasks(tmp_path, wheel):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        _run(
            str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        ).stdout.strip()
    )
    # Dependencies come from this environment's site-packages, appended after the new venv's
    # own: its .pth files (our editable install among them) are not processed from there.
    ours = next(p for p in map(Path, sys.path) if p.name == "site-packages" and p.is_dir())
    (site / "dependencies.pth").write_text(f"{ours}\n")
    done = _run(
        sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)
    )
    assert done.returncode == 0, done.stderr

    project = tmp_path / "project"
    for package in ("flows", "tasks", "schemas"):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text(f"OWNER = 'user {package}'\n")
    probe = (
        "import flows, tasks, schemas, patronage, patronage.flows.nightly, patronage.tasks.io\n"
        "print(flows.OWNER, tasks.OWNER, schemas.OWNER)\n"
        "print(patronage.__file__)\n"
        "print(patronage.flows.nightly.nightly.name)\n"
    )
    result = _run(str(python), "-c", probe, cwd=project, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    owners, location, flow_name = result.stdout.strip().splitlines()[-3:]
    assert owners == "user flows user tasks user schemas"
    assert location.startswith(str(site))
    assert flow_name == "patronage-nightly"


def _lint_imports(site: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    return _run(
        str(lint), "--no-cache", str(REPO / "pyproject.toml"),
        cwd=site.parent, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_the_layer_contracts_hold_on_the_installed_layout(installed):
    result = _lint_imports(installed)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    [
        # a pure transform reaching up into a flow
        ("tasks/transforms/value/rfm.py", "import patronage.flows.nightly", "Layers point down"),
        # the pipeline importing the simulator (an entry-point tool)
        ("tasks/io/read_exports.py", "import patronage.simulator", "Layers point down"),
        # a pure transform touching the database
        (
            "tasks/transforms/queues/retention_queue.py",
            "import sqlalchemy",
            "Pure transforms: no database",
        ),
    ],
)
def test_a_wrong_import_breaks_a_contract(tmp_path, installed, module, wrong_import, contract):
    site = tmp_path / "site"
    shutil.copytree(installed, site)
    target = site / "patronage" / module
    target.write_text(target.read_text() + f"\n{wrong_import}  # deliberately wrong\n")
    result = _lint_imports(site)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    broken = [line for line in result.stdout.splitlines() if "BROKEN" in line]
    assert any(contract in line for line in broken), result.stdout[-3000:]
