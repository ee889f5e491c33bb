"""The dashboard's routes (``/dashboard``), added to the central server by :func:`install`.

    /dashboard                          staff: their organisation; commissioner: every one
    /dashboard/org/ORG?month=YYYY-MM    invoice total and sheet, reach charts, registers
    /dashboard/org/ORG/invoice.csv|pdf  the backing sheet
    /dashboard/org/ORG/reach.csv|pdf    the reach report
    /dashboard/org/ORG/register?date=   the day's registers (also register.csv)
    /dashboard/org/ORG/outreach         families not seen for six weeks (staff: names)
    /dashboard/all/reach.csv|pdf        reach across every organisation (commissioner)
    /dashboard/login, /dashboard/logout, /dashboard/login/basic

Staff see their own organisation only (403 otherwise); the commissioner sees all of them but
not family names (registers and outreach lists show references): names are for the
organisation's own staff.
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time.
import io
import urllib.parse
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from central.db import CentralDB, CentralError, NotFound
from central.reports.charts import reach_charts
from central.reports.invoice import build_invoice, invoice_totals
from central.reports.period import Period, PeriodError, local_now, month_label
from central.reports.reach import build_reach, write_reach_csv
from central.reports.registers import registers, session_days, write_registers_csv
from central.web.auth import (
    COOKIE,
    SESSION_SECONDS,
    Sessions,
    User,
    basic_credentials,
    check_password,
    user_row,
)
from central.web.pages import STATIC, chart_views, render

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

    def __init__(self, status: int, title: str, message: str) -> None:
        self.status, self.title, self.message = status, title, message


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


def dashboard_router(db: CentralDB, sessions: Sessions) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    def current_user(request: Request) -> User:
        creds = basic_credentials(request.headers.get("authorization"))
        if creds is not None:
            user = check_password(db, *creds)
            if user is None:
                raise PageError(
                    401, "Not signed in", "That name and password are not right. Try again."
                )
            return user
        cookie = request.cookies.get(COOKIE)
        user = sessions.check(db, cookie) if cookie else None
        if user is None:
            raise LoginRequired(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
        return user

    UserDep = Annotated[User, Depends(current_user)]
    Month = Annotated[str | None, Query(description="YYYY-MM")]

    def allowed(user: User, org_id: str) -> None:
        if not user.may_see(org_id):
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
        user = await run_in_threadpool(check_password, db, name, password) if name else None
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
        user = await run_in_threadpool(check_password, db, *creds) if creds else None
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
    def logout() -> Response:
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    # -- pages -----------------------------------------------------------------------------------
    @router.get("")
    def home(user: UserDep, month: Month = None) -> Response:
        period = _period(month)
        if not user.is_commissioner:
            return RedirectResponse(f"{PREFIX}/org/{user.org_id}?month={period.start:%Y-%m}", 303)
        totals = invoice_totals(db, period)
        reach = build_reach(db, None, period, with_names=False)
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
                **_month_nav(period),
            )
        )

    @router.get("/org/{org_id}")
    def organisation(org_id: str, user: UserDep, month: Month = None) -> HTMLResponse:
        allowed(user, org_id)
        period = _period(month)
        sheet = guarded(lambda: build_invoice(db, org_id, period))
        reach = build_reach(db, org_id, period, with_names=not user.is_commissioner)
        return _page(
            render(
                "org.html",
                user=user,
                org_id=org_id,
                period=period,
                sheet=sheet,
                rates=sheet.rates_in_force,
                notes=sheet.notes(),
                reach=reach,
                charts=chart_views(reach_charts(reach)),
                days=session_days(db, org_id, period),
                show_names=not user.is_commissioner,
                **_month_nav(period),
            )
        )

    @router.get("/org/{org_id}/invoice.{fmt}")
    def invoice_file(org_id: str, fmt: str, user: UserDep, month: Month = None) -> Response:
        allowed(user, org_id)
        period = _period(month)
        sheet = guarded(lambda: build_invoice(db, org_id, period))
        name = f"invoice-{org_id}-{period.slug}"
        if fmt == "csv":
            return _download(sheet.csv_text(), "text/csv; charset=utf-8", f"{name}.csv")
        if fmt == "pdf":
            from central.reports.pdf import invoice_pdf

            return _download(invoice_pdf(sheet), "application/pdf", f"{name}.pdf")
        raise PageError(404, "Not found", "The backing sheet comes as .csv or .pdf.")

    def reach_file(org_id: str | None, fmt: str, user: UserDep, month: str | None) -> Response:
        period = _period(month)
        reach = guarded(
            lambda: build_reach(db, org_id, period, with_names=not user.is_commissioner)
        )
        name = f"reach-{org_id or 'all'}-{period.slug}"
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
            raise PageError(
                403,
                "For the commissioner",
                "Reach across every organisation is for the commissioner.",
            )
        return reach_file(None, fmt, user, month)

    def _day(value: str | None) -> date:
        try:
            return date.fromisoformat(value or "")
        except ValueError:
            raise PageError(400, "Which day?", "Give the day as ?date=YYYY-MM-DD.") from None

    @router.get("/org/{org_id}/register")
    def register_page(
        org_id: str, user: UserDep, date: str | None = None, site: str | None = None
    ) -> HTMLResponse:
        allowed(user, org_id)
        day = _day(date)
        regs = registers(db, org_id, day, site)
        return _page(
            render(
                "register.html",
                user=user,
                org_id=org_id,
                day=day,
                month=f"{day:%Y-%m}",
                registers=regs,
                show_names=not user.is_commissioner,
            )
        )

    @router.get("/org/{org_id}/register.csv")
    def register_csv(
        org_id: str, user: UserDep, date: str | None = None, site: str | None = None
    ) -> Response:
        allowed(user, org_id)
        day = _day(date)
        buf = io.StringIO()
        write_registers_csv(registers(db, org_id, day, site), buf)
        return _download(buf.getvalue(), "text/csv; charset=utf-8", f"register-{org_id}-{day}.csv")

    @router.get("/org/{org_id}/outreach")
    def outreach(org_id: str, user: UserDep, month: Month = None) -> HTMLResponse:
        allowed(user, org_id)
        if user.is_commissioner:
            raise PageError(
                403,
                "For the organisation's staff",
                "The names of families not seen for six weeks are for the organisation's own "
                "staff; the dashboard shows you their number.",
            )
        period = _period(month)
        reach = guarded(lambda: build_reach(db, org_id, period))
        return _page(
            render(
                "outreach.html",
                user=user,
                org_id=org_id,
                reach=reach,
                month=f"{period.start:%Y-%m}",
            )
        )

    return router


def install(app: FastAPI, db: CentralDB, sessions: Sessions | None = None) -> None:
    """Add the dashboard (pages, static files, error pages) to the server's ``app``."""
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.include_router(dashboard_router(db, sessions or Sessions()))

    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = f"{PREFIX}/login?" + urllib.parse.urlencode({"next": exc.next_url})
        return RedirectResponse(target, status_code=303)

    async def error_page(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        html = render("error.html", title=exc.title, message=exc.message, user=None)
        response = _page(html, exc.status)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="Doorstep reports"'
        return response

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(PageError, error_page)
