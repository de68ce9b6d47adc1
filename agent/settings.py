"""Every setting of the agent, read from CCW_* environment variables and a .env file."""

from __future__ import annotations

import os
import stat
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self
from urllib.parse import urlsplit

import structlog
from dotenv import dotenv_values
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.hosts import CredentialHosts, parse_host_patterns
from pages.base import DEFAULT_TIMEOUT_MS
from pages.errors import ConfigError
from pages.labels import Labels, labels, read_label_file
from pages.secrets import register, register_totp_secret

PRODUCTION_HOME = "https://apps.cisco.com/Commerce/home"
ENV_FILE = ".env"
# Settings that decide where the credentials go: a .env file in the working folder that sets them
# is worth a warning, since the credentials themselves often come from the environment.
WHERE_CREDENTIALS_GO = ("CCW_BASE_URL", "CCW_ALLOWED_HOSTS")
# Settings that decide what code runs as the user, or which browser gets the session: shown once
# whenever they are not the defaults, wherever they came from.
WHAT_RUNS = ("CCW_BROWSER_EXECUTABLE", "CCW_BROWSER_ENDPOINT")
SECRET_VARIABLES = ("CCW_PASSWORD", "CCW_TOTP_SECRET")

log = structlog.get_logger(__name__)


def default_state_dir() -> Path:
    """Per-user state folder (XDG): saved sessions, the bulk ledger, artifacts."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ccw-agent"


class LogFormat(StrEnum):
    """How log lines are written: decided by the terminal unless forced."""

    AUTO = "auto"
    CONSOLE = "console"
    JSON = "json"


class TraceMode(StrEnum):
    """When a Playwright trace of an order is kept."""

    OFF = "off"
    ON_FAILURE = "on-failure"
    ALWAYS = "always"


class Settings(BaseSettings):
    """ccw-agent settings; each one is documented in .env.example."""

    model_config = SettingsConfigDict(
        env_prefix="CCW_",
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        hide_input_in_errors=True,  # a refused value may be a secret
    )

    base_url: str = Field(default=PRODUCTION_HOME, description="CCW home page the agent opens.")
    username: str | None = Field(default=None, description="Cisco.com sign-in email.")
    password: SecretStr | None = None
    totp_secret: SecretStr | None = Field(
        default=None, description="Base32 secret of the authenticator app, when MFA is enrolled."
    )
    allowed_hosts: str = Field(
        default="",
        description="More hosts where credentials may be typed (comma-separated, *.domain).",
    )
    locale: str = Field(default="en", description="Language of the portal's labels: en, fr.")
    labels_file: Path | None = Field(
        default=None, description="TOML file of single labels replacing the locale's."
    )

    browser_executable: Path | None = Field(default=None, description="Chromium to launch.")
    browser_endpoint: str | None = Field(
        default=None,
        description="ws:// Playwright server or http:// CDP endpoint of a remote browser.",
    )
    headless: bool = True
    slow_mo_ms: Annotated[int, Field(ge=0, le=10_000)] = 0

    state_dir: Path = Field(default_factory=default_state_dir)
    artifacts_dir: Path | None = None
    trace: TraceMode = TraceMode.ON_FAILURE

    timeout_ms: Annotated[int, Field(ge=1000, le=600_000)] = int(DEFAULT_TIMEOUT_MS)
    attempts: Annotated[int, Field(ge=1, le=10)] = 3
    # A read-only step the portal fails is recovered in place and run again, this many runs in
    # all, before the order's attempt fails; every order has this much time for all its attempts.
    step_attempts: Annotated[int, Field(ge=1, le=10)] = 4
    order_budget_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 300.0
    # Yes again after an error only when every look since showed the order unchanged; 0: never.
    resubmits: Annotated[int, Field(ge=0, le=3)] = 1
    retry_backoff_s: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)] = 2.0
    workers: Annotated[int, Field(ge=1, le=32)] = 2
    # A worker's browser context is closed and opened anew after this many orders (its
    # renderer's memory grows with the pages it has shown; the session is kept).
    context_orders: Annotated[int, Field(ge=1, le=100_000)] = 100
    max_submits_per_minute: Annotated[float, Field(gt=0, le=600, allow_inf_nan=False)] | None = None

    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.AUTO

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if "@" in parts.netloc:
            # Checked first, and the value never repeated: it would print the password. In the
            # URL it would also reach every kept trace and the saved session's file name.
            raise ValueError(
                "holds a user name or password (user:password@host); give the address alone "
                "and the credentials in CCW_USERNAME and CCW_PASSWORD"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("browser_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value and not value.startswith(("ws://", "wss://", "http://", "https://")):
            raise ValueError(
                f"{value!r}: expected ws:// (Playwright server) or http:// (CDP endpoint)"
            )
        if value:
            # A grid's address may carry its password: no message or log line may show it.
            register(urlsplit(value).password)
        return value or None

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            register(value.get_secret_value())
        return value

    @field_validator("totp_secret")
    @classmethod
    def _totp(cls, value: SecretStr | None) -> SecretStr | None:
        """Accept the secret as identity providers issue it: 16+ characters, spaces, any case."""
        if value is None:
            return None
        try:
            return SecretStr(register_totp_secret(value.get_secret_value()))
        except ValueError as exc:
            # The message never repeats the secret.
            raise ValueError(f"not a usable base32 authenticator secret: {exc}") from None

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: str) -> str:
        return ",".join(parse_host_patterns(value))

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        labels(value)  # raises ValueError naming the known locales
        return value

    @field_validator("labels_file")
    @classmethod
    def _label_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            problem = unsafe_to_trust(value)
            if problem:
                raise ValueError(problem)
            read_label_file(value)  # raises ValueError naming the file and the label
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError(f"{value!r} is not one of DEBUG, INFO, WARNING, ERROR")
        return level

    @model_validator(mode="after")
    def _backoff_within_budget(self) -> Self:
        # The waits between attempts: base * (1 + 2 + ... + 2^(n-2)) plus up to one base of
        # jitter each. They must fit in the order's time, or a run may wait past it.
        waits = self.attempts - 1
        longest = self.retry_backoff_s * ((2**waits - 1) + waits)
        if longest > self.order_budget_s:
            raise ValueError(
                f"CCW_RETRY_BACKOFF_S={self.retry_backoff_s:g} with CCW_ATTEMPTS={self.attempts} "
                f"may wait {longest:g} s between attempts, more than CCW_ORDER_BUDGET_S="
                f"{self.order_budget_s:g}: lower the backoff or the attempts, or raise the budget"
            )
        return self

    @property
    def labels(self) -> Labels:
        """The label catalogue of the locale, with the labels of the label file on top."""
        return labels(self.locale, self.labels_file)

    @property
    def credential_hosts(self) -> CredentialHosts:
        """Where credentials may be typed: the portal, Cisco's sign-on hosts, CCW_ALLOWED_HOSTS."""
        extra = self.allowed_hosts.split(",") if self.allowed_hosts else ()
        return CredentialHosts.for_portal(self.base_url, extra)

    @property
    def artifacts_path(self) -> Path:
        return self.artifacts_dir or self.state_dir / "artifacts"

    @property
    def session_file(self) -> Path:
        """Saved sign-in of this portal: one file per host, so staging and production never mix."""
        host = urlsplit(self.base_url).netloc.replace(":", "_")
        return self.state_dir / "sessions" / f"{host}.json"


def warn_if_env_file_redirects(settings: Settings, env_file: Path = Path(ENV_FILE)) -> list[str]:
    """Log a warning for each setting deciding where credentials go that the .env file sets.

    Only values in effect that differ from the default count: the environment wins over the
    file, and a value the settings no longer hold (an option, --mock) came from elsewhere.
    Returns the variables named.
    """
    try:
        from_file = dotenv_values(env_file) if env_file.is_file() else {}
    except (OSError, UnicodeDecodeError):
        return []
    named = []
    for name in WHERE_CREDENTIALS_GO:
        field = name.removeprefix("CCW_").lower()
        value = from_file.get(name)
        if not value or os.environ.get(name):
            continue
        if field == "allowed_hosts":
            try:
                value = ",".join(parse_host_patterns(value))
            except ValueError:
                continue
        if value != getattr(settings, field) or value == Settings.model_fields[field].default:
            continue
        named.append(name)
        log.warning(
            "env_file_sets_credential_hosts",
            variable=name,
            value=value,
            file=str(env_file.resolve()),
            advice="credentials are typed only on the hosts these allow; check the file",
        )
    return named


def unsafe_to_trust(path: Path, *, folder: bool = False) -> str | None:
    """Why a settings file or folder could have been planted or changed by someone else, or None.

    As ssh treats its keys: it must belong to this user (or root) and be writable by no one else.
    A path that does not exist is not judged here.
    """
    try:
        info = path.stat()
    except OSError:
        return None
    kind = "folder" if folder else "file"
    owners = (os.getuid(), 0)
    if info.st_uid not in owners:
        return (
            f"{path} is owned by user id {info.st_uid}, not by you: another user could change "
            f"what the agent does. Use a {kind} of your own (chown it to yourself)"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"{path} is writable by other users, who could change what the agent does: "
            f"run `chmod go-w {path}`"
        )
    return None


def check_env_file(env_file: Path = Path(ENV_FILE)) -> None:
    """ConfigError if the working folder's .env file could have been planted by someone else."""
    problem = unsafe_to_trust(env_file)
    if problem:
        raise ConfigError(f"{ENV_FILE} refused: {problem}")


def check_state_folders(settings: Settings) -> None:
    """ConfigError if the state folder or its saved sessions could be changed by someone else."""
    for folder in (settings.state_dir, settings.session_file.parent):
        problem = unsafe_to_trust(folder, folder=True)
        if problem:
            raise ConfigError(f"CCW_STATE_DIR refused: {problem}")


def config_notices(settings: Settings, env_file: Path = Path(ENV_FILE)) -> list[str]:
    """What a person should know about the settings in effect, one sentence each.

    A .env file holding a secret that other users can read; the settings that decide what code
    runs or where the browser connects, whenever they are not the defaults.
    """
    notices: list[str] = []
    try:
        mode = env_file.stat().st_mode if env_file.is_file() else 0
        from_file = dotenv_values(env_file) if mode else {}
    except (OSError, UnicodeDecodeError):
        from_file = {}
    secrets = [name for name in SECRET_VARIABLES if from_file.get(name)]
    if secrets and mode & (stat.S_IRGRP | stat.S_IROTH):
        notices.append(
            f"{env_file} holds {' and '.join(secrets)} and other users can read it: "
            f"run `chmod 600 {env_file}`"
        )
    if settings.browser_executable is not None:
        notices.append(
            f"CCW_BROWSER_EXECUTABLE: the browser launched is {settings.browser_executable}"
        )
    if settings.browser_endpoint is not None:
        parts = urlsplit(settings.browser_endpoint)
        where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # never a user:password@
        notices.append(
            f"CCW_BROWSER_ENDPOINT: the browser is the remote one at {where}; it receives the "
            "session's cookies"
        )
    return notices
