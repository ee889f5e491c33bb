"""Today's register: who came to a session of today, with counts of grown-ups and children.

It opens on the session on now, else the latest one that has started (the register is still
wanted a few minutes after the end), and every session of the day can be chosen above the
counts. Each family's line can be put right: "Sign out" records when they left (and can be
undone), "Undo sign-in" takes off a family signed in by mistake (after a question), both as
``attendance.amended`` events (``kiosk.domain.attendance``).

Names, children and times only: whether a family qualifies is never shown at the door.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.label import Label
from kivy.utils import escape_markup as escape

from kiosk.domain.desk import Register, RegisterLine
from kiosk.i18n import _, isolate
from kiosk.ui import theme, words
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets import KioskButton, MirrorRow


class RegisterLineLabel(Label):
    pass


class RegisterRow(MirrorRow):
    """One family's line: who and when, and the buttons that put it right."""

    line = ObjectProperty(None)


class SessionButton(KioskButton):
    """One of today's sessions, above the counts; the one shown is highlighted."""

    session_key = StringProperty("")


class TodayRegisterScreen(KioskScreen):
    session_text = StringProperty("")
    families_count = NumericProperty(0)
    adults_count = NumericProperty(0)
    children_count = NumericProperty(0)
    #: A session is on now (else the header offers to start one).
    session_on = BooleanProperty(True)
    #: More than one session today: they are buttons to choose from.
    choosing = BooleanProperty(False)
    message = StringProperty("")
    #: The session chosen ("" for the default: the one on now, or the latest).
    session_key = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.register: Register | None = None
        self._notice = ""

    def on_pre_enter(self, *args) -> None:
        self.message = _("Loading...")
        self.reload()

    def reload(self) -> None:
        self.app.today.load(self.show, self.session_key or None)

    def choose(self, session_key: str) -> None:
        self.session_key = session_key
        self._notice = ""
        self.reload()

    def notice(self, text: str) -> None:
        """A line to show with the next register (what was just put right)."""
        self._notice = text

    def show(self, register: Register | None, session_on: bool = True) -> None:
        self.register = register
        self.session_on = session_on
        box, row = self.ids.lines, self.ids.sessions
        box.clear_widgets()
        row.clear_widgets()
        if register is None:
            self.choosing = False
            self.session_text = _("No sessions today")
            self.families_count = self.adults_count = self.children_count = 0
            self.message = _("Start a session to sign families in.")
            return
        self.session_key = register.session.key
        self.choosing = len(register.sessions) > 1
        for session in register.sessions if self.choosing else ():
            button = SessionButton(
                session_key=session.key,
                text=_("{start} {session}").format(
                    start=words.clock(session.start), session=isolate(session.name)
                ),
                style="primary" if session.key == register.session.key else "key",
            )
            button.bind(on_release=lambda b: self.choose(b.session_key))
            row.add_widget(button)
        self.session_text = words.session_words(register.session)
        if not register.live:
            self.session_text = _("{session} (not on now)").format(session=self.session_text)
        self.families_count, self.adults_count, self.children_count = (
            register.families,
            register.adults,
            register.children,
        )
        notice, self._notice = self._notice, ""
        self.message = notice or ("" if register.lines else _("Nobody has signed in yet."))
        for line in register.lines:
            box.add_widget(self._row(line))

    def _row(self, line: RegisterLine) -> RegisterRow:
        tz = self.app.desk.tz
        kids = words.kids_or_none(list(line.children))
        at = isolate(words.clock(line.at.astimezone(tz)))
        if line.method == "card":
            how = _("{time}, card").format(time=at)
        else:
            how = _("{time}, signed in by a volunteer").format(time=at)
        if line.adults != 1:
            how = _("{how}, {grown_ups}").format(how=how, grown_ups=words.grown_ups(line.adults))
        if line.signed_out_at is not None:
            left = isolate(words.clock(line.signed_out_at.astimezone(tz)))
            how = _("{how}, signed out at {time}").format(how=how, time=left)
        row = RegisterRow(line=line)
        row.add_widget(
            RegisterLineLabel(
                text=f"[b]{escape(isolate(line.greeting_name))}[/b]   {escape(kids)}\n"
                f"[size={int(sp(theme.FONT_SMALL))}][color=46536A]{escape(how)}[/color][/size]",
            )
        )
        out = KioskButton(
            style="key",
            text=_("Undo sign-out") if line.signed_out_at else _("Sign out"),
            size_hint=(None, None),
            width=dp(150),
            height=dp(64),
        )
        if line.signed_out_at:
            out.bind(on_release=lambda _b: self.app.today.undo_sign_out(self.register, line))
        else:
            out.bind(on_release=lambda _b: self.app.today.sign_out(self.register, line))
        undo = KioskButton(
            style="key",
            text=_("Undo sign-in"),
            size_hint=(None, None),
            width=dp(150),
            height=dp(64),
        )
        undo.bind(on_release=lambda _b: self.app.today.ask_undo_sign_in(self.register, line))
        row.add_widget(out)
        row.add_widget(undo)
        return row

    @property
    def rows(self) -> list[RegisterRow]:
        return list(reversed(self.ids.lines.children))

    def row_of(self, name: str) -> RegisterRow:
        """The line of the family called ``name`` (for tests and the app)."""
        for row in self.rows:
            if row.line.greeting_name == name:
                return row
        raise LookupError(name)

    def reset(self) -> None:
        self.session_key = ""
        self._notice = ""
        self.register = None


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
