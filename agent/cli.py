"""The `ccw-agent` command line: the only place that turns errors into messages and exit codes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import Enum
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import structlog
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape

from agent import jobs
from agent.bulk import merge_reports, parse_shard
from agent.bulk.audit import audit_exit, read_audit_input
from agent.bulk.csv_input import OrderFile
from agent.bulk.progress import BulkObserver, LogObserver, RichObserver, summary_table
from agent.bulk.report import check_report_paths
from agent.bulk.run import BulkOptions, export_report, run_bulk
from agent.capture import CaptureError, FolderNotEmpty, find_values, to_test
from agent.capture.bundle import MANIFEST, check_empty
from agent.capture.failures import FailureCaptures
from agent.doctor import print_report
from agent.doctor import write_overrides as write_label_file
from agent.exits import Exit, exit_for
from agent.files import can_write_in, nearest_folder
from agent.logs import printable
from agent.output import for_output, print_result, print_view
from agent.runner import Target
from agent.settings import Settings, TraceMode
from agent.targets import load_settings, target_for
from flows.models import ORDER_NUMBER, AssignRequest, AssignResult, Outcome, SearchBy
from pages.errors import (
    CcwAgentError,
    ConfigError,
    InputError,
    LockHeld,
    LoginFailed,
    LoginRequired,
    PortalError,
    first_line,
)
from pages.secrets import redact

app = typer.Typer(
    name="ccw-agent",
    help="Assign Cisco Commerce Workspace orders to Smart Accounts by driving the portal's UI.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
report_app = typer.Typer(help="Work with bulk reports.", no_args_is_help=True)
app.add_typer(report_app, name="report")
capture_app = typer.Typer(
    help="Work with capture bundles (`doctor --capture`, `--capture-on-failure`).",
    no_args_is_help=True,
)
app.add_typer(capture_app, name="capture")

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one line per message, for logs and cron mail
log = structlog.get_logger(__name__)


MockOpt = Annotated[
    bool, typer.Option("--mock", help="Start the bundled mock portal in-process and work on it.")
]
HeadedOpt = Annotated[bool, typer.Option("--headed", help="Show the browser (needs a display).")]
SlowMoOpt = Annotated[
    int, typer.Option("--slow-mo", metavar="MS", min=0, help="Pause MS milliseconds per action.")
]
TraceOpt = Annotated[
    bool, typer.Option("--trace", help="Keep a Playwright trace of every order, not only failures.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
AllowPendingOpt = Annotated[
    bool,
    typer.Option(
        "--allow-pending", help="Assign a Pending Smart Account (the order stays on hold)."
    ),
]
InternalSupportOpt = Annotated[
    bool,
    typer.Option(
        "--internal-licensing-support",
        help="Allow a cisco.com user to submit (licensing support only).",
    ),
]
# Options several commands share; `bulk` and `audit` word theirs for what they do with a row.
ReportOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--report",
        metavar="PATH",
        help="Report file, .csv, .json or .html (repeat for several).",
        show_default=".csv and .json in the state folder's reports/",
    ),
]


def _workers_option(doing: str) -> Any:
    return typer.Option(
        "--workers",
        min=1,
        max=32,
        help=f"Browser contexts {doing} at once.",
        show_default="2, or CCW_WORKERS",
    )


def _skip_invalid_option(verb: str) -> Any:
    return typer.Option(
        "--skip-invalid", help=f"{verb} the valid rows; report invalid ones as invalid_input."
    )


def _shard_option(verb: str) -> Any:
    return typer.Option(
        "--shard",
        metavar="K/N",
        help=f"{verb} only shard K of N of the file's orders.",
        show_default="the whole file",
    )


CaptureOnFailureOpt = Annotated[
    Path | None,
    typer.Option(
        "--capture-on-failure",
        metavar="DIR",
        help="Keep a redacted capture of the screen a failed attempt stopped on, in this new "
        "or empty folder.",
        show_default="no capture",
    ),
]


def _print_version(asked: bool) -> None:
    if asked:
        try:
            console.print(f"ccw-agent {package_version('ccw-agent')}", markup=False)
        except PackageNotFoundError:
            console.print("ccw-agent (version unknown: the package is not installed)")
        raise typer.Exit(int(Exit.OK))


@app.callback()
def private_files(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    # Every file the agent writes (sessions, ledger, reports, artifacts) is its owner's only.
    os.umask(0o077)


def shown(value: object) -> str:
    """Any text from the user, a file or the portal, made safe to put in a rich markup string:
    no markup of its own, no terminal control, no secret."""
    return escape(printable(redact(str(value))))


Model = TypeVar("Model")


def scrubbed(value: Model, clean: Callable[[str], str] = shown) -> Model:
    """A copy of a result with `clean` applied to every text in it (nested models included), so
    that printers written for trusted text can be handed the portal's words."""
    cleaned: object
    if isinstance(value, Enum | bool | int | float) or value is None:
        return value
    if isinstance(value, str):
        cleaned = clean(value)
    elif isinstance(value, BaseModel):
        fields = type(value).model_fields
        cleaned = value.model_copy(
            update={name: scrubbed(getattr(value, name), clean) for name in fields}
        )
    elif isinstance(value, tuple | list):
        cleaned = type(value)(scrubbed(item, clean) for item in value)
    elif isinstance(value, dict):
        cleaned = {key: scrubbed(item, clean) for key, item in value.items()}
    elif isinstance(value, Path):
        cleaned = Path(clean(str(value)))
    else:
        return value
    return cleaned  # type: ignore[return-value]


def as_json(result: BaseModel) -> str:
    """The result for programs: every text printable (JSON escapes C0, not C1 or sequences)."""
    return scrubbed(result, printable).model_dump_json(indent=2)


def print_or_summarise(show_it: Callable[[], None], summary: str) -> None:
    """Show a result; should that fail, one plain line instead. Printing comes after work that
    cannot be undone (a submission), so it must not turn a done job into a traceback."""
    try:
        show_it()
    except Exception as exc:  # noqa: BLE001 - whatever broke the table, the outcome must show
        log.warning("result_not_printable", error=type(exc).__name__)
        print(printable(redact(summary)))


def fail(code: Exit, message: str) -> NoReturn:
    errors.print(f"[bold red]error:[/] {shown(message)}", highlight=False)
    raise typer.Exit(int(code))


@contextmanager
def handled() -> Iterator[None]:
    """Turn the agent's errors into a message a person can act on and an exit code."""
    try:
        yield
    except KeyboardInterrupt:
        fail(Exit.INTERRUPTED, "interrupted")
    except LoginRequired as exc:
        fail(Exit.SIGN_IN, f"{exc}. Run `ccw-agent login` (or set CCW_USERNAME and CCW_PASSWORD).")
    except LoginFailed as exc:
        fail(Exit.SIGN_IN, f"sign-in refused: {exc}")
    except LockHeld as exc:
        fail(Exit.LOCKED, str(exc))
    except (ConfigError, InputError) as exc:
        fail(Exit.INVALID_INPUT, str(exc))
    except PortalError as exc:
        fail(Exit.FAILED, f"the portal failed after retries: {exc}")
    except CcwAgentError as exc:
        fail(Exit.FAILED, str(exc))


@contextmanager
def portal(
    mock: bool, overrides: Mapping[str, object], release: str | None = None
) -> Iterator[Target]:
    """The portal to work on, with these options over the settings; errors handled."""
    with handled():
        settings = load_settings(**overrides)
        with target_for(settings, mock, release, notices=errors) as target:
            yield target


def debug_overrides(headed: bool, slow_mo: int, trace: bool) -> dict[str, object]:
    return {
        "headless": False if headed else None,
        "slow_mo_ms": slow_mo or None,
        "trace": TraceMode.ALWAYS if trace else None,
    }


@app.command()
def login(
    interactive: Annotated[
        bool,
        typer.Option(
            "--interactive",
            help="Open a browser; you complete sign-on and MFA, the agent saves the session.",
        ),
    ] = False,
    timeout: Annotated[
        int, typer.Option(help="Seconds to wait for an interactive sign-in.", min=10)
    ] = 300,
    mock: MockOpt = False,
    headed: HeadedOpt = False,
) -> None:
    """Sign in to CCW and save the session for later runs (file mode 0600)."""
    with portal(mock, {"headless": False if (headed or interactive) else None}) as target:
        if not interactive and target.credentials is None:
            fail(
                Exit.INVALID_INPUT,
                "set CCW_USERNAME and CCW_PASSWORD (and CCW_TOTP_SECRET if MFA is enrolled), "
                "or use --interactive to sign in yourself",
            )
        email = asyncio.run(jobs.login(target, interactive=interactive, timeout_s=timeout))
        console.print(f"Signed in as {shown(email)}; session saved to {shown(target.store.path)}")


@app.command()
def show(
    order: Annotated[str, typer.Argument(help="Sales Order or Web Order number.")],
    mock: MockOpt = False,
    headed: HeadedOpt = False,
    slow_mo: SlowMoOpt = 0,
    trace: TraceOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Steps 1-4: the order's status, holds, and each line's Smart Account and Virtual Account."""
    if not ORDER_NUMBER.match(order):
        fail(Exit.INVALID_INPUT, f"ORDER: {order!r} is not an order number (6 to 12 digits)")
    with portal(mock, debug_overrides(headed, slow_mo, trace)) as target:
        result = asyncio.run(jobs.show(target, order))
    if json_output:
        print(as_json(result))
    elif result.view is None:
        console.print(
            f"{Outcome.ORDER_NOT_FOUND.value}: {order}: {Outcome.ORDER_NOT_FOUND.sentence}"
        )
    else:
        view = scrubbed(result.view)
        print_or_summarise(
            lambda: print_view(console, view), f"order {order}: {result.view.status}"
        )
    raise typer.Exit(int(Exit.OK if result.view is not None else Exit.NEEDS_ATTENTION))


@app.command()
def assign(
    order: Annotated[str, typer.Argument(help="Sales Order or Web Order number.")],
    virtual_account: Annotated[
        str, typer.Option("--virtual-account", help="Virtual Account Name to assign.")
    ],
    domain: Annotated[
        str | None, typer.Option("--domain", help="Find the Smart Account by Domain Identifier.")
    ] = None,
    account_name: Annotated[
        str | None, typer.Option("--account-name", help="Find it by Account Name (exact).")
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="Find it by the Email ID of one of its users.")
    ] = None,
    expect_domain: Annotated[
        str | None,
        typer.Option(
            "--expect-domain", help="The chosen account must have this Domain Identifier."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Go up to choosing the VA, then cancel.")
    ] = False,
    allow_pending: AllowPendingOpt = False,
    internal_licensing_support: InternalSupportOpt = False,
    mock: MockOpt = False,
    headed: HeadedOpt = False,
    slow_mo: SlowMoOpt = 0,
    trace: TraceOpt = False,
    json_output: JsonOpt = False,
    capture_on_failure: CaptureOnFailureOpt = None,
) -> None:
    """Steps 1-10: assign ORDER's eligible lines to a Smart Account and Virtual Account."""
    given = [
        (SearchBy.DOMAIN, domain),
        (SearchBy.ACCOUNT_NAME, account_name),
        (SearchBy.EMAIL, email),
    ]
    chosen = [(kind, value) for kind, value in given if value is not None]
    if len(chosen) != 1:
        fail(Exit.INVALID_INPUT, "give exactly one of --domain, --account-name, --email")
    search_by, value = chosen[0]
    try:
        request = AssignRequest(
            order_number=order,
            search_by=search_by,
            smart_account=value,
            virtual_account=virtual_account,
            expect_domain=expect_domain,
            dry_run=dry_run,
            allow_pending=allow_pending,
            allow_internal=internal_licensing_support,
        )
    except ValidationError as exc:
        fail(Exit.INVALID_INPUT, "; ".join(_option_error(err) for err in exc.errors()))
    if capture_on_failure is not None:
        check_capture_folder("--capture-on-failure", capture_on_failure)
    with portal(mock, debug_overrides(headed, slow_mo, trace)) as target:
        captures = capture_failures(target, capture_on_failure, per_order=False)
        result: AssignResult = asyncio.run(jobs.assign(target, request))
    if json_output:
        print_or_summarise(lambda: print(as_json(result)), _one_line(result))
    else:
        readable = scrubbed(result)
        print_or_summarise(lambda: print_result(console, readable), _one_line(result))
    report_captures(captures)
    raise typer.Exit(int(exit_for([result.outcome])))


def _one_line(result: AssignResult) -> str:
    return f"{result.outcome.value}: {result.order_number}: {result.outcome.sentence}"


def _option_error(err: object) -> str:
    assert isinstance(err, dict)
    field = str(err["loc"][0]) if err.get("loc") else "input"
    option = {"order_number": "ORDER", "smart_account": "--domain/--account-name/--email"}.get(
        field, "--" + field.replace("_", "-")
    )
    return f"{option}: {err['msg']}"


@app.command()
def doctor(
    order: Annotated[
        str, typer.Argument(help="Sales Order or Web Order number of an order this user sees.")
    ],
    write_overrides: Annotated[
        Path | None,
        typer.Option(
            "--write-overrides",
            metavar="PATH",
            help="Write a label file (for CCW_LABELS_FILE) with the names found on screen.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Let --write-overrides replace a file that exists."),
    ] = False,
    domain: Annotated[
        str | None,
        typer.Option(
            "--domain",
            help="Search and pick this Smart Account by Domain Identifier in the dialog.",
            show_default="the order's current Smart Account",
        ),
    ] = None,
    account_name: Annotated[
        str | None, typer.Option("--account-name", help="Or by Account Name (exact).")
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="Or by the Email ID of one of its users.")
    ] = None,
    release: Annotated[
        str | None,
        typer.Option(
            "--release", help="With --mock: the mock's release.", show_default="the default one"
        ),
    ] = None,
    mock: MockOpt = False,
    headed: HeadedOpt = False,
    slow_mo: SlowMoOpt = 0,
    json_output: JsonOpt = False,
    capture: Annotated[
        Path | None,
        typer.Option(
            "--capture",
            metavar="DIR",
            help="Write a redacted capture of each screen walked (DOM and accessibility "
            "snapshot, no sign-on page) into this new or empty folder.",
        ),
    ] = None,
) -> None:
    """Steps 1-8 read-only: is every label the agent needs on screen, how it was found, and
    what shows instead. It picks an account in the dialog to check the Virtual Account drop-down
    and Assign, and never clicks Assign, Submit or Yes."""
    if not ORDER_NUMBER.match(order):
        fail(Exit.INVALID_INPUT, f"ORDER: {order!r} is not an order number (6 to 12 digits)")
    given = [
        (SearchBy.DOMAIN, domain),
        (SearchBy.ACCOUNT_NAME, account_name),
        (SearchBy.EMAIL, email),
    ]
    chosen = [(kind, value) for kind, value in given if value is not None]
    if len(chosen) > 1:
        fail(Exit.INVALID_INPUT, "give at most one of --domain, --account-name, --email")
    search: tuple[SearchBy, str] | None = None
    if chosen:
        try:
            # The same checks as assign's (a domain name, an email address, a name's length).
            checked = AssignRequest(
                order_number=order,
                search_by=chosen[0][0],
                smart_account=chosen[0][1],
                virtual_account="-",
            )
        except ValidationError as exc:
            fail(Exit.INVALID_INPUT, "; ".join(_option_error(err) for err in exc.errors()))
        search = (checked.search_by, checked.smart_account)
    if release is not None:
        from mock_site.releases import RELEASES

        if not mock:
            fail(Exit.INVALID_INPUT, "--release works with --mock only")
        if release not in RELEASES:
            fail(
                Exit.INVALID_INPUT, f"--release {release!r}: expected one of {', '.join(RELEASES)}"
            )
    if write_overrides is not None:
        check_overrides_path(write_overrides, force)
    if capture is not None:
        check_capture_folder("--capture", capture)
    with portal(mock, debug_overrides(headed, slow_mo, False), release) as target:
        with capture_reported("--capture", capture):
            report = asyncio.run(jobs.doctor(target, order, search, capture))
    if json_output:
        print(as_json(report))
    else:
        readable = scrubbed(report)
        print_or_summarise(
            lambda: print_report(for_output(console), readable),
            f"doctor: order {order}: {'every label found' if report.ok else 'labels missing'}",
        )
    if write_overrides is not None:
        with handled():
            count = write_label_file(report, write_overrides)
        errors.print(
            f"Wrote {count} label(s) to {shown(write_overrides)}; use it with "
            f"CCW_LABELS_FILE={shown(write_overrides)}",
            highlight=False,
        )
    if capture is not None:
        errors.print(
            f"Capture written to {shown(capture)}; look for your own values in it with "
            f"`ccw-agent capture check {shown(capture)} VALUES.txt` before sending it.",
            highlight=False,
        )
    raise typer.Exit(int(Exit.OK if report.ok else Exit.NEEDS_ATTENTION))


def check_capture_folder(option: str, folder: Path) -> None:
    """Exit 2 before any browser starts unless a bundle can be written into `folder`: a new
    folder, or an empty one."""
    try:
        check_empty(folder)
    except FolderNotEmpty:
        fail(
            Exit.INVALID_INPUT,
            f"{option} {folder}: not an empty folder (a capture is written only into a new or "
            "empty one, so that it holds nothing else); give another folder",
        )
    if not can_write_in(nearest_folder(folder)):
        fail(
            Exit.INVALID_INPUT,
            f"{option} {folder}: {nearest_folder(folder)} is not a writable folder",
        )


@contextmanager
def capture_reported(option: str, folder: Path | None) -> Iterator[None]:
    """A capture that could not be written ends the command with exit 3 and the folder named,
    also when it was written on the way out of another error (that error is named too)."""
    try:
        yield
    except CaptureError as exc:
        cause = exc.__context__
        also = "" if cause is None else f"; the walk had also failed: {first_line(cause)}"
        fail(Exit.FAILED, f"{option} {folder}: nothing was written: {exc}{also}")


def capture_failures(
    target: Target, folder: Path | None, *, per_order: bool
) -> FailureCaptures | None:
    """Make the target's workers capture the screens failed attempts stop on into `folder`."""
    if folder is None:
        return None
    try:
        target.failure_captures = FailureCaptures(
            folder,
            portal_url=target.settings.base_url,
            words=target.labels,
            locale=target.settings.locale,
            per_order=per_order,
        )
    except FolderNotEmpty:
        fail(Exit.INVALID_INPUT, f"--capture-on-failure {folder}: not an empty folder")
    return target.failure_captures


def report_captures(captures: FailureCaptures | None) -> None:
    """Name the bundles written; exit 3 naming each one that could not be."""
    if captures is None:
        return
    captures.close()
    for folder in captures.written:
        errors.print(f"Capture of the failed screens: {shown(folder)}", highlight=False)
    if not captures.written and not captures.refused:
        errors.print("No attempt failed: nothing was captured.", highlight=False)
    if captures.refused:
        fail(
            Exit.FAILED,
            "--capture-on-failure: nothing was written for " + "; ".join(captures.refused),
        )


def check_overrides_path(path: Path, force: bool) -> None:
    """Exit 2 before any work unless a label file can be written at `path`; a file that exists
    (perhaps edited by hand) is replaced only with --force."""
    if path.is_dir():
        fail(Exit.INVALID_INPUT, f"--write-overrides {path}: is a folder; give a file name")
    if (path.exists() or path.is_symlink()) and not force:
        fail(
            Exit.INVALID_INPUT,
            f"--write-overrides {path}: the file exists (it may hold labels written by hand); "
            "give another name, or --force to replace it",
        )
    if path.exists() and not path.is_file():
        fail(Exit.INVALID_INPUT, f"--write-overrides {path}: not a regular file")
    if not can_write_in(nearest_folder(path)):
        fail(
            Exit.INVALID_INPUT,
            f"--write-overrides {path}: {nearest_folder(path)} is not a writable folder",
        )


@app.command("mock-site")
def mock_site(
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8765,
    seed: Annotated[int, typer.Option(help="Seed of the fault and survey randomness.")] = 0,
    profile: Annotated[str, typer.Option(help="Fault profile: none or portal-like.")] = "none",
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    release: Annotated[
        str, typer.Option(help="Layout variant: classic, ledger, compact or renamed.")
    ] = "classic",
    locale: Annotated[str, typer.Option(help="Language of the pages: en or fr.")] = "en",
) -> None:
    """Serve the bundled mock portal (with its control API) until Ctrl-C."""
    from mock_site.faults import PROFILES
    from mock_site.releases import RELEASES
    from mock_site.server import serve_forever
    from mock_site.words import LOCALES

    if profile not in PROFILES:
        fail(Exit.INVALID_INPUT, f"--profile {profile!r}: expected one of {', '.join(PROFILES)}")
    if release not in RELEASES:
        fail(Exit.INVALID_INPUT, f"--release {release!r}: expected one of {', '.join(RELEASES)}")
    if locale not in LOCALES:
        fail(Exit.INVALID_INPUT, f"--locale {locale!r}: expected one of {', '.join(LOCALES)}")
    try:
        serve_forever(host, port, seed, profile, release, locale)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    except OSError as exc:
        fail(Exit.INVALID_INPUT, f"cannot listen on {host}:{port}: {exc}")


@app.command()
def bulk(
    file: Annotated[Path, typer.Argument(help="CSV of orders to assign (see docs/bulk.md).")],
    workers: Annotated[int | None, _workers_option("working")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Every row up to choosing the VA, then cancel.")
    ] = False,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue the last unfinished run of this file and shard."),
    ] = False,
    report: ReportOpt = None,
    skip_invalid: Annotated[bool, _skip_invalid_option("Run")] = False,
    max_submits_per_minute: Annotated[
        float | None,
        typer.Option(
            "--max-submits-per-minute",
            metavar="R",
            help="At most R submissions per minute across all workers.",
            show_default="no cap, or CCW_MAX_SUBMITS_PER_MINUTE",
        ),
    ] = None,
    shard: Annotated[str | None, _shard_option("Run")] = None,
    preflight: Annotated[
        bool,
        typer.Option(
            "--preflight",
            help="First run `doctor` on the first row's order; stop if a label is missing.",
        ),
    ] = False,
    allow_pending: AllowPendingOpt = False,
    internal_licensing_support: InternalSupportOpt = False,
    mock: MockOpt = False,
    headed: HeadedOpt = False,
    slow_mo: SlowMoOpt = 0,
    trace: TraceOpt = False,
    capture_on_failure: CaptureOnFailureOpt = None,
) -> None:
    """Assign every order of a CSV file, resumably, with N workers sharing one browser."""
    if capture_on_failure is not None:
        check_capture_folder("--capture-on-failure", capture_on_failure)
    with handled():
        settings = load_settings(
            workers=workers,
            max_submits_per_minute=max_submits_per_minute,
            **debug_overrides(headed, slow_mo, trace),
        )
        reports = check_report_paths(report or (), inputs=(file,))
        options = BulkOptions(
            workers=settings.workers,
            dry_run=dry_run,
            allow_pending=allow_pending,
            allow_internal=internal_licensing_support,
            resume=resume,
            shard=parse_shard(shard) if shard else None,
            max_submits_per_minute=settings.max_submits_per_minute,
            reports=reports,
        )
        # The whole file is checked before anything starts, whatever shard this run takes; it
        # is read as a stream, now and again as it goes into the ledger, never held whole.
        loaded = OrderFile.scan(file)
        if not skip_invalid:
            loaded.check()
        with target_for(settings, mock, notices=errors) as target:
            captures = capture_failures(target, capture_on_failure, per_order=True)
            if preflight:
                run_preflight(target, loaded)
            interactive = errors.is_terminal
            observer: BulkObserver = (
                RichObserver(errors, settings.log_level) if interactive else LogObserver()
            )
            summary = asyncio.run(run_bulk(target, file, loaded, options, observer=observer))
    if interactive:
        print_or_summarise(
            lambda: console.print(summary_table(summary.counts)),
            f"bulk run {summary.run_id}: {dict(summary.counts)}",
        )
        for path in summary.reports:
            console.print(f"Report: {shown(path)}")
    report_captures(captures)
    if summary.status == "interrupted":
        fail(
            Exit.INTERRUPTED,
            f"interrupted with {summary.unfinished} row(s) not finished (run {summary.run_id}); "
            "run the same command with --resume to continue",
        )
    raise typer.Exit(int(exit_for(summary.outcomes)))


@app.command()
def audit(
    file: Annotated[
        Path,
        typer.Argument(
            help="A bulk CSV, a bulk report (.csv or .json) or one column of order numbers."
        ),
    ],
    workers: Annotated[int | None, _workers_option("reading")] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue the last unfinished audit of this file and shard."),
    ] = False,
    report: ReportOpt = None,
    skip_invalid: Annotated[bool, _skip_invalid_option("Read")] = False,
    shard: Annotated[str | None, _shard_option("Read")] = None,
    mock: MockOpt = False,
    headed: HeadedOpt = False,
    slow_mo: SlowMoOpt = 0,
    trace: TraceOpt = False,
) -> None:
    """Steps 1-4 on every order of a file, never assigning: where each order is, whether it can
    be assigned (and if not, why), and whether it is on the file's target."""
    with handled():
        settings = load_settings(workers=workers, **debug_overrides(headed, slow_mo, trace))
        reports = check_report_paths(report or (), inputs=(file,))
        options = BulkOptions(
            workers=settings.workers,
            resume=resume,
            shard=parse_shard(shard) if shard else None,
            reports=reports,
            audit=True,
        )
        orders = read_audit_input(file)
        if not skip_invalid:
            orders.check()
        with target_for(settings, mock, notices=errors) as target:
            interactive = errors.is_terminal
            observer: BulkObserver = (
                RichObserver(errors, settings.log_level) if interactive else LogObserver()
            )
            summary = asyncio.run(run_bulk(target, file, orders, options, observer=observer))
    if interactive:
        print_or_summarise(
            lambda: console.print(summary_table(summary.counts, title="Audit")),
            f"audit {summary.run_id}: {dict(summary.counts)}",
        )
        for path in summary.reports:
            console.print(f"Report: {shown(path)}")
    if summary.status == "interrupted":
        fail(
            Exit.INTERRUPTED,
            f"interrupted with {summary.unfinished} order(s) not read (run {summary.run_id}); "
            "run the same command with --resume to continue",
        )
    raise typer.Exit(int(audit_exit(summary.outcomes)))


def run_preflight(target: Target, loaded: OrderFile) -> None:
    """The doctor on the file's first valid order; exit 1 with its report if a label is missing."""
    report = asyncio.run(jobs.preflight(target, loaded))
    if report is None:
        return
    if report.ok:
        errors.print(f"preflight: every label found on order {report.order}")
        return
    print_report(errors, report)
    fail(
        Exit.NEEDS_ATTENTION,
        f"preflight: the portal does not show every label the agent needs (order "
        f"{report.order}); no row was run. Write a label file with `ccw-agent doctor "
        f"{report.order} --write-overrides labels.toml` and set CCW_LABELS_FILE to it.",
    )


@report_app.command("export")
def report_export(
    run: Annotated[
        str, typer.Argument(help="The bulk run's id (or its first characters), as it printed it.")
    ],
    report: ReportOpt = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            metavar="DIR",
            help="The state folder whose ledger holds the run (runs with --mock are in its "
            "mock/ folder).",
            show_default="CCW_STATE_DIR",
        ),
    ] = None,
) -> None:
    """Write a bulk run's report again from the ledger (after its folder or disk failed)."""
    with handled():
        settings = load_settings(state_dir=state_dir)
        exported = export_report(settings.state_dir, run, check_report_paths(report or ()))
    for path in exported.reports:
        console.print(f"Report: {shown(path)}")
    if exported.finished:
        console.print(
            f"The run {shown(exported.run_id)} had no row left to do; it is now marked finished."
        )


@report_app.command("merge")
def report_merge(
    out: Annotated[Path, typer.Argument(help="Merged report to write (.csv, .json or .html).")],
    inputs: Annotated[list[Path], typer.Argument(help="The shard reports of one input.")],
) -> None:
    """Merge the reports of the shards of one input file into one report, in row order.

    Screenshots are embedded in an HTML report only from the state folder's artifacts: a report
    names files, and a merged page must not carry any other file of this machine.
    """
    with handled():
        settings = load_settings()
        check_report_paths([out], inputs=inputs, option="OUT")
        rows = merge_reports(inputs, out, screenshots_from=artifact_folders(settings))
    console.print(f"Merged {len(inputs)} reports ({len(rows)} rows) into {shown(out)}")


def artifact_folders(settings: Settings) -> tuple[Path, ...]:
    """Where the agent's screenshots are: the artifacts folder, and the mock runs' one."""
    mock = settings.model_copy(update={"state_dir": settings.state_dir / "mock"})
    return (settings.artifacts_path, mock.artifacts_path)


@capture_app.command("to-test")
def capture_to_test(
    bundle: Annotated[Path, typer.Argument(help="A capture bundle's folder.")],
    name: Annotated[
        str, typer.Argument(help="The fixtures' folder name: lower-case letters, digits, - _.")
    ],
    tests: Annotated[
        Path, typer.Option("--tests", metavar="PATH", help="The reader fixtures' root folder.")
    ] = Path("tests/screens"),
) -> None:
    """Turn a capture bundle into reader-test fixtures: PATH/NAME/ with its screens and an
    expected.json of what the agent read on each (correct it where it read wrong)."""
    if not (bundle / MANIFEST).is_file():
        fail(
            Exit.INVALID_INPUT,
            f"{bundle}: no {MANIFEST} there; give a folder written by `doctor --capture`",
        )
    try:
        made = to_test(bundle, name, tests)
    except (ValueError, KeyError, OSError) as exc:
        fail(Exit.INVALID_INPUT, f"{bundle} as {name}: {first_line(exc)}")
    console.print(f"Reader fixtures: {shown(made)}")
    console.print(f"Run them: .venv/bin/pytest tests/test_screens.py -k {shown(name)}")


@capture_app.command("check")
def capture_check(
    bundle: Annotated[Path, typer.Argument(help="A capture bundle's folder.")],
    values: Annotated[
        Path, typer.Argument(help="A text file of your own values (names, domains), one a line.")
    ],
) -> None:
    """Look for your own values in a bundle before sending it: whole values, any case, numbers
    with or without leading zeros. Exit 1 and each file holding one when any is found."""
    if not bundle.is_dir():
        fail(Exit.INVALID_INPUT, f"{bundle}: not a folder; give a capture bundle's folder")
    try:
        lines = values.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        fail(Exit.INVALID_INPUT, f"{values}: cannot be read: {first_line(exc)}")
    wanted = [line.strip() for line in lines if line.strip()]
    if not wanted:
        fail(Exit.INVALID_INPUT, f"{values}: holds no value; write one value a line")
    found = find_values(bundle, wanted)
    for file, value in found:
        console.print(f"{shown(file)}: {shown(value)}", highlight=False)
    if found:
        console.print(
            f"{len(found)} value(s) found in {shown(bundle)}: do not send it as it is.",
            highlight=False,
        )
        raise typer.Exit(int(Exit.NEEDS_ATTENTION))
    console.print(f"None of the {len(wanted)} values is in {shown(bundle)}.", highlight=False)
