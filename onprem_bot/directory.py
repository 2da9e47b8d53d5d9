"""Directory log-in (LDAP / Active Directory) through ldap3: bind as the user, read their groups.

:class:`Directory` binds with the user's own name and password (``auth.ldap.user_dn`` with ``{name}``,
escaped as a DN value), then searches ``auth.ldap.group_base`` with ``auth.ldap.group_filter``
(``{dn}`` and ``{name}`` escaped as filter values) and maps the group names through
``auth.ldap.group_map``. No service account is needed. Several servers in ``auth.ldap.url`` are
tried in turn, but only while they cannot be reached: a refused password is final.

Two outcomes besides success, kept apart: :class:`DirectoryLoginError` (wrong name or password —
the caller shows its generic message and counts the failure) and :class:`DirectoryUnavailable`
(no server answered — a Korean message for the user; the technical detail goes to the log only).
"""

from __future__ import annotations

import contextlib
import logging
import math
import ssl
import unicodedata
from dataclasses import dataclass
from typing import Any

from onprem_bot.access import GroupError, clean_group
from onprem_bot.config_auth import LdapSettings
from onprem_bot.errors import ConfigError, OnpremBotError

log = logging.getLogger(__name__)

UNAVAILABLE = "사내 디렉터리(LDAP)에 연결할 수 없습니다. 로컬 계정으로 로그인하거나 관리자에게 문의하세요."
REFUSED = "디렉터리 로그인 실패 (directory refused the credentials)"
_REFUSED_CODES = frozenset({34, 48, 49, 50, 53})
"""Bind results that mean "these credentials do not log in": invalidDNSyntax, inappropriateAuthentication,
invalidCredentials (also AD's disabled/locked/expired accounts), insufficientAccessRights, unwillingToPerform."""


class DirectoryLoginError(OnpremBotError):
    """The directory refused the name or password (or the name cannot be a directory name)."""


class DirectoryUnavailable(OnpremBotError):
    """No directory server could be reached or answered in time; the message is for the user."""


@dataclass(frozen=True)
class DirectoryUser:
    """A directory log-in: the user name as typed (trimmed, lower-case), the bound DN, the product groups."""

    name: str
    dn: str
    groups: tuple[str, ...]


class Directory:
    """Checks a user's password against the directory and reads their groups (one call per log-in)."""

    def __init__(self, settings: LdapSettings) -> None:
        """:class:`ConfigError` when ``settings.url`` is empty or holds a non-``ldap://``/``ldaps://`` entry."""
        import ldap3

        urls = settings.url.split()
        if not urls:
            raise ConfigError("auth.ldap.url is empty: the directory is off")
        for url in urls:
            if not url.lower().startswith(("ldap://", "ldaps://")):
                raise ConfigError(f"auth.ldap.url: {url!r} must start with ldap:// or ldaps://")
        self.settings = settings
        try:
            self._tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file or None)
        except Exception as exc:  # ldap3 reports a missing CA file with its own error
            raise ConfigError(f"auth.ldap.ca_file={settings.ca_file!r}: {exc}") from None
        self.urls = urls
        self._map = {_fold(k): v for k, v in settings.group_map.items()}
        if any(u.lower().startswith("ldap://") and not _local(u) for u in urls):
            log.warning("auth.ldap.url uses ldap:// (passwords travel unencrypted); prefer ldaps://")

    def run(self, name: str, password: str) -> DirectoryUser:
        """The directory account for ``name``/``password`` with its mapped, cleaned groups (sorted).

        :class:`DirectoryLoginError` for a wrong or empty password, an unknown or unusable name;
        :class:`DirectoryUnavailable` when no server in ``url`` can be reached within ``timeout_s``."""
        import ldap3
        from ldap3.utils.dn import escape_rdn

        name = unicodedata.normalize("NFC", (name or "").strip().lower())
        if not name or not password or any(ch.isspace() or ord(ch) < 32 for ch in name):
            raise DirectoryLoginError(REFUSED)  # an empty password would be an anonymous bind
        dn = self.settings.user_dn.replace("{name}", escape_rdn(name))
        problems: list[str] = []
        for url in self.urls:
            # a fresh ldap3.Server per attempt: a used one remembers a failed address for minutes
            server = ldap3.Server(url, get_info=ldap3.NONE, connect_timeout=self.settings.timeout_s, tls=self._tls)
            try:
                return self._on(server, name, dn, password)
            except _Unreachable as exc:
                problems.append(f"{server.host}:{server.port}: {exc}")
        log.error("LDAP: no directory server answered (%s)", "; ".join(problems))
        raise DirectoryUnavailable(UNAVAILABLE)

    def _on(self, server: Any, name: str, dn: str, password: str) -> DirectoryUser:
        import ldap3
        from ldap3.core.exceptions import LDAPException, LDAPPasswordIsMandatoryError

        conn = ldap3.Connection(
            server,
            user=dn,
            password=password,
            read_only=True,
            receive_timeout=math.ceil(self.settings.timeout_s),  # whole seconds: ldap3 packs it as an integer
            auto_referrals=False,
            raise_exceptions=False,
        )
        try:
            if not conn.bind():
                code, message = conn.result.get("result"), conn.result.get("message", "")
                if code in _REFUSED_CODES:
                    log.info("LDAP: bind refused for %r (%s %s)", name, code, conn.result.get("description"))
                    raise DirectoryLoginError(REFUSED)
                raise _Unreachable(f"bind result {code} {conn.result.get('description')} {message}")
            found = self._groups(conn, self._bound_dn(conn, dn), name)
        except (DirectoryLoginError, _Unreachable):
            raise
        except LDAPPasswordIsMandatoryError:
            raise DirectoryLoginError(REFUSED) from None
        except (LDAPException, OSError) as exc:  # socket open/receive errors, timeouts, TLS failures
            raise _Unreachable(f"{type(exc).__name__}: {exc}") from None
        except Exception as exc:  # an ldap3 failure we do not know: this server is of no use now
            log.exception("LDAP: unexpected error from %s", server.host)
            raise _Unreachable(f"{type(exc).__name__}: {exc}") from None
        finally:
            with contextlib.suppress(Exception):  # closing a broken socket must not hide the outcome
                conn.unbind()
        return DirectoryUser(name, dn, found)

    @staticmethod
    def _bound_dn(conn: Any, dn: str) -> str:
        """``dn`` when it is a DN; for an Active Directory ``name@domain`` bind, the DN the server reports."""
        if "=" in dn:
            return dn
        who = conn.extend.standard.who_am_i() or ""
        return who[3:] if who.startswith("dn:") else dn

    def _groups(self, conn: Any, dn: str, name: str) -> tuple[str, ...]:
        import ldap3
        from ldap3.utils.conv import escape_filter_chars

        s = self.settings
        if not s.group_base:
            return ()
        query = s.group_filter.replace("{dn}", escape_filter_chars(dn)).replace("{name}", escape_filter_chars(name))
        ok = conn.search(
            s.group_base,
            query,
            search_scope=ldap3.SUBTREE,
            attributes=[s.group_attribute],
            time_limit=max(1, int(s.timeout_s)),
        )
        if not ok and conn.result.get("result") not in (0, 4):  # 4: sizeLimitExceeded, partial results kept
            code = conn.result.get("result")
            if code == 32:  # noSuchObject: group_base is wrong; log in without directory groups
                log.warning("LDAP: auth.ldap.group_base %r does not exist; no directory groups", s.group_base)
                return ()
            raise _Unreachable(f"group search result {code} {conn.result.get('description')}")
        names: set[str] = set()
        for entry in conn.response or ():
            if entry.get("type") != "searchResEntry":
                continue
            values = entry.get("attributes", {}).get(s.group_attribute)
            value = values[0] if isinstance(values, list) and values else values
            if not isinstance(value, str) or not value:
                continue
            mapped = self._mapped(value)
            if mapped is None:
                continue
            try:
                names.add(clean_group(mapped))
            except GroupError as exc:
                log.warning("LDAP: group %r of %r skipped: %s", value, name, exc)
        return tuple(sorted(names))

    def _mapped(self, group: str) -> str | None:
        """The product group for a directory group (matched ignoring case); None when the map leaves it out."""
        if not self._map:
            return group
        return self._map.get(_fold(group))


class _Unreachable(Exception):
    """One server could not be used (try the next one)."""


def _fold(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip().casefold()


def _local(url: str) -> bool:
    host = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]").lower()
    return host in ("localhost", "127.0.0.1", "::1")
