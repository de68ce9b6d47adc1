"""The ccw_agent pytest plugin as a QA suite sees it: options, refusals, mock-only skips."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mock_site.releases import RELEASES

# Subprocess runs: pytest-playwright-asyncio keeps global state (soft assertions) one process deep,
# and pytest-asyncio's event loops are the child's own.
pytest_plugins = ["pytester"]

STAGING = "https://staging.invalid/Commerce/home"

SUITE = """
import pytest

@pytest.mark.mutating
def test_changes_an_order():
    pass

@pytest.mark.readonly
def test_reads_an_order():
    pass

def test_unmarked_with_a_page(ccw_page):
    pass

def test_controls_the_mock(ccw_mock):
    pass
"""


def test_the_options_are_listed_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*ccw-agent portal fixtures:*", "*--ccw-base-url=URL*", "*--ccw-allow-mutations*"]
    )
    result.stdout.fnmatch_lines([f"*--ccw-release={{{','.join(RELEASES)}}}*"])


def test_the_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.readonly:*", "@pytest.mark.mutating:*"])


def test_mutating_tests_are_refused_off_the_mock_before_they_run(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(SUITE)

    result = pytester.runpytest_subprocess("--strict-markers", f"--ccw-base-url={STAGING}", "-rfEs")

    result.assert_outcomes(passed=1, errors=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            f"refused: *test_changes_an_order is marked mutating*{STAGING}*--ccw-allow-mutations",
            "refused: *test_unmarked_with_a_page* is not marked readonly*",
            "SKIPPED*uses ccw_mock: runs against the bundled mock only*",
        ]
    )


def test_allow_mutations_lets_them_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mutating
        def test_changes_an_order():
            pass
        """
    )
    result = pytester.runpytest_subprocess(f"--ccw-base-url={STAGING}", "--ccw-allow-mutations")
    result.assert_outcomes(passed=1)


def test_on_the_mock_mutating_tests_run_without_the_flag(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mutating
        def test_changes_an_order(ccw_portal, ccw_mock):
            assert ccw_portal.is_mock and ccw_portal.base_url == ccw_mock.home_url
            assert ccw_mock.release.name == "ledger"
        """
    )
    result = pytester.runpytest_subprocess("--ccw-release=ledger")
    result.assert_outcomes(passed=1)


def test_an_unknown_release_is_an_error_naming_the_known_ones(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--ccw-release=modern")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ccw-release*invalid choice*modern*"])
    for known in ("classic", "ledger", "compact"):
        assert known in result.stderr.str()


def test_a_release_is_refused_for_another_portal(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--ccw-release=ledger", f"--ccw-base-url={STAGING}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ccw-release*cannot be used with --ccw-base-url*"])


def test_a_test_cannot_be_both_readonly_and_mutating(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.readonly
        @pytest.mark.mutating
        def test_confused():
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*marked both readonly and mutating*"])


@pytest.mark.browser
def test_a_readonly_test_cannot_click_yes(pytester: pytest.Pytester) -> None:
    # Given a QA project without any pytest-asyncio setting (strict mode, a loop per test)
    pytester.makepyfile(
        """
        import pytest
        from flows.assign import assign_smart_account
        from flows.models import AssignRequest, SearchBy

        @pytest.mark.readonly
        async def test_assigns_although_readonly(ccw_session, ccw_mock):
            request = AssignRequest(
                order_number="110000001", search_by=SearchBy.DOMAIN,
                smart_account="acme.example", virtual_account="DEFAULT",
            )
            with pytest.raises(Exception, match="is marked readonly"):
                await assign_smart_account(ccw_session, request)
            assert ccw_mock.stats()["submissions"] == 0
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


@pytest.mark.browser
def test_async_tests_run_in_the_browser_s_loop_whatever_the_default(
    pytester: pytest.Pytester,
) -> None:
    # Given a project whose async tests get a loop each, and tests that chose their own loop
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        asyncio_mode = "auto"
        asyncio_default_fixture_loop_scope = "session"
        asyncio_default_test_loop_scope = "function"
        filterwarnings = ["error"]
        """
    )
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        loops = []

        @pytest.mark.readonly
        async def test_the_header(ccw_header):
            loops.append(asyncio.get_running_loop())
            assert await ccw_header.signed_in_email() == "demo.partner@northwind.example"

        @pytest.mark.readonly
        async def test_an_order(ccw_open_order):
            loops.append(asyncio.get_running_loop())
            screen = await ccw_open_order("110000002")
            assert len(await screen.lines()) == 2

        def test_the_same_loop_served_both():
            assert len(loops) == 2 and loops[0] is loops[1]

        @pytest.mark.asyncio(loop_scope="function")
        async def test_its_own_loop():
            assert asyncio.get_running_loop() is not loops[0]

        @pytest.mark.readonly
        @pytest.mark.asyncio(loop_scope="module")
        async def test_the_portal_in_another_loop(ccw_page):
            pass
        """
    )
    # When it runs
    result = pytester.runpytest_subprocess()
    # Then the portal's tests share the browser's loop, the others keep theirs, and a portal test
    # that asks for another loop is told why it cannot have it
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(
        ["*test_the_portal_in_another_loop* asks for a module-scoped event loop*session*"]
    )


_WITHOUT_QA = """
import builtins
import sys

_import = builtins.__import__


def _not_installed(name, *args, **kwargs):
    # As if the qa extra were not installed: its modules cannot be imported (an import hook
    # would not do: pytest's own assertion-rewriting hook finds plugin modules first).
    if name.partition(".")[0] in ("pytest_asyncio", "pytest_playwright_asyncio"):
        raise ImportError(f"No module named {name!r}")
    return _import(name, *args, **kwargs)


builtins.__import__ = _not_installed
"""


def _pytest_in(folder: Path, *args: str, without_qa: bool = False) -> str:
    """`pytest ARGS` in a child Python, optionally as if the qa extra were not installed (its
    modules unimportable, their own pytest plugins not registered); the child's output."""
    unplugged = ["-p", "no:asyncio", "-p", "no:playwright-asyncio"] if without_qa else []
    argv = ["-p", "no:cacheprovider", *unplugged, *args, str(folder)]
    runner = folder / "run_pytest.py"
    runner.write_text(
        (_WITHOUT_QA if without_qa else "import sys\n")
        + f"import pytest\nsys.exit(pytest.main({argv!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, str(runner)], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_without_the_qa_extra_the_plugin_stays_out_of_an_unrelated_suite(tmp_path: Path) -> None:
    # Given a plain test suite, in an environment where ccw-agent is installed
    (tmp_path / "test_plain.py").write_text("def test_one():\n    assert True\n")
    assert "ccw_session" in _pytest_in(tmp_path, "--fixtures")
    # When pytest-asyncio (the qa extra) is missing, then the suite still runs, without the
    # plugin's fixtures
    assert "1 passed" in _pytest_in(tmp_path, "-q", without_qa=True)
    assert "ccw_session" not in _pytest_in(tmp_path, "--fixtures", without_qa=True)


def test_the_portal_s_labels_take_the_label_file_of_the_settings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a label file in CCW_LABELS_FILE, as the agent would use it
    label_file = pytester.path / "labels.toml"
    label_file.write_text('search = "Find"\n', encoding="utf-8")
    monkeypatch.setenv("CCW_LABELS_FILE", str(label_file))
    pytester.makepyfile(
        """
        def test_labels(ccw_portal):
            assert ccw_portal.labels.search == "Find"
        """
    )

    # When a suite runs against another portal
    result = pytester.runpytest_subprocess(f"--ccw-base-url={STAGING}")

    # Then its labels are the file's
    result.assert_outcomes(passed=1)
