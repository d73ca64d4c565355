"""The console's rules without a browser: roles, the route table's guards, tokens, TOTP, lockout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from starlette.routing import Route

from assistant.redact import redact
from web import security
from web.permissions import Area, Role, areas, may
from web.routes import routes

OPEN_PATHS = {"/login", "/login/code", "/login/enrol"}
# for machines: the load balancer's checks and Telegram's pushes (its own secret header)
OPEN_PATHS |= {"/healthz", "/readyz", "/telegram/webhook"}


@pytest.mark.parametrize("area", list(Area))
def test_an_admin_may_open_every_area(area: Area) -> None:
    assert may("admin", area)


def test_an_agent_works_on_tickets_and_customers_only() -> None:
    assert areas("agent") == {Area.TICKETS, Area.CUSTOMERS, Area.OPERATIONS}
    for area in (Area.STAFF, Area.SNIPPETS, Area.AUDIT):
        assert not may(Role.AGENT, area)


def test_an_unknown_role_may_open_nothing() -> None:
    assert areas("") == frozenset() and areas("root") == frozenset()


def test_every_route_but_the_login_steps_is_guarded() -> None:
    unguarded = [
        route.path
        for route in routes()
        if isinstance(route, Route)
        and route.path not in OPEN_PATHS
        and not hasattr(route.endpoint, "guarded_area")
    ]
    assert unguarded == []


def test_admin_routes_need_an_admin_area() -> None:
    for route in routes():
        if isinstance(route, Route) and route.path.startswith("/admin"):
            assert not may("agent", route.endpoint.guarded_area), route.path  # type: ignore[attr-defined]


def test_a_csrf_value_belongs_to_its_session_only() -> None:
    one, two = security.new_token(), security.new_token()
    assert security.csrf_matches(one, security.csrf_value(one))
    assert not security.csrf_matches(two, security.csrf_value(one))
    assert not security.csrf_matches(one, "") and not security.csrf_matches(None, "x")
    assert security.token_hash(one) != one and len(security.token_hash(one)) == 64


def test_a_totp_code_matches_within_one_step_and_never_twice() -> None:
    secret = security.new_totp_secret()
    now = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)
    step = security.totp_step(now)
    code = pyotp.TOTP(secret).at(now)
    assert security.matching_step(secret, code, now, last_step=0) == step
    assert security.matching_step(secret, f"{code[:3]} {code[3:]}", now, last_step=0) == step
    assert security.matching_step(secret, code, now, last_step=step) is None  # replay
    late = now + timedelta(seconds=30)
    assert security.matching_step(secret, code, late, last_step=0) == step  # one step of drift
    assert security.matching_step(secret, code, now + timedelta(seconds=90), last_step=0) is None
    assert security.matching_step(secret, "12345", now, last_step=0) is None
    assert security.matching_step(secret, "１２３４５６", now, last_step=0) is None


def test_five_failures_lock_and_sessions_expire_when_idle_or_old() -> None:
    assert not security.locked_after(security.MAX_FAILURES - 1)
    assert security.locked_after(security.MAX_FAILURES)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert not security.session_expired(start, start, start + timedelta(minutes=30), 30)
    assert security.session_expired(start, start, start + timedelta(minutes=31), 30)
    late = start + timedelta(hours=security.SESSION_MAX_HOURS, minutes=1)
    assert security.session_expired(start, late - timedelta(minutes=1), late, 30)


def test_the_log_filter_hides_the_console_cookies_and_totp_secrets() -> None:
    line = "Cookie: ac_staff=abc-DEF_1; ac_login=xyz csrf=00ff otpauth://totp/a?secret=JBSWY3DP"
    redacted = redact(line)
    for value in ("abc-DEF_1", "xyz", "00ff", "JBSWY3DP"):
        assert value not in redacted
