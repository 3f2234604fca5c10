"""The clock sweep: tests that read the clock, run at chosen instants instead of whenever CI runs.

A suite whose tests pick "next Monday" fails on the day that Monday is today, and CI runs on any day
at any hour. So the tests that depend on the date (marked ``clock_sensitive``) also run with the clock
moved in-process by time-machine, which travels in UTC (the process's local zone stays as it is):
``datetime.now``, ``date.today`` and ``time.time`` — and so the layer's ``now_utc``, Powertools'
idempotency expiry and moto's timestamps — read the shifted time, which runs on from the instant.
Monotonic clocks (the per-request DynamoDB deadline, the settings cache) are not moved: they only
measure durations.

- ``pytest --clock-sweep`` runs only the marked tests, each once per instant of ``SWEEP`` (ids like
  ``test_x[clock=Sun-23:30-New_York]``). ``make test`` runs it on both cores.
- ``pytest --clock-at 2026-12-06T23:30-05:00 …`` runs the selected tests (marked or not) with the clock
  at that instant, from the start of the session.

The integration tests talk to a local stack in other processes, which no in-process shift reaches: they
are correct by construction instead (their days come from tests/days.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

MARKER = "clock_sensitive"
NY_NAME = "America/New_York"

# The week before the US spring-forward (Sunday 2027-03-14, 02:00 in New York): each weekday, both sides
# of midnight in UTC and in the test doctors' zone (00:00-05:00 UTC it is still "yesterday" in New York,
# the window that broke "next Monday"), and noon in New York (office hours). The days the tests book, two
# to nine days later, straddle the change of offset. And the instant the bug was found at.
SWEEP_WEEK = [date(2027, 3, 8) + timedelta(days=i) for i in range(7)]  # Monday … Sunday
SWEEP_TIMES = [  # (wall time, zone)
    (time(0, 30), "UTC"),
    (time(23, 30), "UTC"),
    (time(0, 30), NY_NAME),
    (time(12, 0), NY_NAME),
    (time(23, 30), NY_NAME),
]
FOUND_AT = datetime.fromisoformat("2026-12-06T23:30:00-05:00")  # a Sunday night in New York: issue 18


def _label(moment: datetime, zone: str) -> str:
    return f"{moment:%a-%H:%M}-{zone.rsplit('/', 1)[-1]}"


SWEEP: list[tuple[str, datetime]] = [
    (_label(moment, zone), moment)
    for day in SWEEP_WEEK
    for wall, zone in SWEEP_TIMES
    for moment in [datetime.combine(day, wall, tzinfo=ZoneInfo(zone))]
] + [(f"found-{_label(FOUND_AT, NY_NAME)}", FOUND_AT)]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("clock", "running tests at other instants (tests/clock_sweep.py)")
    group.addoption(
        "--clock-sweep",
        action="store_true",
        help=f"run only the tests marked {MARKER}, each at every instant of the sweep",
    )
    group.addoption(
        "--clock-at",
        metavar="ISO_INSTANT",
        type=datetime.fromisoformat,
        help="run the tests with the clock at this instant (with its offset, e.g. 2026-12-06T23:30-05:00)",
    )


def pytest_configure(config: pytest.Config) -> None:
    at = config.getoption("--clock-at", None)
    if at is not None:
        if at.tzinfo is None:
            raise pytest.UsageError("--clock-at needs an offset or Z, e.g. 2026-12-06T23:30-05:00")
        import time_machine

        config._clock_at = time_machine.travel(at.astimezone(UTC), tick=True)  # one clock for the session
        config._clock_at.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = getattr(config, "_clock_at", None)
    if traveller is not None:
        traveller.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.config.getoption("--clock-sweep") and metafunc.definition.get_closest_marker(MARKER):
        metafunc.fixturenames.append("clock_instant")
        metafunc.parametrize("clock_instant", [moment for _, moment in SWEEP], ids=[f"clock={n}" for n, _ in SWEEP])


def select(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under --clock-sweep, only the marked tests run; a marked test must make its world at its instant."""
    if not config.getoption("--clock-sweep"):
        return
    chosen, dropped = [], []
    for item in items:
        (chosen if item.get_closest_marker(MARKER) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = chosen
    for item in chosen:
        shared = [
            name
            for name, definitions in item._fixtureinfo.name2fixturedefs.items()
            if definitions[-1].scope != "function" and definitions[-1].baseid.startswith("tests/")
        ]
        if shared:
            raise pytest.UsageError(
                f"{item.nodeid} is marked {MARKER} but uses {shared}, made once for many tests (so at another "
                "instant than the test's): give it function-scoped fixtures, or do not mark it"
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    callspec = getattr(item, "callspec", None)
    moment = callspec.params.get("clock_instant") if callspec else None
    if moment is not None:
        import time_machine

        item._clock_instant = time_machine.travel(moment.astimezone(UTC), tick=True)  # before its fixtures
        item._clock_instant.start()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item):
    try:
        return (yield)
    finally:
        traveller = getattr(item, "_clock_instant", None)
        if traveller is not None:
            traveller.stop()
