"""A real PostgreSQL server for the tests (pytest plugin, loaded from conftest.py).

``postgres_server`` (session): initdb into a temporary folder as the ``postgres`` user (initdb
refuses root), ``pg_ctl start`` on 127.0.0.1 and a free port, stopped at the end.
``pg_url`` (function): a fresh, empty database on it, as a SQLAlchemy URL (psycopg 3).
``any_backend_settings`` (parametrized ``sqlite`` / ``postgresql``): settings whose database is
either; a test module runs its ``app``/``settings`` tests on both by overriding ``settings``::

    @pytest.fixture
    def settings(any_backend_settings: Settings) -> Settings:
        return any_backend_settings

The binaries come from Debian's ``postgresql`` package (/usr/lib/postgresql/<v>/bin; `make test`
installs it when missing). Without them the PostgreSQL cases are skipped, except under CI
(``CI`` set), where they fail: the shared-server path must be tested there.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from onprem_bot.config import Settings, load_settings

BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count()


def pg_bindir() -> Path | None:
    """The newest PostgreSQL server binaries on this machine."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, on 127.0.0.1."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'psycopg[binary]')")
    bindir = pg_bindir()
    if bindir is None:
        _unavailable("PostgreSQL server binaries not found (apt-get install postgresql)")
    assert bindir is not None
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user for initdb")
        run_as = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="onprem-bot-pg-"))
    data, sock = folder / "data", folder / "sock"
    sock.mkdir()
    if run_as:
        for path in (folder, sock):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    try:
        subprocess.run(
            [*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--no-locale", "--no-sync"],
            check=True, capture_output=True, env=env,
        )  # fmt: skip
        options = f"-h 127.0.0.1 -p {port} -k {sock} -F -c fsync=off -c full_page_writes=off"
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-o", options,
             "-w", "-t", "60", "start"],
            check=True, capture_output=True, env=env,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        log = (folder / "server.log").read_text(errors="replace") if (folder / "server.log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')[-1500:]} {log[-1500:]}")
    try:
        yield PostgresServer("127.0.0.1", port, "postgres")
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True, env=env,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty PostgreSQL database for one test (SQLAlchemy URL)."""
    return postgres_server.create_database(f"t{os.getpid()}_{next(_counter)}")


@pytest.fixture(params=BACKENDS)
def any_backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL: SQLite in the test's folder, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'onprem-bot.db'}"
    server = request.getfixturevalue("postgres_server")
    return str(server.create_database(f"t{os.getpid()}_{next(_counter)}"))


@pytest.fixture
def any_backend_settings(any_backend_url: str, tmp_path: Path) -> Settings:
    """Like conftest's ``settings`` (hash embedder, own home) with the database on either backend."""
    return load_settings(env={}, home=tmp_path / "home", embedder={"backend": "hash"}, database_url=any_backend_url)
