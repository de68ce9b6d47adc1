"""The settings and the portal a command works on: the configured one, or the bundled mock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import SecretStr, ValidationError
from rich.console import Console

from agent.logs import configure_logging
from agent.runner import Target
from agent.settings import (
    Settings,
    check_env_file,
    check_state_folders,
    config_notices,
    warn_if_env_file_redirects,
)
from flows.session import Credentials
from pages.errors import ConfigError


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and .env, with command-line options on top (all validated);
    ConfigError naming the option or environment variable of each bad value."""
    given = {key: value for key, value in overrides.items() if value is not None}
    check_env_file()  # before it is read: a planted file must not decide anything
    try:
        settings = Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{_setting_name(_field(err['loc']), given)}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
    check_state_folders(settings)
    return settings


def _field(loc: tuple[int | str, ...]) -> str:
    # A check of several settings together has no field; its message names the variables.
    return str(loc[0]) if loc else ""


def _setting_name(field: str, given: dict[str, object]) -> str:
    """Where a bad value came from: the command-line option, else the environment variable."""
    if not field:
        return "settings"
    return "--" + field.replace("_", "-") if field in given else f"CCW_{field.upper()}"


@contextmanager
def target_for(
    settings: Settings, mock: bool, release: str | None = None, *, notices: Console
) -> Iterator[Target]:
    """The portal to work on: the configured one, or the bundled mock started in-process (in
    `release`, else its default one), whose address `notices` shows."""
    configure_logging(settings.log_level, settings.log_format)
    warn_if_env_file_redirects(settings)
    for notice in config_notices(settings):
        notices.print(f"notice: {notice}", markup=False, highlight=False)
    if not mock:
        yield Target.from_settings(settings)
        return
    # Imported here: the agent knows the mock only when asked to start it.
    from mock_site.data import USERS
    from mock_site.releases import DEFAULT_RELEASE
    from mock_site.server import MockServer

    server = MockServer(
        host="127.0.0.1", port=0, seed=0, control=True, release=release or DEFAULT_RELEASE
    ).start()
    try:
        mock_settings = settings.model_copy(
            update={"base_url": server.home_url, "state_dir": settings.state_dir / "mock"}
        )
        credentials = Credentials(username=USERS[0].email, password=SecretStr(USERS[0].password))
        notices.print(f"[dim]mock portal at {server.home_url} (user {USERS[0].email})[/]")
        target = Target.from_settings(mock_settings, credentials)
        try:
            yield target
        finally:
            target.store.forget()
    finally:
        server.stop()
