"""A real OpenLDAP server for the directory log-in tests (helper; the fixture lives in test_ldap.py).

:func:`start_ldap_server` writes a ``slapd.conf`` (mdb backend, suffix ``dc=example,dc=org``,
rootdn ``cn=admin,dc=example,dc=org`` / :data:`ADMIN_PASSWORD`) into a temporary folder, loads
:data:`PEOPLE` and :data:`GROUPS` with ``slapadd``, starts ``slapd`` in the foreground on 127.0.0.1
and a free port, and waits until it answers. :meth:`LdapServer.stop` ends it (the data stays, so
:meth:`LdapServer.start` brings it back); :meth:`LdapServer.close` also removes the folder.

The binaries come from Debian's ``slapd`` package (`make test` installs it when missing, with
``ldap-utils``). Without them the directory tests are skipped, except under CI (``CI`` set), where
they fail: the directory path must be tested there.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

SUFFIX = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-secret"
PEOPLE = {
    "kim": "kim-password1",  # in 인사팀 and staff
    "lee": "lee-password1",  # in staff and "Sales Team" (a name with a space: unusable, skipped)
    "park": "park-password1",  # in no group
    "x)(cn=*": "inject-password1",  # filter characters in the name; in no group
}
GROUPS = {"인사팀": ["kim"], "staff": ["kim", "lee"], "Sales Team": ["lee"]}
SCHEMAS = ("core", "cosine", "nis", "inetorgperson")


def user_dn(name: str) -> str:
    """The DN of a test user (``=`` in the name escaped as a DN value)."""
    return f"uid={name.replace('=', chr(92) + '=')},ou=people,{SUFFIX}"


def group_dn(name: str) -> str:
    return f"cn={name},ou=groups,{SUFFIX}"


def slapd_binary() -> Path | None:
    """Debian's ``slapd`` (in /usr/sbin, which a non-root PATH may lack), or None."""
    for candidate in (shutil.which("slapd"), "/usr/sbin/slapd"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def unavailable(reason: str) -> None:
    """Skip (fail under CI) the directory tests."""
    if os.environ.get("CI"):
        pytest.fail(f"OpenLDAP (slapd) is required in CI: {reason}")
    pytest.skip(reason)


def ssha(password: str) -> str:
    """``{SSHA}`` userPassword value (what ``slappasswd`` writes)."""
    salt = secrets.token_bytes(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ldif(entries: list[list[tuple[str, str]]]) -> str:
    """LDIF text; values that are not plain ASCII are base64-encoded (``attr:: …``)."""
    lines: list[str] = []
    for entry in entries:
        for attr, value in entry:
            if value.isascii() and value.isprintable() and not value.startswith((" ", ":", "<")):
                lines.append(f"{attr}: {value}")
            else:
                lines.append(f"{attr}:: {base64.b64encode(value.encode()).decode()}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _entries() -> list[list[tuple[str, str]]]:
    entries = [
        [("dn", SUFFIX), ("objectClass", "dcObject"), ("objectClass", "organization"), ("dc", "example"),
         ("o", "Example")],
        [("dn", f"ou=people,{SUFFIX}"), ("objectClass", "organizationalUnit"), ("ou", "people")],
        [("dn", f"ou=groups,{SUFFIX}"), ("objectClass", "organizationalUnit"), ("ou", "groups")],
    ]  # fmt: skip
    for name, password in PEOPLE.items():
        entries.append(
            [("dn", user_dn(name)), ("objectClass", "inetOrgPerson"), ("uid", name), ("cn", name), ("sn", name),
             ("userPassword", ssha(password))]
        )  # fmt: skip
    for group, members in GROUPS.items():
        entries.append(
            [("dn", group_dn(group)), ("objectClass", "groupOfNames"), ("cn", group)]
            + [("member", user_dn(m)) for m in members]
        )
    return entries


class LdapServer:
    """One slapd on 127.0.0.1; ``url`` is ``ldap://127.0.0.1:<port>``."""

    def __init__(self, folder: Path, binary: Path) -> None:
        self.folder, self.binary = folder, binary
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.conf = folder / "slapd.conf"
        data = folder / "data"
        data.mkdir()
        schema = "\n".join(f"include /etc/ldap/schema/{s}.schema" for s in SCHEMAS)
        self.conf.write_text(
            f"{schema}\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\n"
            f"pidfile {folder}/slapd.pid\nargsfile {folder}/slapd.args\n"
            f'database mdb\nmaxsize 104857600\nsuffix "{SUFFIX}"\nrootdn "{ADMIN_DN}"\n'
            f"rootpw {ssha(ADMIN_PASSWORD)}\ndirectory {data}\nindex objectClass eq\n"
            "access to attrs=userPassword by anonymous auth by self read by * none\n"
            "access to * by * read\n",
            encoding="utf-8",
        )
        ldif = folder / "data.ldif"
        ldif.write_text(_ldif(_entries()), encoding="utf-8")
        slapadd = binary.parent / "slapadd"
        done = subprocess.run([str(slapadd), "-f", str(self.conf), "-l", str(ldif)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"slapadd failed: {done.stderr[-2000:]}")

    def start(self) -> None:
        """Start slapd (foreground, ``-d 0``) and wait up to 15 s until a bind answers."""
        log = (self.folder / "slapd.log").open("ab")
        self.process = subprocess.Popen(
            [str(self.binary), "-f", str(self.conf), "-h", f"{self.url}/", "-d", "0"], stdout=log, stderr=log
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                self.admin().unbind()
                return
            except Exception:  # not up yet
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"slapd did not start: {(self.folder / 'slapd.log').read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        """Stop slapd (the data stays)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def close(self) -> None:
        """Stop slapd and remove its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def admin(self) -> Any:
        """An ldap3 connection bound as the rootdn (to change entries during a test)."""
        import ldap3

        server = ldap3.Server(self.url, get_info=ldap3.NONE, connect_timeout=2)
        return ldap3.Connection(server, ADMIN_DN, ADMIN_PASSWORD, auto_bind=True, receive_timeout=5)

    def set_members(self, group: str, members: list[str]) -> None:
        """Replace a group's members (groupOfNames needs at least one: an empty list leaves the admin DN)."""
        import ldap3

        conn = self.admin()
        try:
            values = [user_dn(m) for m in members] or [ADMIN_DN]
            if not conn.modify(group_dn(group), {"member": [(ldap3.MODIFY_REPLACE, values)]}):
                raise RuntimeError(f"modify failed: {conn.result}")
        finally:
            conn.unbind()


def start_ldap_server() -> LdapServer:
    """A started :class:`LdapServer` in a new temporary folder; skips (fails under CI) without slapd/ldap3."""
    try:
        import ldap3  # noqa: F401
    except ImportError:
        unavailable("ldap3 is not installed (pip install ldap3)")
    binary = slapd_binary()
    if binary is None or not (binary.parent / "slapadd").is_file():
        unavailable("OpenLDAP server not found (apt-get install slapd ldap-utils)")
    assert binary is not None
    folder = Path(tempfile.mkdtemp(prefix="onprem-bot-ldap-"))
    try:
        server = LdapServer(folder, binary)
        server.start()
    except (RuntimeError, OSError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"OpenLDAP did not start: {exc}")
    return server
