"""The ``[auth]`` settings: administration and chat log-in, throttling, the directory (LDAP).

Kept apart from :mod:`onprem_bot.config` (which re-exports :class:`AuthSettings`) to keep modules small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from onprem_bot.access import GroupError, clean_group
from onprem_bot.errors import ConfigError

CHAT_MODES = ("open", "login")
"""``open``: anyone who opens the chat asks, and sees only documents without groups; ``login``: employees
log in (local account or directory) and see the documents of their groups."""


@dataclass(frozen=True)
class LdapSettings:
    """Directory log-in (LDAP / Active Directory) through ldap3. Empty ``url``: off (local accounts only)."""

    url: str = ""
    """``ldap://host:389`` or ``ldaps://host:636``; several servers separated by spaces are tried in turn."""
    user_dn: str = ""
    """Direct bind: a template with ``{name}``, e.g. ``uid={name},ou=people,dc=example,dc=org`` or, for
    Active Directory, ``{name}@example.local``."""
    group_base: str = ""
    """Where groups are searched, e.g. ``ou=groups,dc=example,dc=org``; empty: no directory groups."""
    group_filter: str = "(|(member={dn})(uniqueMember={dn})(memberUid={name}))"
    """LDAP filter for the user's groups; ``{dn}`` and ``{name}`` are filled in (escaped)."""
    group_attribute: str = "cn"
    """The attribute that names a group."""
    group_map: dict[str, str] = field(default_factory=dict)
    """Directory group name (matched ignoring case) → product group; empty: the directory names are used as
    they are; given: directory groups not in the map are dropped."""
    role: str = "user"
    """The role a directory account gets on first log-in (``user`` or ``editor``)."""
    timeout_s: float = 5.0
    """Connect and receive timeout per server, in seconds."""
    ca_file: str = ""
    """PEM file of the CA that signed the ``ldaps://`` servers' certificates; empty: the system's CAs.
    Certificates are always checked."""

    def __post_init__(self) -> None:
        if self.url and "{name}" not in self.user_dn:
            raise ConfigError("auth.ldap.user_dn must contain {name} when auth.ldap.url is set")
        for url in self.url.split():
            if not url.lower().startswith(("ldap://", "ldaps://")):
                raise ConfigError(f"auth.ldap.url: {url!r} must start with ldap:// or ldaps://")
        for source, group in self.group_map.items():
            try:
                clean_group(group)
            except GroupError as exc:
                raise ConfigError(f"auth.ldap.group_map[{source!r}]: {exc}") from None
        if self.role not in ("user", "editor"):
            raise ConfigError(f"auth.ldap.role={self.role!r}: valid: user, editor")
        if self.timeout_s <= 0:
            raise ConfigError(f"auth.ldap.timeout_s={self.timeout_s}: must be > 0")


@dataclass(frozen=True)
class AuthSettings:
    """Log-in: who may open the chat, session timeout and failed-login throttling."""

    chat: str = "open"
    """:data:`CHAT_MODES`: ``open`` (no log-in; documents without groups only) or ``login``."""
    session_timeout_min: int = 30
    """An idle session (administrator or chat) ends after this many minutes."""
    max_failures: int = 5
    """Failed log-ins (per user name and per browser) before further attempts are refused."""
    failure_window_s: int = 900
    lockout_s: int = 300
    """How long log-in stays refused after too many failures."""
    ldap: LdapSettings = field(default_factory=LdapSettings)

    def __post_init__(self) -> None:
        if self.chat not in CHAT_MODES:
            raise ConfigError(f"auth.chat={self.chat!r}: 알 수 없는 값 (unknown); valid: {', '.join(CHAT_MODES)}")
        for name in ("session_timeout_min", "max_failures", "failure_window_s", "lockout_s"):
            if getattr(self, name) < 1:
                raise ConfigError(f"auth.{name}={getattr(self, name)}: must be >= 1")
