"""Configuration an attacker cannot plant, paths checked before the work, and bounded settings."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.bulk.report import ReportRow, merge_reports, read_report, write_report
from agent.settings import Settings
from pages.labels import CatalogueError, read_label_file

Run = Callable[..., subprocess.CompletedProcess[str]]
PASSWORD = "Plant3d-Secret-9"
CSV_HEADER = "order_number,search_by,smart_account,virtual_account\n"


@pytest.fixture
def ccw(tmp_path: Path) -> Run:
    """`ccw-agent ARGS` in tmp_path (where a .env may lie), against no reachable portal."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {key: value for key, value in os.environ.items() if not key.startswith("CCW_")}
        environ |= {
            "CCW_BASE_URL": "http://127.0.0.1:9/Commerce/home",
            "CCW_STATE_DIR": str(tmp_path / "state"),
            "CCW_LOG_FORMAT": "json",
            **env,
        }
        return subprocess.run(
            [sys.executable, "-m", "agent", *args],
            env=environ,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


# --- files others could have planted --------------------------------------------------------------


def test_a_env_file_writable_by_others_is_refused_and_its_browser_never_runs(
    ccw: Run, tmp_path: Path
) -> None:
    # Given a .env anyone may write, naming a script as the browser
    marker = tmp_path / "ran"
    script = tmp_path / "browser.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    script.chmod(0o755)
    env_file = tmp_path / ".env"
    env_file.write_text(f"CCW_BROWSER_EXECUTABLE={script}\nCCW_PASSWORD={PASSWORD}\n")
    env_file.chmod(0o666)

    done = ccw("show", "110000001")

    assert done.returncode == 2
    assert ".env refused" in done.stderr and "chmod go-w" in done.stderr
    assert not marker.exists()
    assert PASSWORD not in done.stderr + done.stdout


def test_a_env_file_with_a_password_readable_by_others_is_warned_about(
    ccw: Run, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"CCW_PASSWORD={PASSWORD}\nCCW_USERNAME=someone@example.com\n"
        f"CCW_BROWSER_EXECUTABLE={tmp_path / 'no-browser'}\n"
    )
    env_file.chmod(0o644)

    done = ccw("show", "110000001")

    assert "holds CCW_PASSWORD and other users can read it" in done.stderr
    assert "chmod 600" in done.stderr
    # The setting that decides what code runs is shown too, before anything runs.
    assert f"CCW_BROWSER_EXECUTABLE: the browser launched is {tmp_path / 'no-browser'}" in (
        done.stderr
    )
    assert PASSWORD not in done.stderr + done.stdout


def test_a_remote_browser_endpoint_is_shown_without_its_credentials(
    ccw: Run, tmp_path: Path
) -> None:
    done = ccw("show", "110000001", CCW_BROWSER_ENDPOINT="ws://user:s3cret@127.0.0.1:9/pw")

    assert "CCW_BROWSER_ENDPOINT: the browser is the remote one at ws://127.0.0.1:9" in (
        done.stderr
    )
    assert "s3cret" not in done.stderr


def test_a_label_file_writable_by_others_is_refused(ccw: Run, tmp_path: Path) -> None:
    labels = tmp_path / "labels.toml"
    labels.write_text('search = "Find"\n', encoding="utf-8")
    labels.chmod(0o666)

    done = ccw("show", "110000001", CCW_LABELS_FILE=str(labels))

    assert done.returncode == 2
    assert f"CCW_LABELS_FILE: Value error, {labels} is writable by other users" in done.stderr


def test_a_state_folder_writable_by_others_is_refused(ccw: Run, tmp_path: Path) -> None:
    sessions = tmp_path / "state" / "sessions"
    sessions.mkdir(parents=True)
    sessions.chmod(0o777)

    done = ccw("show", "110000001")

    assert done.returncode == 2
    assert f"{sessions} is writable by other users" in done.stderr


@pytest.mark.parametrize("kind", ["fifo", "device", "too big"])
def test_a_label_file_must_be_a_small_regular_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "labels.toml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    else:
        path.write_text("# padding\n" * 10_000, encoding="utf-8")

    with pytest.raises(CatalogueError, match="not a regular file|more than a label file's 64 KiB"):
        read_label_file(path)


# --- values that are refused --------------------------------------------------------------------


def test_a_base_url_with_credentials_is_refused_without_echoing_them() -> None:
    with pytest.raises(ValidationError, match="user name or password") as refused:
        settings(base_url=f"https://user:{PASSWORD}@apps.example/Commerce/home")

    assert PASSWORD not in str(refused.value)


@pytest.mark.parametrize("wildcard", ["*.co.uk", "*.github.io", "*.com", "*.s3.amazonaws.com"])
def test_a_wildcard_over_a_public_suffix_is_refused(wildcard: str) -> None:
    with pytest.raises(ValidationError, match="is a public suffix"):
        settings(allowed_hosts=f"*.example.co.uk,{wildcard}")


def test_a_wildcard_over_a_registered_domain_is_kept() -> None:
    assert settings(allowed_hosts="*.example.co.uk, *.corp.example.com").allowed_hosts == (
        "*.example.co.uk,*.corp.example.com"
    )


@pytest.mark.parametrize(
    "values",
    [
        {"retry_backoff_s": 1e9},
        {"retry_backoff_s": float("inf")},
        {"order_budget_s": float("nan")},
        {"order_budget_s": 1e9},
        {"slow_mo_ms": 10**9},
        {"max_submits_per_minute": float("inf")},
        # each bound alone is fine, but the back-offs would outlast the order's time
        {"retry_backoff_s": 60, "attempts": 5, "order_budget_s": 300},
    ],
)
def test_every_numeric_setting_has_an_upper_bound(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        settings(**values)


def test_the_back_off_limit_names_the_three_settings(ccw: Run) -> None:
    done = ccw(
        "show", "110000001", CCW_RETRY_BACKOFF_S="50", CCW_ATTEMPTS="4", CCW_ORDER_BUDGET_S="100"
    )

    assert done.returncode == 2
    for name in ("CCW_RETRY_BACKOFF_S=50", "CCW_ATTEMPTS=4", "CCW_ORDER_BUDGET_S=100"):
        assert name in done.stderr


# --- paths checked before the work -------------------------------------------------------------


def test_a_report_over_the_input_file_is_refused_before_anything_runs(
    ccw: Run, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(CSV_HEADER + "110000001,domain,acme.example,DEFAULT\n", encoding="utf-8")
    before = source.read_bytes()

    done = ccw("bulk", "in.csv", "--report", str(source))

    assert done.returncode == 2
    assert "is the input" in done.stderr
    assert source.read_bytes() == before


def test_a_folder_as_report_is_refused_before_the_first_order(ccw: Run, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(CSV_HEADER + "110000001,domain,acme.example,DEFAULT\n")
    (tmp_path / "out.csv").mkdir()

    done = ccw("bulk", "in.csv", "--report", "out.csv")

    assert done.returncode == 2
    assert "out.csv: is a folder" in done.stderr
    assert not (tmp_path / "state" / "ledger.sqlite").exists()


def test_write_overrides_keeps_a_file_that_exists_unless_forced(ccw: Run, tmp_path: Path) -> None:
    mine = tmp_path / "labels.toml"
    mine.write_text('search = "Find"  # by hand\n', encoding="utf-8")

    refused = ccw("doctor", "110000001", "--write-overrides", str(mine))
    forced = ccw(
        "doctor",
        "110000001",
        "--write-overrides",
        str(mine),
        "--force",
        CCW_BROWSER_EXECUTABLE=str(tmp_path / "no-browser"),
    )

    assert refused.returncode == 2
    assert "the file exists" in refused.stderr and "--force" in refused.stderr
    assert "the file exists" not in forced.stderr  # past the check, stopped by the browser
    assert mine.read_text(encoding="utf-8") == 'search = "Find"  # by hand\n'


def report_row(row: int, order: str, **changes: object) -> ReportRow:
    values: dict[str, object] = {
        "row": row,
        "order_number": order,
        "search_by": "domain",
        "smart_account": "acme.example",
        "virtual_account": "DEFAULT",
        "expect_domain": "",
        "reference": "",
        "outcome": "failed",
        "detail": "",
        "before": "",
        "after": "",
        "attempts": 1,
        "duration_s": 1.0,
        "artifacts": (),
    }
    return ReportRow.model_validate(values | changes)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_merge_embeds_only_screenshots_of_the_artifacts_folder(tmp_path: Path) -> None:
    artifacts = tmp_path / "state" / "artifacts"
    artifacts.mkdir(parents=True)
    ours = artifacts / "ours.png"
    ours.write_bytes(PNG)
    elsewhere = tmp_path / "private" / "photo.png"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(PNG)
    sneaky = artifacts / ".." / ".." / "private" / "photo.png"
    write_report(tmp_path / "a.csv", [report_row(2, "110000001", artifacts=(str(ours),))])
    write_report(
        tmp_path / "b.csv",
        [report_row(3, "110000002", artifacts=(str(elsewhere), str(sneaky)))],
    )

    merge_reports(
        [tmp_path / "a.csv", tmp_path / "b.csv"],
        tmp_path / "all.html",
        screenshots_from=[artifacts],
    )

    page = (tmp_path / "all.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 1
    assert page.count("not in the agent's artifacts folder") == 2


def test_merge_keeps_an_escaped_cell_escaped(tmp_path: Path) -> None:
    write_report(tmp_path / "a.csv", [report_row(2, "110000001", reference="'=SUM(1)")])
    write_report(tmp_path / "b.csv", [report_row(3, "110000002", reference="=SUM(2)")])

    merge_reports([tmp_path / "a.csv", tmp_path / "b.csv"], tmp_path / "all.csv")

    raw = (tmp_path / "all.csv").read_text(encoding="utf-8-sig")
    assert "''=SUM(1)" in raw and "'=SUM(2)" in raw
    assert [row.reference for row in read_report(tmp_path / "all.csv")] == ["'=SUM(1)", "=SUM(2)"]


def test_merge_refuses_to_write_over_one_of_its_inputs(ccw: Run, tmp_path: Path) -> None:
    write_report(tmp_path / "a.csv", [report_row(2, "110000001")])
    write_report(tmp_path / "b.csv", [report_row(3, "110000002")])
    before = (tmp_path / "a.csv").read_bytes()

    done = ccw("report", "merge", "a.csv", "a.csv", "b.csv")

    assert done.returncode == 2
    assert "is the input" in done.stderr
    assert (tmp_path / "a.csv").read_bytes() == before


# --- the command line itself ---------------------------------------------------------------------


def test_version_prints_the_package_version(ccw: Run) -> None:
    done = ccw("--version")

    assert done.returncode == 0
    assert done.stdout.startswith("ccw-agent ") and done.stdout.strip() != "ccw-agent"


def test_help_shows_the_default_of_each_option(ccw: Run) -> None:
    done = ccw("bulk", "--help", COLUMNS="250")

    assert done.returncode == 0
    workers = next(line for line in done.stdout.splitlines() if "--workers" in line)
    assert "Browser contexts working at once." in workers and "default: (2" in workers
