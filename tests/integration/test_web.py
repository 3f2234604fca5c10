"""The web app (web/, served at /app/ by the local stack) driven in a real headless Chromium — Debian's
`chromium` (make chromium), through Playwright for Python, never a browser a test library downloads.

- the front desk books (finding the patient by family-name prefix and birth date, or registering one),
  moves an appointment by dragging it (a 409 puts it back and says why) and by the keyboard alternative,
  cancels with a reason (the server's field message shown next to the field), checks a patient in, marks
  a no-show, holds a time, adds a patient to the waitlist and enters a doctor's time off; the day by room;
- a patient finds the earliest slot by specialty, location and visit type, holds it and confirms it, and
  cancels it from their own list;
- two browsers race for the same slot: exactly one holds it, the other is told;
- a doctor sees their day (and week).

On every page axe-core (the pinned npm package in web/, injected by the test) reports no serious or
critical violation. Throughout, no patient data (names, birth dates, reasons) and no token appears in
any URL the browsers request or navigate to, in any console line, or in browser storage (which stays
empty), and no Content-Security-Policy violation is reported.

The README's screenshots (docs/screenshots/*.png) are taken here: written where missing, or all again
with REFRESH_SCREENSHOTS=1 (otherwise into the test's temporary folder, so a run leaves the tree clean).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from local_stack import ROOT
from local_stack.seed import SITED_TYPES
from tests.days import workday

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
# The flags this machine's notes give: no sandbox (root), and no background traffic to Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
ZONE = "America/New_York"
WORKDAY = workday()

PATIENTS = {
    "ada": {"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1985-12-10", "sex": "female"},
    "charles": {"given_name": "Charles", "family_name": "Babbage", "birth_date": "1961-12-26", "sex": "male"},
    "katherine": {"given_name": "Katherine", "family_name": "Johnson", "birth_date": "1998-08-26", "sex": "female"},
    "edsger": {"given_name": "Edsger", "family_name": "Dijkstra", "birth_date": "2019-05-11", "sex": "male"},
    "hedy": {"given_name": "Hedy", "family_name": "Lamarr", "birth_date": "1974-11-09", "sex": "female"},
    "alan": {"given_name": "Alan", "family_name": "Kay", "birth_date": "1990-05-17", "sex": "male"},
    "john": {"given_name": "John", "family_name": "Backus", "birth_date": "1954-12-03", "sex": "male"},
    "frances": {"given_name": "Frances", "family_name": "Allen", "birth_date": "1982-08-04", "sex": "female"},
}
REGISTERED = {"given_name": "Barbara", "family_name": "Liskov", "birth_date": "1979-11-07"}
REASONS = ["Follow-up of the knee scan", "Patient asked to move it"]
# Skipped without the browser, except in CI (CI=true), where `make test` installs it: there it must run.
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true", reason="needs Debian's chromium (make chromium)"
)


# ---------------------------------------------------------------------- the clinic the browsers see
@dataclass
class Clinic:
    url: str
    location: str
    doctors: dict[str, str]
    patients: dict[str, str]
    staff: dict[str, str]

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, headers=self.staff, timeout=60, **kwargs)


def _created(response: requests.Response) -> str:
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def clinic(stack):
    """A site like the demo's Downtown Clinic (two exam rooms and an ultrasound), Grace Hopper and Virginia
    Apgar working there with visit types that need rooms, and the patients, made on the session's stack."""
    staff = stack.headers("staff")
    made = Clinic(stack.url, "", {}, {}, staff)
    before = made.api("GET", "/settings").json()
    wanted = {
        "min_notice_minutes": 0,
        "hold_minutes": 5,
        "max_holds_per_patient": 2,
        "max_open_appointments_per_patient": 20,
    }
    assert made.api("PATCH", "/settings", json=wanted).status_code == 200
    made.location = _created(
        made.api(
            "POST",
            "/locations",
            json={
                "name": "Downtown Clinic",
                "time_zone": ZONE,
                "address": {"line": "1 Main Street", "city": "New York", "postal_code": "10001", "country": "US"},
            },
        )
    )
    for name, kind, category in (
        ("Exam room 1", "exam-room", "room"),
        ("Exam room 2", "exam-room", "room"),
        ("Ultrasound", "ultrasound", "equipment"),
    ):
        body = {"location_id": made.location, "name": name, "kind": kind, "category": category}
        _created(made.api("POST", "/resources", json=body))
    days = ("mon", "tue", "wed", "thu", "fri")
    for key, given, family, hours in (
        ("hopper", "Grace", "Hopper", [("09:00", "12:00"), ("13:00", "17:00")]),
        ("apgar", "Virginia", "Apgar", [("13:00", "18:00")]),
    ):
        intervals = [{"start": s, "end": e, "location_id": made.location} for s, e in hours]
        doctor = {
            "given_name": given,
            "family_name": family,
            "specialty": "Family medicine",
            "time_zone": ZONE,
            "slot_minutes": 15,
            "working_hours": dict.fromkeys(days, intervals),
            "appointment_types": SITED_TYPES,
        }
        made.doctors[key] = _created(made.api("POST", "/doctors", json=doctor))
    for key, patient in PATIENTS.items():
        made.patients[key] = _created(made.api("POST", "/patients", json=patient))
    # more doctors than one page of GET /doctors (100) in the clinic, as after the other tests: the app's
    # lists read every page (the patient's visit types once came from the first 100 doctors only)
    while made.api("GET", "/doctors", params={"limit": 100}).json()["next_token"] is None:
        for i in range(50):
            body = {"given_name": "Other", "family_name": f"Doctor{i}", "specialty": "Elsewhere", "time_zone": ZONE}
            _created(made.api("POST", "/doctors", json=body))
    yield made
    made.api("PATCH", "/settings", json={k: before[k] for k in wanted})


def at(hhmm: str) -> str:
    from tests.days import at as wall

    return wall(WORKDAY, hhmm)


# ---------------------------------------------------------------------- browsers and what they record
@dataclass
class Watch:
    """Every URL a page of the context requested or showed, every console line, CSP reports."""

    urls: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _watch_page(page, watch: Watch) -> None:
    page.on("request", lambda r: watch.urls.append(r.url))
    page.on("framenavigated", lambda f: watch.urls.append(f.url))
    page.on("console", lambda m: watch.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: watch.page_errors.append(str(e)))


@pytest.fixture
def open_app(browser, clinic):
    """open_app(role, record_id) -> (page, watch): a fresh browser context signed in through the local sign-in page."""
    opened = []

    def open_(role: str, record_id: str | None = None):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.set_default_timeout(15_000)
        watch = Watch()
        context.on("page", lambda p: _watch_page(p, watch))
        page = context.new_page()
        page.goto(f"{clinic.url}/app/")
        page.get_by_role("button", name="Sign in").wait_for()
        assert_accessible(page, "the sign-in screen")
        with page.expect_popup() as popup_info:
            page.get_by_role("button", name="Sign in").click()
        popup = popup_info.value
        popup.get_by_role("button", name="Sign in").wait_for()
        assert_accessible(popup, "the local sign-in page")
        popup.get_by_label(
            {"staff": "Front desk (staff)", "doctor": "Doctor", "patient": "Patient"}[role], exact=True
        ).check()
        if record_id:
            popup.locator("#record-id").fill(record_id)
        with popup.expect_event("close"):  # it hands the token to the app's window and closes
            popup.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Sign out").wait_for()
        opened.append((context, page, watch))
        return page, watch

    yield open_
    for context, page, watch in opened:
        assert_no_patient_data(page, context, watch, clinic)
        context.close()


def assert_accessible(page, where: str) -> None:
    """axe-core (the pinned npm package) finds no serious or critical violation on the page as it is now.
    It is evaluated over the DevTools protocol, so the page's CSP (no inline script) still holds for the app."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
    assert violations == [], f"{where}: {violations}"


def patient_data(clinic: Clinic) -> list[str]:
    values = [v for p in [*PATIENTS.values(), REGISTERED] for k, v in p.items() if k != "sex"]
    return [*values, *REASONS]


# Record ids may be in URLs and logs; they are looked past, so that a name such as "Ada" is not "found"
# in an id's hexadecimal digits (…-4ada-…).
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def assert_no_patient_data(page, context, watch: Watch, clinic: Clinic) -> None:
    """No name, birth date or reason in any URL or console line; no token in a URL; browser storage empty."""
    secrets = patient_data(clinic)
    for url in watch.urls:
        for value in secrets:
            assert value.lower() not in UUID.sub("<id>", url).lower(), (value, url)
        assert "eyJ" not in url, f"a token in a URL: {url[:80]}"
    for line in watch.console:
        for value in secrets:
            assert value.lower() not in UUID.sub("<id>", line).lower(), (value, line)
        assert "Content Security Policy" not in line, line
    assert watch.page_errors == []
    if not page.is_closed():
        stored = page.evaluate(
            """async () => ({local: localStorage.length, session: sessionStorage.length, cookie: document.cookie,
                idb: (await indexedDB.databases()).length, caches: (await caches.keys()).length})"""
        )
        assert stored == {"local": 0, "session": 0, "cookie": "", "idb": 0, "caches": 0}, stored
    assert context.cookies() == []


def screenshot(page, name: str, tmp_path: Path) -> None:
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    target = SCREENSHOTS / f"{name}.png"
    if os.environ.get("REFRESH_SCREENSHOTS") == "1" or not target.exists():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    else:
        target = tmp_path / f"{name}.png"
    page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000


# ---------------------------------------------------------------------- the front desk
def show_day(page, clinic: Clinic) -> None:
    page.get_by_label("Location").select_option(clinic.location)
    page.get_by_label("Day", exact=True).fill(WORKDAY.isoformat())
    page.get_by_role("columnheader", name=re.compile("Dr Grace Hopper")).wait_for()
    page.get_by_role("button", name=re.compile(r"^Book 09:00")).first.wait_for()


def settled(page) -> None:
    """The day and its free times loaded (nothing moves under a drag)."""
    page.locator('.desk-main[aria-busy="false"]').wait_for()


def drag(page, name: str, target: str) -> None:
    settled(page)
    appointment_button(page, name).drag_to(page.locator(target))


def appointment_button(page, name: str):
    return page.locator("button.appointment", has_text=name)


def expect_notice(page, text: str) -> None:
    try:
        page.get_by_role("status").filter(has_text=text).wait_for()
    except playwright_api.TimeoutError:
        said = [m.inner_text() for m in page.locator("[role=alert], [role=status]").all()]
        raise AssertionError(f"no notice {text!r}; the page says {said}") from None


def find_patient(scope, prefix: str, birth_date: str, result: str) -> None:
    scope.get_by_label("Family name starts with").fill(prefix)
    scope.get_by_label("Birth date").fill(birth_date)
    scope.get_by_role("button", name="Find patient").click()
    scope.get_by_role("list", name="Patients found").get_by_role(
        "button", name=re.compile(re.escape(result))
    ).first.click()


def booking_form(page):
    return page.get_by_role("region", name=re.compile(r"^Book \d\d:\d\d with"))


def book(page, clinic: Clinic, hhmm: str, patient: dict, visit: str | None = None) -> None:
    free = page.get_by_role("button", name=f"Book {hhmm} with Dr Grace Hopper")
    free.click()
    form = booking_form(page)
    find_patient(
        form, patient["family_name"][:4], patient["birth_date"], f"{patient['family_name']}, {patient['given_name']}"
    )
    if visit:
        form.get_by_label("Visit type").select_option(label=visit)
    form.get_by_role("button", name="Book appointment").click()
    who = f"{patient['given_name']} {patient['family_name']}"
    expect_notice(page, f"Booked {who} with Dr Grace Hopper at {hhmm}.")
    appointment_button(page, who).wait_for()


def day_sheet(clinic: Clinic) -> dict[str, dict]:
    sheet = clinic.api("GET", f"/locations/{clinic.location}/day", params={"date": WORKDAY.isoformat()}).json()
    return {f"{a['patient']['given_name']} {a['patient']['family_name']}": a for a in sheet["appointments"]}


def test_the_front_desk_books_moves_cancels_checks_in_and_marks_a_no_show(open_app, clinic, tmp_path):
    page, _ = open_app("staff")
    show_day(page, clinic)
    assert page.locator(".day-title .zone").inner_text().startswith("Times in America/New_York (")
    assert_accessible(page, "the front desk's empty day")

    # book: the patient found by family-name prefix and birth date (POST /patients/search, nothing in a URL)
    book(page, clinic, "09:00", PATIENTS["ada"], visit="Check-up (30 min, needs exam-room)")
    book(page, clinic, "10:00", PATIENTS["charles"])
    booked = day_sheet(clinic)
    assert booked["Ada Lovelace"]["appointment_type"] == "check-up" and booked["Ada Lovelace"]["resources"]

    # register a patient from the booking form, and book them
    page.get_by_role("button", name="Book 11:00 with Dr Grace Hopper").click()
    form = booking_form(page)
    form.get_by_role("button", name="Register a new patient").click()
    form.get_by_label("Given name").fill(REGISTERED["given_name"])
    form.get_by_label("Family name", exact=True).fill(REGISTERED["family_name"])
    form.get_by_label("Birth date").fill("2999-01-01")  # the server refuses a birth date in the future
    form.get_by_role("button", name="Register", exact=True).click()
    form.locator(".field-invalid .field-error").first.wait_for()  # the server's message, next to its field
    assert form.get_by_label("Birth date").get_attribute("aria-invalid") == "true"
    form.get_by_label("Birth date").fill(REGISTERED["birth_date"])
    form.get_by_role("button", name="Register", exact=True).click()
    form.get_by_text("Patient: Barbara Liskov").wait_for()
    form.get_by_label("Reason (optional)").fill(REASONS[0])
    form.get_by_role("button", name="Book appointment").click()
    expect_notice(page, "Booked Barbara Liskov with Dr Grace Hopper at 11:00.")

    # move by dragging Ada's appointment to a free time: the server decides, and it moves
    hopper = clinic.doctors["hopper"]
    drag(page, "Ada Lovelace", f'td[data-slot="{hopper} 10:30"]')
    expect_notice(page, "Moved Ada Lovelace's appointment to 10:30.")
    assert day_sheet(clinic)["Ada Lovelace"]["start"].endswith("15:30:00Z")  # 10:30 in New York (EST)

    # someone else takes 11:30 behind this page's back: the drag there is refused, put back, and said why
    taken = clinic.api(
        "POST",
        "/appointments",
        json={"patient_id": clinic.patients["katherine"], "doctor_id": hopper, "start": at("11:30")},
    )
    assert taken.status_code == 201, taken.text
    drag(page, "Ada Lovelace", f'td[data-slot="{hopper} 11:30"]')
    page.get_by_role("alert").filter(has_text="Ada Lovelace's appointment stays at 10:30").wait_for()
    assert "no longer free" in page.get_by_role("alert").filter(has_text="stays at").inner_text()
    assert day_sheet(clinic)["Ada Lovelace"]["start"].endswith("15:30:00Z")
    appointment_button(page, "Ada Lovelace").filter(has_text="10:30").wait_for()

    # the keyboard alternative: open Charles's appointment, choose a free time, move
    appointment_button(page, "Charles Babbage").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Move to a free time").select_option(label="09:45")
    page.get_by_role("button", name="Move", exact=True).press("Enter")
    expect_notice(page, "Moved Charles Babbage's appointment to 09:45.")

    # check in: Ada arrives, then her visit is fulfilled; Charles is a no-show
    appointment_button(page, "Ada Lovelace").click()
    page.get_by_role("button", name="Mark arrived").click()
    expect_notice(page, "Ada Lovelace has arrived.")
    appointment_button(page, "Ada Lovelace").filter(has_text="arrived").click()
    page.get_by_role("button", name="Mark fulfilled").click()
    expect_notice(page, "Ada Lovelace's visit is fulfilled.")
    appointment_button(page, "Charles Babbage").click()
    page.get_by_role("button", name="Mark no-show").click()
    expect_notice(page, "Charles Babbage is marked as a no-show.")
    statuses = {name: a["status"] for name, a in day_sheet(clinic).items()}
    assert statuses["Ada Lovelace"] == "fulfilled" and statuses["Charles Babbage"] == "noshow"

    # cancel with a reason: without one, the server's message stands next to the field
    appointment_button(page, "Barbara Liskov").click()
    page.get_by_role("button", name="Cancel appointment").click()
    reason = page.get_by_label("Reason for cancelling")
    page.locator(".field-invalid").filter(has=reason).locator(".field-error").wait_for()
    assert reason.get_attribute("aria-invalid") == "true"
    reason.fill(REASONS[1])
    page.get_by_role("button", name="Cancel appointment").click()
    expect_notice(page, "Cancelled Barbara Liskov's appointment at 11:00.")
    appointment_button(page, "Barbara Liskov").wait_for(state="detached")
    assert "Barbara Liskov" not in day_sheet(clinic)

    # a hold placed at the desk, released from the list of the desk's holds
    page.get_by_role("button", name="Book 13:00 with Dr Grace Hopper").click()
    find_patient(booking_form(page), "Dijk", PATIENTS["edsger"]["birth_date"], "Dijkstra, Edsger")
    booking_form(page).get_by_role("button", name="Hold for the patient").click()
    expect_notice(page, "Held 13:00 for Edsger Dijkstra")
    page.get_by_text("Holds placed at this desk (1)").click()
    page.get_by_role("button", name="Release hold").click()
    expect_notice(page, "Released Edsger Dijkstra's hold.")

    # the waitlist: Edsger waits for Dr Apgar's afternoon
    page.get_by_text("Waitlist", exact=True).click()
    waitlist = page.locator("details", has_text="Waitlist").last
    find_patient(waitlist, "Dijk", PATIENTS["edsger"]["birth_date"], "Dijkstra, Edsger")
    waitlist.get_by_label("Doctor").select_option(label="Dr Virginia Apgar")
    waitlist.get_by_role("button", name="Add to waitlist").click()
    expect_notice(page, "Edsger Dijkstra is on the waitlist.")
    waitlist.get_by_role("list", name="Waitlist entries").get_by_role("listitem").first.wait_for()

    # a doctor's time off: Dr Apgar away 14:00–15:00
    page.get_by_text("Doctors' time off").click()
    time_off = page.locator("details", has_text="Doctors' time off")
    # the form starts on the day shown, also after the desk moves to another day (and back)
    for day in (WORKDAY + timedelta(days=1), WORKDAY):
        page.get_by_label("Day", exact=True).fill(day.isoformat())
        time_off.get_by_text(f"Time off in the week from {day.isoformat()}").wait_for()
        assert time_off.get_by_label(re.compile(r"^Starts \(date")).input_value() == day.isoformat()
    settled(page)
    time_off.get_by_label("Doctor").select_option(label="Dr Virginia Apgar")
    time_off.get_by_label("Starts (time)").fill("14:00")
    time_off.get_by_label("Ends (time)").fill("15:00")
    time_off.get_by_role("button", name="Enter time off").click()
    expect_notice(page, "Time off entered.")
    time_off.get_by_text(re.compile("personal: .* 14:00")).wait_for()
    assert_accessible(page, "the front desk's day with appointments, holds, waitlist and time off")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.locator(".grid-scroll").evaluate("grid => { grid.scrollTop = 0; }")
    screenshot(page, "front-desk", tmp_path)

    # the same day by room: Ada's check-up is in an exam room
    page.get_by_label("By room").check()
    page.get_by_role("columnheader", name=re.compile("Exam room 1")).wait_for()
    room_of_ada = booked["Ada Lovelace"]["resources"][0]["id"]
    rooms = clinic.api("GET", "/resources", params={"location_id": clinic.location}).json()["items"]
    room_name = next(r["name"] for r in rooms if r["id"] == room_of_ada)
    page.get_by_role("columnheader", name=re.compile(room_name)).wait_for()
    appointment_button(page, "Ada Lovelace").wait_for()
    assert_accessible(page, "the front desk's day by room")


# ---------------------------------------------------------------------- patients
def find_earliest(page, clinic: Clinic, visit: str = "Check-up") -> None:
    page.get_by_label("Specialty").select_option("Family medicine")
    page.get_by_label("Location").select_option(clinic.location)
    page.get_by_label("Visit type").select_option(label=visit)
    page.get_by_role("button", name="Find earliest times").click()
    page.get_by_role("list", name="Free times").get_by_role("listitem").first.wait_for()


def test_a_patient_finds_the_earliest_slot_holds_and_confirms_it(open_app, clinic, tmp_path):
    patient = clinic.patients["hedy"]
    page, _ = open_app("patient", patient)
    page.get_by_role("heading", name="Book an appointment").wait_for()
    page.get_by_text("You have no appointments.").wait_for()
    assert_accessible(page, "the patient's page")
    find_earliest(page, clinic)
    # the first offered is the earliest GET /availability answers for the same choice
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC).replace(microsecond=0)
    query = {
        "from": now.isoformat().replace("+00:00", "Z"),
        "to": (now + timedelta(days=14)).isoformat().replace("+00:00", "Z"),
        "specialty": "Family medicine",
        "location_id": clinic.location,
        "appointment_type": "check-up",
        "limit": 1,
    }
    earliest = clinic.api("GET", "/availability", params=query).json()["items"][0]
    first = page.get_by_role("list", name="Free times").get_by_role("listitem").first
    assert "America/New_York" in first.inner_text()  # each time says its zone
    assert_accessible(page, "the patient's earliest slots")
    first.get_by_role("button", name=re.compile("Hold this time")).click()
    expect_notice(page, "This time is held for you until")
    page.get_by_role("heading", name="Your held time").wait_for()
    screenshot(page, "patient", tmp_path)
    page.get_by_role("button", name="Confirm appointment").click()
    expect_notice(page, "Your appointment is booked")
    mine = page.get_by_role("list", name="My appointments").get_by_role("listitem")
    mine.first.wait_for()
    assert "booked" in mine.first.inner_text()
    appointments = clinic.api("GET", f"/patients/{patient}/appointments").json()["items"]
    assert [(a["doctor_id"], a["start"], a["status"]) for a in appointments] == [
        (earliest["doctor_id"], earliest["start"], "booked")
    ]
    assert_accessible(page, "the patient's page with an appointment")
    # and cancels it from their own list
    mine.first.get_by_label("Reason for cancelling").fill(REASONS[1])
    mine.first.get_by_role("button", name="Cancel appointment").click()
    expect_notice(page, "Your appointment is cancelled.")
    page.get_by_role("list", name="My appointments").get_by_text("cancelled").wait_for()


def test_two_browsers_race_for_one_slot_and_exactly_one_holds_it(open_app, clinic):
    pages = [open_app("patient", clinic.patients[who])[0] for who in ("john", "frances")]
    for page in pages:
        find_earliest(page, clinic, visit="Ultrasound scan")
    firsts = [p.get_by_role("list", name="Free times").get_by_role("listitem").first for p in pages]
    assert firsts[0].inner_text() == firsts[1].inner_text()  # both see the same earliest slot
    buttons = [f.get_by_role("button", name=re.compile("Hold this time")) for f in firsts]
    for button in buttons:  # both clicks go out before either answer is read
        button.click(no_wait_after=True)
    outcomes = []
    for page in pages:
        won = page.get_by_role("status").filter(has_text="This time is held for you")
        lost = page.get_by_role("alert").filter(has_text="no longer free")
        won.or_(lost).first.wait_for()
        outcomes.append("won" if won.count() else lost.inner_text())
    assert sorted(o == "won" for o in outcomes) == [False, True], outcomes
    loser = pages[[o == "won" for o in outcomes].index(False)]
    assert "That time is no longer free" in loser.get_by_role("alert").first.inner_text()


# ---------------------------------------------------------------------- doctors
def test_a_doctor_sees_their_day_and_week(open_app, clinic, tmp_path):
    hopper = clinic.doctors["hopper"]
    for hhmm, who in (("15:00", "katherine"), ("15:30", "alan")):
        body = {
            "patient_id": clinic.patients[who],
            "doctor_id": hopper,
            "start": at(hhmm),
            "appointment_type": "check-up",
        }
        assert clinic.api("POST", "/appointments", json=body).status_code == 201
    page, _ = open_app("doctor", hopper)
    page.get_by_role("heading", name="Dr Grace Hopper").wait_for()
    page.get_by_label("Date", exact=True).fill(WORKDAY.isoformat())
    day = page.locator("section.doctor-date")
    day.get_by_text("15:00–15:30 Katherine Johnson").wait_for()
    text = day.inner_text()
    assert "15:00–15:30" in text and "Alan Kay" in text and "Downtown Clinic" in text
    assert page.locator("p.zone").inner_text().startswith("Times in America/New_York (")
    assert_accessible(page, "the doctor's day")
    screenshot(page, "doctor", tmp_path)
    page.get_by_label("Week").check()
    assert page.locator("section.doctor-date").count() == 7
    assert_accessible(page, "the doctor's week")
