"""The dashboard's routes (``/dashboard``), added to the central server by :func:`install`.

    /dashboard                          staff: their organisation; commissioner: every one
    /dashboard/org/ORG?month=YYYY-MM    kiosk health, invoice total and sheet, reach, registers
    /dashboard/org/ORG/invoice.csv|pdf  the backing sheet
    /dashboard/org/ORG/reach.csv|pdf    the reach report
    /dashboard/org/ORG/register?date=   the day's registers (also register.csv)
    /dashboard/org/ORG/outreach         families not seen for six weeks (staff: names)
    /dashboard/all/reach.csv|pdf        reach across every organisation (commissioner)
    /dashboard/login, /dashboard/logout, /dashboard/login/basic

Roles: ``staff`` see their organisation's totals and registers (with names) but no
family or child references and not the invoice's lines, which pair references with the reasons
a family qualifies; ``finance`` (the organisation's person who sends the invoice) also sees
those lines and references (invoice CSV, the PDF's line pages); the commissioner as before.

Staff and finance see their own organisation only (403 otherwise); the commissioner sees all
of them but not family names (registers, their CSV and outreach lists show family and child
references) unless granted them (``kiosk-central user grant NAME names``): names are for the
organisation's own staff. Every page shown and file downloaded, every refusal and every login
goes to the audit log (``central.audit``), with whether names were shown. Logins are throttled
(``central.web.auth.LoginThrottle``: 429 with ``Retry-After``).

Every POST (or other unsafe method) under /dashboard must come from the dashboard's own pages:
one whose ``Origin`` (or, without one, ``Referer``) names another site is refused with 403
before anything is done (:func:`same_origin`), so another site cannot sign a browser in to an
account of its choosing (login CSRF) or out. A request with neither header is not from a
browser form and is let through (cookies are ``SameSite=Lax`` as well).
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time.
import io
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from central import audit
from central.db import CentralDB, CentralError, NotFound, utcnow
from central.health import RETRY_TODO, kiosk_health
from central.health import summary as health_summary
from central.reports.charts import reach_charts
from central.reports.invoice import build_invoice
from central.reports.invoice_totals import invoice_totals
from central.reports.issued import invoice_months
from central.reports.names import read_names
from central.reports.period import Period, PeriodError, check_in_range, local_now, month_label
from central.reports.reach import Reach, build_reach, with_names, write_reach_csv
from central.reports.registers import (
    SessionRegister,
    registers,
    session_days,
    write_registers_csv,
)
from central.web.auth import (
    COOKIE,
    SESSION_SECONDS,
    LoginThrottle,
    Sessions,
    Throttled,
    User,
    basic_credentials,
    sign_in,
    user_row,
)
from central.web.pages import STATIC, chart_views, render
from central.web.pilot import DASHBOARD_AGES, pilot_panel

PREFIX = "/dashboard"
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


class LoginRequired(Exception):
    """No credentials: send the browser to the login form."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class PageError(Exception):
    """A page that cannot be shown: status, title, message (rendered as an error page)."""

    def __init__(
        self, status: int, title: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status, self.title, self.message = status, title, message
        self.headers = dict(headers or {})


def _too_many(exc: Throttled) -> PageError:
    minutes = max(1, -(-exc.retry_after // 60))
    return PageError(
        429,
        "Too many attempts",
        f"Too many wrong passwords for that name or from this computer. Try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}.",
        {"Retry-After": str(exc.retry_after)},
    )


def _address(request: Request) -> str:
    """The client's address for the login limits: the connection's, unless it came through a
    proxy trusted with ``serve --forwarded-allow-ips`` (uvicorn then puts the address the proxy
    saw here, never one a client wrote in ``X-Forwarded-For`` itself)."""
    return request.client.host if request.client else "unknown"


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """``url``'s origin (scheme, host, port), or None if it has none (``null``, garbage)."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def _shown(origin: tuple[str, str, int] | None, fallback: str) -> str:
    if origin is None:
        return repr(fallback[:100])
    scheme, host, port = origin
    return f"{scheme}://{host}" + ("" if _DEFAULT_PORTS[scheme] == port else f":{port}")


def same_origin(request: Request) -> None:
    """Refuse (403) an unsafe request sent from a page of another site (CSRF, login CSRF)."""
    if request.method in _SAFE_METHODS:
        return
    sent = request.headers.get("origin")
    header = "Origin"
    if sent is None:
        sent, header = request.headers.get("referer"), "Referer"
    if sent is None:
        return  # not sent by a browser's form: nothing another site could have made it do
    ours = _origin(str(request.base_url))
    theirs = _origin(sent)
    if theirs is None or theirs != ours:
        raise PageError(
            403,
            "Sent from another site",
            f"This form was sent from {_shown(theirs, sent)} ({header}), not from this server "
            f"({_shown(ours, str(request.base_url))}), so it was refused: open the dashboard "
            "at its own address and try again. (Behind a reverse proxy, start the server with "
            "--forwarded-allow-ips and have the proxy pass on Host and X-Forwarded-Proto.)",
        )


def without_refs(regs: Sequence[SessionRegister]) -> list[SessionRegister]:
    """The registers with names only: no family or child references (for staff)."""
    return [
        replace(
            reg,
            lines=tuple(replace(line, family_id="", refs_shown=False) for line in reg.lines),
        )
        for reg in regs
    ]


def for_user(regs: Sequence[SessionRegister], user: User) -> list[SessionRegister]:
    """What ``user`` may see of the registers: names or references, or both."""
    out = list(regs)
    if not user.sees_names:
        out = without_names(out)
    if not user.sees_refs:
        out = without_refs(out)
    return out


def without_names(regs: Sequence[SessionRegister]) -> list[SessionRegister]:
    """The registers with family and child references where the names were."""
    return [
        replace(
            reg,
            lines=tuple(
                replace(line, greeting_name=line.family_id, children=line.child_ids)
                for line in reg.lines
            ),
        )
        for reg in regs
    ]


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)


def _download(data: bytes | str, media_type: str, filename: str) -> Response:
    body = data.encode("utf-8") if isinstance(data, str) else data
    headers = dict(_SECURITY_HEADERS)
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body, media_type=media_type, headers=headers)


def _safe_next(value: str | None) -> str:
    """Only our own pages (no open redirect to another site)."""
    if value and value.startswith(PREFIX) and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX


def _period(month: str | None) -> Period:
    try:
        return Period.month(month) if month else Period.month(f"{local_now():%Y-%m}")
    except PeriodError as exc:
        raise PageError(400, "That month cannot be read", str(exc)) from None


def _month_nav(period: Period) -> dict[str, str]:
    first = period.start
    prev = f"{first.year - 1}-12" if first.month == 1 else f"{first.year}-{first.month - 1:02d}"
    nxt = f"{first.year + 1}-01" if first.month == 12 else f"{first.year}-{first.month + 1:02d}"
    return {
        "month": f"{first:%Y-%m}",
        "prev_month": prev,
        "prev_label": month_label(prev),
        "next_month": nxt,
        "next_label": month_label(nxt),
    }


def dashboard_router(
    db: CentralDB, sessions: Sessions, throttle: LoginThrottle | None = None
) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False, dependencies=[Depends(same_origin)])
    throttle = throttle or LoginThrottle(db)

    def log(user: User, action: str, subject: str, **detail: object) -> None:
        """Audit what ``user`` saw or took, and whether family names were in it."""
        audit.record(db, user.name, action, subject, {**detail, "via": "web"})

    def current_user(request: Request) -> User:
        creds = basic_credentials(request.headers.get("authorization"))
        if creds is not None:
            try:
                user = sign_in(db, throttle, *creds, _address(request), "basic", False)
            except Throttled as exc:
                raise _too_many(exc) from None
            if user is None:
                raise PageError(
                    401, "Not signed in", "That name and password are not right. Try again."
                )
            return user
        cookie = request.cookies.get(COOKIE)
        user = sessions.check(cookie) if cookie else None
        if user is None:
            raise LoginRequired(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
        return user

    UserDep = Annotated[User, Depends(current_user)]
    Month = Annotated[str | None, Query(description="YYYY-MM")]
    FromMonth = Annotated[str | None, Query(alias="from", description="YYYY-MM")]
    Baseline = Annotated[str | None, Query(description="YYYY-MM")]

    def pilot(org_id: str | None, period: Period, start: str | None, baseline: str | None) -> Any:
        try:
            return guarded(lambda: pilot_panel(db, org_id, period, start, baseline))
        except PeriodError as exc:
            raise PageError(400, "That month cannot be read", str(exc)) from None

    def allowed(user: User, org_id: str) -> None:
        if not user.may_see(org_id):
            log(user, "access.refused", org_id, reason="another organisation")
            raise PageError(
                403,
                "Not your organisation",
                f"You are signed in for {user.org_id}; the reports of {org_id} are for its own "
                "staff and the commissioner.",
            )

    def guarded(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except NotFound as exc:
            raise PageError(404, "Not found", str(exc)) from None
        except CentralError as exc:
            raise PageError(400, "That cannot be shown", str(exc)) from None

    # -- signing in ------------------------------------------------------------------------------
    @router.get("/login")
    def login_form(next: str | None = None) -> HTMLResponse:
        return _page(render("login.html", next=_safe_next(next), user=None))

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = urllib.parse.parse_qs((await request.body()).decode("utf-8", "replace"))
        name = (form.get("name") or [""])[0].strip()
        password = (form.get("password") or [""])[0]
        target = _safe_next((form.get("next") or [PREFIX])[0])
        try:
            user = await run_in_threadpool(
                sign_in, db, throttle, name, password, _address(request), "form"
            )
        except Throttled as exc:
            refusal = _too_many(exc)
            html = render("login.html", next=target, name=name, user=None, error=refusal.message)
            response = _page(html, 429)
            response.headers.update(refusal.headers)
            return response
        if user is None:
            html = render(
                "login.html",
                next=target,
                name=name,
                user=None,
                error="That name and password are not right. Check them and try again.",
            )
            return _page(html, 401)
        return _signed_in(request, user, target)

    @router.get("/login/basic")
    async def login_basic(request: Request, next: str | None = None) -> Response:
        """Sign in with the browser's own password prompt (HTTP Basic), then use the cookie."""
        creds = basic_credentials(request.headers.get("authorization"))
        try:
            user = (
                await run_in_threadpool(
                    sign_in, db, throttle, *creds, _address(request), "basic-login"
                )
                if creds
                else None
            )
        except Throttled as exc:
            raise _too_many(exc) from None
        if user is None:
            return Response(
                "Sign in with your reporting name and password.",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="Doorstep reports", charset="UTF-8"'},
            )
        return _signed_in(request, user, _safe_next(next))

    def _signed_in(request: Request, user: User, target: str) -> Response:
        row = user_row(db, user.name)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            sessions.issue(user.name, row.password_hash),  # type: ignore[union-attr]
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path=PREFIX,
        )
        return response

    @router.post("/logout")
    def logout(request: Request) -> Response:
        cookie = request.cookies.get(COOKIE)
        user = sessions.check(cookie) if cookie else None
        if user is not None:
            log(user, "logout", user.name)
        if cookie:
            sessions.end(cookie)
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    # -- pages -----------------------------------------------------------------------------------
    @router.get("")
    def home(
        user: UserDep, month: Month = None, start: FromMonth = None, baseline: Baseline = None
    ) -> Response:
        period = _period(month)
        if not user.is_commissioner:
            return RedirectResponse(f"{PREFIX}/org/{user.org_id}?month={period.start:%Y-%m}", 303)
        totals = invoice_totals(db, period)
        reach = named_reach(db, build_reach(db, None, period, with_names=False))
        panel = pilot(None, period, start, baseline)
        log(user, "report.view", "all", page="overview", month=f"{period.start:%Y-%m}", names=False)
        return _page(
            render(
                "overview.html",
                user=user,
                period=period,
                totals=totals,
                county_count=sum(t.count for t in totals),
                county_review=sum(t.review for t in totals),
                county_total=sum((t.total for t in totals), Decimal(0)),
                reach=reach,
                charts=chart_views(reach_charts(reach)),
                show_names=False,
                pilot=panel,
                ages=DASHBOARD_AGES.label,
                **_month_nav(period),
            )
        )

    @router.get("/org/{org_id}")
    def organisation(
        org_id: str,
        user: UserDep,
        month: Month = None,
        start: FromMonth = None,
        baseline: Baseline = None,
    ) -> HTMLResponse:
        allowed(user, org_id)
        period = _period(month)
        sheet = guarded(lambda: build_invoice(db, org_id, period))
        panel = pilot(org_id, period, start, baseline)
        reach = reach_for(user, build_reach(db, org_id, period, with_names=user.sees_names))
        kiosks = kiosk_health(db, org_id, utcnow())
        months = invoice_months(db, org_id, until=max(f"{period.start:%Y-%m}", _this_month()))
        log(
            user,
            "report.view",
            org_id,
            page="organisation",
            month=f"{period.start:%Y-%m}",
            names=user.sees_names,
        )
        return _page(
            render(
                "org.html",
                user=user,
                org_id=org_id,
                org_name=sheet.org_label,
                period=period,
                sheet=sheet,
                invoices=months,
                sees_lines=user.sees_lines,
                rates=sheet.rates_in_force,
                notes=sheet.notes(),
                reach=reach,
                charts=chart_views(reach_charts(reach)),
                days=session_days(db, org_id, period),
                show_names=user.sees_names,
                kiosks=kiosks,
                kiosks_summary=health_summary(kiosks),
                retry_todo=RETRY_TODO,
                pilot=panel,
                ages=DASHBOARD_AGES.label,
                **_month_nav(period),
            )
        )

    @router.get("/org/{org_id}/invoice.{fmt}")
    def invoice_file(org_id: str, fmt: str, user: UserDep, month: Month = None) -> Response:
        allowed(user, org_id)
        period = _period(month)
        sheet = guarded(lambda: build_invoice(db, org_id, period))
        name = f"invoice-{sheet.issue.number if sheet.issue else org_id + '-' + period.slug}"
        if fmt == "csv" and not user.sees_lines:
            log(user, "access.refused", org_id, reason="invoice lines", report="invoice")
            raise PageError(
                403,
                "For the person who sends the invoice",
                "The lines of the backing sheet say which families qualify and why, so they are "
                "for the organisation's finance role and the commissioner. The PDF has the "
                "totals; ask an administrator for the finance role if you send the invoice.",
            )
        if fmt in ("csv", "pdf"):
            # The backing sheet holds family and child references only, never names.
            log(
                user,
                "report.download",
                org_id,
                report="invoice",
                format=fmt,
                month=f"{period.start:%Y-%m}",
                names=False,
                lines=user.sees_lines,
            )
        if fmt == "csv":
            return _download(sheet.csv_text(), "text/csv; charset=utf-8", f"{name}.csv")
        if fmt == "pdf":
            from central.reports.pdf import invoice_pdf

            pdf = invoice_pdf(sheet, with_lines=user.sees_lines)
            return _download(pdf, "application/pdf", f"{name}.pdf")
        raise PageError(404, "Not found", "The backing sheet comes as .csv or .pdf.")

    def reach_file(org_id: str | None, fmt: str, user: UserDep, month: str | None) -> Response:
        period = _period(month)
        reach = guarded(lambda: build_reach(db, org_id, period, with_names=user.sees_names))
        reach = reach_for(user, reach)
        name = f"reach-{org_id or 'all'}-{period.slug}"
        if fmt in ("csv", "pdf"):
            names = user.sees_names and org_id is not None
            log(
                user,
                "report.download",
                org_id or "all",
                report="reach",
                format=fmt,
                month=f"{period.start:%Y-%m}",
                names=names,
            )
        if fmt == "csv":
            buf = io.StringIO()
            write_reach_csv(reach, buf)
            return _download(buf.getvalue(), "text/csv; charset=utf-8", f"{name}.csv")
        if fmt == "pdf":
            from central.reports.pdf import reach_pdf

            pdf = reach_pdf(reach, reach_charts(reach))
            return _download(pdf, "application/pdf", f"{name}.pdf")
        raise PageError(404, "Not found", "The reach report comes as .csv or .pdf.")

    @router.get("/org/{org_id}/reach.{fmt}")
    def org_reach_file(org_id: str, fmt: str, user: UserDep, month: Month = None) -> Response:
        allowed(user, org_id)
        return reach_file(org_id, fmt, user, month)

    @router.get("/all/reach.{fmt}")
    def all_reach_file(fmt: str, user: UserDep, month: Month = None) -> Response:
        if not user.is_commissioner:
            log(user, "access.refused", "all", reason="county reach is for the commissioner")
            raise PageError(
                403,
                "For the commissioner",
                "Reach across every organisation is for the commissioner.",
            )
        return reach_file(None, fmt, user, month)

    def span(start: str | None, end: str | None) -> Period:
        try:
            if start and end:
                return Period.between_months(start, end)
            return _period(end)
        except PeriodError as exc:
            raise PageError(400, "Those months cannot be read", str(exc)) from None

    def pilot_file(
        org_id: str | None,
        report: str,
        fmt: str,
        user: User,
        start: str | None,
        end: str | None,
        baseline: str | None,
    ) -> Response:
        """The trend or reach against the population, as CSV or PDF (no names in either)."""
        if fmt not in ("csv", "pdf"):
            raise PageError(404, "Not found", "This report comes as .csv or .pdf.")
        period = span(start, end)
        log(
            user,
            "report.download",
            org_id or "all",
            report=report,
            format=fmt,
            start=f"{period.start:%Y-%m}",
            end=f"{period.end:%Y-%m}",
            names=False,
        )
        name = f"{report}-{org_id or 'all'}-{period.slug}"
        if report == "trend":
            from central.reports.trend import build_trend, write_trend_csv

            trend = guarded(lambda: build_trend(db, org_id, period, baseline))
            if fmt == "pdf":
                from central.reports.area_pdf import trend_pdf

                return _download(trend_pdf(trend), "application/pdf", f"{name}.pdf")
            buf = io.StringIO()
            write_trend_csv(trend, buf)
            return _download(buf.getvalue(), "text/csv; charset=utf-8", f"{name}.csv")
        from central.reports.area_reach import build_area_reach, write_area_reach_csv

        area = guarded(lambda: build_area_reach(db, org_id, period, DASHBOARD_AGES, "lsoa"))
        if fmt == "pdf":
            from central.reports.area_charts import area_pictures
            from central.reports.area_pdf import area_reach_pdf

            pictures = area_pictures(db, area)
            pdf = area_reach_pdf(area, pictures.charts, pictures.no_map)
            return _download(pdf, "application/pdf", f"{name}.pdf")
        buf = io.StringIO()
        write_area_reach_csv(area, buf)
        return _download(buf.getvalue(), "text/csv; charset=utf-8", f"{name}.csv")

    ToMonth = Annotated[str | None, Query(alias="to", description="YYYY-MM")]

    def add_pilot_routes(report: str) -> None:
        @router.get(f"/org/{{org_id}}/{report}.{{fmt}}", name=f"org_{report}")
        def org_file(
            org_id: str,
            fmt: str,
            user: UserDep,
            start: FromMonth = None,
            end: ToMonth = None,
            baseline: Baseline = None,
        ) -> Response:
            allowed(user, org_id)
            return pilot_file(org_id, report, fmt, user, start, end, baseline)

        @router.get(f"/all/{report}.{{fmt}}", name=f"all_{report}")
        def all_file(
            fmt: str,
            user: UserDep,
            start: FromMonth = None,
            end: ToMonth = None,
            baseline: Baseline = None,
        ) -> Response:
            if not user.is_commissioner:
                log(user, "access.refused", "all", reason="county reports are for the commissioner")
                raise PageError(
                    403, "For the commissioner", "County-wide reports are for the commissioner."
                )
            return pilot_file(None, report, fmt, user, start, end, baseline)

    for report in ("trend", "area-reach"):
        add_pilot_routes(report)

    def _day(value: str | None) -> date:
        try:
            day = date.fromisoformat(value or "")
        except ValueError:
            raise PageError(400, "Which day?", "Give the day as ?date=YYYY-MM-DD.") from None
        try:
            return check_in_range(day, "date", value)
        except PeriodError as exc:
            raise PageError(400, "Which day?", str(exc)) from None

    @router.get("/org/{org_id}/register")
    def register_page(
        org_id: str, user: UserDep, date: str | None = None, site: str | None = None
    ) -> HTMLResponse:
        allowed(user, org_id)
        day = _day(date)
        regs = for_user(registers(db, org_id, day, site), user)
        log(
            user,
            "report.view",
            org_id,
            page="register",
            date=day.isoformat(),
            names=user.sees_names,
        )
        return _page(
            render(
                "register.html",
                user=user,
                org_id=org_id,
                org_name=read_names(db, org_id).org(org_id),
                day=day,
                month=f"{day:%Y-%m}",
                registers=regs,
                show_names=user.sees_names,
                show_refs=user.sees_refs,
            )
        )

    @router.get("/org/{org_id}/register.csv")
    def register_csv(
        org_id: str, user: UserDep, date: str | None = None, site: str | None = None
    ) -> Response:
        allowed(user, org_id)
        day = _day(date)
        regs = for_user(registers(db, org_id, day, site), user)
        log(
            user,
            "report.download",
            org_id,
            report="register",
            format="csv",
            date=day.isoformat(),
            names=user.sees_names,
        )
        buf = io.StringIO()
        write_registers_csv(regs, buf)
        return _download(buf.getvalue(), "text/csv; charset=utf-8", f"register-{org_id}-{day}.csv")

    @router.get("/org/{org_id}/outreach")
    def outreach(org_id: str, user: UserDep, month: Month = None) -> HTMLResponse:
        allowed(user, org_id)
        if not user.sees_names:
            log(user, "access.refused", org_id, reason="names not granted", page="outreach")
            raise PageError(
                403,
                "For the organisation's staff",
                "The names of families not seen for six weeks are for the organisation's own "
                "staff; the dashboard shows you their number.",
            )
        period = _period(month)
        reach = reach_for(user, guarded(lambda: build_reach(db, org_id, period)))
        log(user, "report.view", org_id, page="outreach", month=f"{period.start:%Y-%m}", names=True)
        return _page(
            render(
                "outreach.html",
                user=user,
                org_id=org_id,
                org_name=read_names(db, org_id).org(org_id),
                show_refs=user.sees_refs,
                reach=reach,
                month=f"{period.start:%Y-%m}",
            )
        )

    def named_reach(db: CentralDB, reach: Reach) -> Reach:
        return with_names(reach, read_names(db, reach.org_id))

    def reach_for(user: User, reach: Reach) -> Reach:
        """Reach with display names, and without family references for staff."""
        reach = named_reach(db, reach)
        if not user.sees_refs:
            reach = replace(reach, not_seen=[replace(f, family_id="") for f in reach.not_seen])
        return reach

    return router


def _this_month() -> str:
    return f"{local_now():%Y-%m}"


def install(
    app: FastAPI,
    db: CentralDB,
    sessions: Sessions | None = None,
    throttle: LoginThrottle | None = None,
) -> None:
    """Add the dashboard (pages, static files, error pages) to the server's ``app``.

    The login throttle and the sessions are kept as ``app.state.login_throttle`` and
    ``app.state.sessions`` (tests move their clocks).
    """
    throttle = throttle or LoginThrottle(db)
    sessions = sessions or Sessions(db)
    app.state.login_throttle = throttle
    app.state.sessions = sessions
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.include_router(dashboard_router(db, sessions, throttle))

    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = f"{PREFIX}/login?" + urllib.parse.urlencode({"next": exc.next_url})
        return RedirectResponse(target, status_code=303)

    async def error_page(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        html = render("error.html", title=exc.title, message=exc.message, user=None)
        response = _page(html, exc.status)
        response.headers.update(exc.headers)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="Doorstep reports"'
        return response

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(PageError, error_page)
