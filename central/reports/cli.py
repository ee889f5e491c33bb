"""The report commands of ``kiosk-central`` (registered by :mod:`central.cli`).

    kiosk-central org rate lichfield £3.00 --from 2016-04-01       # per qualifying child-session
    kiosk-central org rates lichfield
    kiosk-central report invoice --org lichfield --month 2016-04 [--format csv|pdf] [--out F]
    kiosk-central invoice issue --org lichfield --month 2016-04    # freeze it: a number
    kiosk-central invoice list [--org lichfield]                   # draft, issued, void
    kiosk-central invoice void lichfield-2016-04-1 --reason "wrong rate"
    kiosk-central report reach --org lichfield --month 2016-04 [--format text|csv|pdf|html]
    kiosk-central report reach --month 2016-04                     # every organisation
    kiosk-central report reach --county --from 2016-04 --to 2017-03 --by lsoa --ages 0-4
    kiosk-central report trend --org lichfield --from 2016-04 --to 2016-09 --baseline 2016-04
    kiosk-central report outreach --org lichfield --from 2016-04 --to 2017-03 [--format csv]
    kiosk-central report register --org lichfield --date 2016-04-18 [--site library]
    kiosk-central review list --org lichfield --month 2016-04       # clock not synchronised
    kiosk-central review count ATTENDANCE_ID --by "Jo Smith" [--note "..."]
    kiosk-central import register paper.csv --org lichfield --site library --date 2016-04-18 \\
        --session-name "Stay and Play" --start 09:30 --end 11:30 [--dry-run]

Reports go to stdout (or ``--out FILE``); what happened goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from central.db import CentralDB, CentralError
from central.reports.period import Period, parse_date
from central.reports.rates import DEFAULT_CONTRACT


def add_org_commands(org: Any) -> None:
    """``org rate`` and ``org rates`` under the existing ``org`` command."""
    rate = org.add_parser(
        "rate", help="set the rate per qualifying child-session from a date (e.g. 3.00)"
    )
    rate.add_argument("org")
    rate.add_argument("amount", help="pounds, e.g. 3.00 or £3.00")
    rate.add_argument("--from", dest="effective_from", required=True, metavar="YYYY-MM-DD")
    rate.add_argument("--contract", default=DEFAULT_CONTRACT, help=f"default {DEFAULT_CONTRACT}")
    rate.add_argument(
        "--replace", action="store_true", help="change the amount already set for that date"
    )
    org.add_parser("rates", help="the organisation's rates").add_argument("org")


def _period_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--month", metavar="YYYY-MM", help="a calendar month")
    p.add_argument(
        "--from", dest="start", metavar="YYYY-MM[-DD]", help="or a range: first month or day"
    )
    p.add_argument("--to", dest="end", metavar="YYYY-MM[-DD]", help="last month or day (included)")


def _scope_args(p: argparse.ArgumentParser) -> None:
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--org", help="one organisation (default: every organisation)")
    scope.add_argument(
        "--county", action="store_true", help="every organisation (the default, said out loud)"
    )


def add_commands(sub: Any) -> None:
    """``report``, ``invoice``, ``review`` and ``import`` commands."""
    inv = sub.add_parser(
        "invoice", help="issue a month's invoice (it never changes after), list, void"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    issue = inv.add_parser(
        "issue", help="freeze a month's backing sheet under an invoice number (printed)"
    )
    issue.add_argument("--org", required=True)
    issue.add_argument("--month", required=True, metavar="YYYY-MM")
    issue.add_argument("--contract", default=DEFAULT_CONTRACT)
    listing = inv.add_parser("list", help="each month: draft, issued (its number) or void")
    listing.add_argument("--org", help="default: every organisation")
    listing.add_argument("--contract", default=DEFAULT_CONTRACT)
    void = inv.add_parser("void", help="void an issued invoice (its month is a draft again)")
    void.add_argument("number")
    void.add_argument("--reason", required=True, help="why, for the audit log and the sheet")

    report = sub.add_parser(
        "report", help="invoice backing sheet, reach, registers"
    ).add_subparsers(dest="action", required=True, metavar="REPORT")
    invoice = report.add_parser("invoice", help="the invoice backing sheet (CSV or PDF)")
    invoice.add_argument("--org", required=True)
    _period_args(invoice)
    invoice.add_argument("--contract", default=DEFAULT_CONTRACT)
    invoice.add_argument("--format", choices=("csv", "pdf"), default="csv")
    invoice.add_argument("--out", metavar="FILE", help="default: stdout")

    reach = report.add_parser(
        "reach",
        help="reach and engagement; with --by, reach against the population (LSOA, ward, district)",
    )
    _scope_args(reach)
    _period_args(reach)
    reach.add_argument(
        "--by",
        choices=("lsoa", "ward", "district"),
        help="reach against the population by area (needs 'population import' and the "
        "postcode directory from 'risk import-lsoa')",
    )
    reach.add_argument(
        "--ages", default=None, metavar="A-B", help="with --by: children of these ages (0-4)"
    )
    reach.add_argument("--format", choices=("text", "csv", "pdf", "html"), default="text")
    reach.add_argument("--out", metavar="FILE", help="default: stdout")
    reach.add_argument(
        "--as-of", metavar="YYYY-MM-DD", help="count 'not seen for six weeks' from this day"
    )

    trend = report.add_parser(
        "trend", help="month by month: children reached, first visits, returning families"
    )
    _scope_args(trend)
    _period_args(trend)
    trend.add_argument(
        "--baseline", metavar="YYYY-MM", help="the month to compare with (default: the first)"
    )
    trend.add_argument("--format", choices=("text", "csv", "pdf"), default="text")
    trend.add_argument("--out", metavar="FILE", help="default: stdout")

    outreach = report.add_parser(
        "outreach",
        help="risk-area LSOAs ranked by children not yet reached, with their postcodes (for a "
        "leaflet drop; never names)",
    )
    _scope_args(outreach)
    _period_args(outreach)
    outreach.add_argument("--ages", default="0-4", metavar="A-B", help="default 0-4")
    outreach.add_argument(
        "--areas",
        choices=("risk", "deprived"),
        default="risk",
        help="LSOAs with a postcode on the risk list (default), or the 0-30%% most deprived",
    )
    outreach.add_argument("--top", type=int, metavar="N", help="only the first N areas")
    outreach.add_argument("--format", choices=("text", "csv"), default="text")
    outreach.add_argument("--out", metavar="FILE", help="default: stdout")

    register = report.add_parser("register", help="who came to each session of a day (CSV)")
    register.add_argument("--org", required=True)
    register.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    register.add_argument("--site")
    register.add_argument("--out", metavar="FILE", help="default: stdout")

    review = sub.add_parser(
        "review", help="attendances recorded while the kiosk clock was not synchronised"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    review_list = review.add_parser("list", help="those still waiting for a review")
    review_list.add_argument("--org", required=True)
    _period_args(review_list)
    for action, text in (("count", "count it in the invoice"), ("exclude", "leave it out")):
        p = review.add_parser(action, help=text)
        p.add_argument("attendance_id")
        p.add_argument("--by", required=True, metavar="NAME", help="who reviewed it")
        p.add_argument("--note")

    imports = sub.add_parser("import", help="import records typed in afterwards").add_subparsers(
        dest="action", required=True, metavar="WHAT"
    )
    paper = imports.add_parser("register", help="a paper register (CSV) for one session")
    paper.add_argument("file", type=Path)
    paper.add_argument("--org", required=True)
    paper.add_argument("--site", required=True)
    paper.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    paper.add_argument("--session-name", required=True, metavar="NAME")
    paper.add_argument("--start", required=True, metavar="HH:MM")
    paper.add_argument("--end", required=True, metavar="HH:MM")
    paper.add_argument("--slot", help="the timetable slot id (default: from the session name)")
    paper.add_argument("--entered-by", metavar="NAME", help="who typed it in")
    paper.add_argument("--dry-run", action="store_true", help="check and report; change nothing")


def _period(args: argparse.Namespace) -> Period:
    if args.month and (args.start or args.end):
        raise CentralError("give --month, or --from and --to, not both")
    if args.month:
        return Period.month(args.month)
    if args.start and args.end:
        return Period.between_months(args.start, args.end)
    raise CentralError("say which period: --month YYYY-MM, or --from YYYY-MM-DD --to YYYY-MM-DD")


def _note(text: str) -> None:
    print(text, file=sys.stderr)


def _write(args: argparse.Namespace, data: str | bytes) -> None:
    out = getattr(args, "out", None)
    if out:
        path = Path(out)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
        _note(f"written to {path}")
        return
    if isinstance(data, bytes):
        if sys.stdout.isatty():
            raise CentralError("a PDF is not for the terminal: give --out FILE.pdf")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(data)


def run(args: argparse.Namespace, db: CentralDB) -> int:
    """Run a report command (``args.command`` is one of those added above)."""
    match args.command, args.action:
        case "org", "rate":
            from central.reports.money import format_money
            from central.reports.rates import set_rate

            rate, what = set_rate(
                db,
                args.org,
                args.amount,
                parse_date(args.effective_from, "--from"),
                args.contract,
                replace=args.replace,
            )
            _note(
                f"{args.org}: rate {format_money(rate.amount)} per qualifying child-session "
                f"({rate.contract}) from {rate.effective_from}: {what}"
            )
        case "org", "rates":
            from central.reports.money import plain_money
            from central.reports.rates import all_rates

            rates = all_rates(db, args.org)
            if not rates:
                _note(
                    f"{args.org} has no rate yet: "
                    f"kiosk-central org rate {args.org} 3.00 --from DATE"
                )
            for r in rates:
                print(f"{r.contract}\t{r.effective_from}\t{plain_money(r.amount)}")
        case "report", "invoice":
            return _invoice(args, db)
        case "invoice", _:
            return _invoice_command(args, db)
        case "report", "reach":
            return _reach(args, db)
        case "report", "trend":
            return _trend(args, db)
        case "report", "outreach":
            return _outreach(args, db)
        case "report", "register":
            import io

            from central.reports.registers import registers, write_registers_csv

            regs = registers(db, args.org, parse_date(args.date, "--date"), args.site)
            buf = io.StringIO()
            write_registers_csv(regs, buf)
            _write(args, buf.getvalue())
            _note(
                f"{args.org} {args.date}: {len(regs)} session(s), "
                f"{sum(r.families for r in regs)} families, {sum(r.children for r in regs)} "
                f"children, {sum(r.adults for r in regs)} adults"
            )
        case "review", "list":
            from central.reports.reviews import pending_reviews

            waiting = pending_reviews(db, args.org, _period(args))
            for attendance_id in waiting:
                print(attendance_id)
            _note(f"{len(waiting)} attendance(s) waiting for a review")
        case "review", ("count" | "exclude") as action:
            from central.reports.reviews import review_attendance

            decision = "counted" if action == "count" else "excluded"
            done = review_attendance(db, args.attendance_id, decision, args.by, args.note)
            _note(
                f"attendance {done.attendance_id} ({done.org_id}, {done.session_date}): "
                f"{decision} by {done.reviewed_by}"
            )
        case "import", "register":
            from central.reports.paper import import_paper_register, paper_session

            session = paper_session(
                args.org, args.site, args.date, args.session_name, args.start, args.end, args.slot
            )
            result = import_paper_register(
                db, args.file, session, entered_by=args.entered_by, dry_run=args.dry_run
            )
            for line in result.summary_lines():
                _note(line)
        case _:
            raise CentralError(f"unknown command {args.command} {args.action}")
    return 0


def _invoice(args: argparse.Namespace, db: CentralDB) -> int:
    from central.reports.invoice import build_invoice
    from central.reports.money import format_money

    sheet = build_invoice(db, args.org, _period(args), args.contract)
    if args.format == "pdf":
        from central.reports.pdf import invoice_pdf

        _write(args, invoice_pdf(sheet))
    else:
        _write(args, sheet.csv_text())
    _note(
        f"{args.org}, {sheet.period.label}: {sheet.count} qualifying child-attendances, "
        f"total {format_money(sheet.total)}"
    )
    for note in sheet.notes():
        _note(f"note: {note}")
    return 0


def _invoice_command(args: argparse.Namespace, db: CentralDB) -> int:
    from central.audit import os_actor
    from central.reports.issued import invoice_months, issue_invoice, void_invoice
    from central.reports.money import format_money

    match args.action:
        case "issue":
            month = Period.month(args.month)  # checks the month's form and range
            sheet = issue_invoice(
                db, args.org, f"{month.start:%Y-%m}", os_actor(args.as_actor), args.contract
            )
            assert sheet.issue is not None
            args.invoice_number = sheet.issue.number  # for the audit log
            print(sheet.issue.number)
            extra = ", ".join(
                part
                for part in (
                    f"{len(sheet.late)} late" if sheet.late else "",
                    f"{len(sheet.credits)} credit" if sheet.credits else "",
                )
                if part
            )
            _note(
                f"invoice {sheet.issue.number} issued: {args.org}, {sheet.period.label}: "
                f"{sheet.count} qualifying child-attendances"
                + (f" ({extra} line(s))" if extra else "")
                + f", total {format_money(sheet.total)}; fingerprint {sheet.issue.fingerprint}"
            )
            for note in sheet.notes()[1:]:
                _note(f"note: {note}")
        case "list":
            months = invoice_months(db, args.org, args.contract)
            for m in months:
                print(m.line())
            drafts = sum(1 for m in months if m.state == "draft")
            _note(
                f"{len(months) - drafts} invoice(s) issued or void, {drafts} draft month(s); "
                "columns: organisation, month, state, number, count, total, fingerprint"
            )
        case "void":
            gone = void_invoice(db, args.number, args.reason, os_actor(args.as_actor))
            _note(
                f"invoice {gone.number} voided: {gone.void_reason}. Its month is a draft again; "
                "issue it again with 'kiosk-central invoice issue'"
            )
    return 0


def _reach(args: argparse.Namespace, db: CentralDB) -> int:
    import io

    if args.by or args.ages:
        return _area_reach(args, db)
    from central.reports.reach import build_reach, write_reach_csv, write_reach_text

    as_of = parse_date(args.as_of, "--as-of") if args.as_of else None
    from central.reports.names import read_names
    from central.reports.reach import with_names

    reach = build_reach(db, args.org, _period(args), as_of=as_of, with_names=bool(args.org))
    reach = with_names(reach, read_names(db, args.org))
    if args.format in ("text", "csv"):
        buf = io.StringIO()
        (write_reach_text if args.format == "text" else write_reach_csv)(reach, buf)
        _write(args, buf.getvalue())
        return 0
    from central.reports.charts import reach_charts

    charts = reach_charts(reach)
    if args.format == "pdf":
        from central.reports.pdf import reach_pdf

        _write(args, reach_pdf(reach, charts))
    else:
        from central.web.pages import standalone_reach_html

        _write(args, standalone_reach_html(reach, charts))
    return 0


def _area_reach(args: argparse.Namespace, db: CentralDB) -> int:
    """``report reach --by lsoa|ward|district --ages 0-4``: reach against the population."""
    import io

    from central.reports.area_reach import (
        AgeBand,
        apart_lines,
        build_area_reach,
        headline_lines,
        write_area_reach_csv,
        write_area_reach_text,
    )

    if args.as_of:
        raise CentralError("--as-of is for the engagement report; reach by area has no 'not seen'")
    report = build_area_reach(
        db, args.org, _period(args), AgeBand.parse(args.ages or "0-4"), args.by or "lsoa"
    )
    if args.format in ("text", "csv"):
        buf = io.StringIO()
        (write_area_reach_text if args.format == "text" else write_area_reach_csv)(report, buf)
        _write(args, buf.getvalue())
    elif args.format == "pdf":
        from central.reports.area_pdf import area_reach_pdf

        pictures = area_extras(db, report)
        _write(args, area_reach_pdf(report, pictures.charts, pictures.no_map))
    else:
        from central.web.pages import standalone_area_reach_html

        pictures = area_extras(db, report)
        _write(args, standalone_area_reach_html(report, pictures.charts, pictures.no_map))
    for note in report.notes:
        _note(f"note: {note}")
    for line in headline_lines(report) + apart_lines(report):
        _note(line)
    return 0


def area_extras(db: CentralDB, report: Any) -> Any:
    """The pictures that go with reach by area: the trend over its months, and the map (or
    the words saying why there is none)."""
    from central.reports.area_charts import area_pictures

    return area_pictures(db, report)


def _trend(args: argparse.Namespace, db: CentralDB) -> int:
    import io

    from central.reports.trend import build_trend, write_trend_csv, write_trend_text

    trend = build_trend(db, args.org, _period(args), args.baseline)
    if args.format == "pdf":
        from central.reports.area_pdf import trend_pdf

        _write(args, trend_pdf(trend))
        return 0
    buf = io.StringIO()
    (write_trend_text if args.format == "text" else write_trend_csv)(trend, buf)
    _write(args, buf.getvalue())
    return 0


def _outreach(args: argparse.Namespace, db: CentralDB) -> int:
    import io

    from central.reports.area_reach import AgeBand
    from central.reports.outreach import build_outreach, write_outreach_csv, write_outreach_text

    plan = build_outreach(
        db, args.org, _period(args), AgeBand.parse(args.ages), args.areas, args.top
    )
    buf = io.StringIO()
    (write_outreach_text if args.format == "text" else write_outreach_csv)(plan, buf)
    _write(args, buf.getvalue())
    for note in plan.notes:
        _note(f"note: {note}")
    _note(f"{len(plan.areas)} area(s): {plan.chosen_by}")
    return 0
