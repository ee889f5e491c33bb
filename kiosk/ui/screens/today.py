"""Today's register: who is in at the session on now, with counts of grown-ups and children.

Names, children and times only: whether a family qualifies is never shown at the door.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.label import Label
from kivy.utils import escape_markup as escape

from kiosk.domain.desk import Register
from kiosk.i18n import _, isolate
from kiosk.ui import theme, words
from kiosk.ui.screens.base import KioskScreen


class RegisterLineLabel(Label):
    pass


class TodayRegisterScreen(KioskScreen):
    session_text = StringProperty("")
    families_count = NumericProperty(0)
    adults_count = NumericProperty(0)
    children_count = NumericProperty(0)
    session_on = BooleanProperty(True)
    message = StringProperty("")

    def on_pre_enter(self, *args) -> None:
        self.message = _("Loading...")
        self.app.load_register(self.show)

    def show(self, register: Register | None) -> None:
        box = self.ids.lines
        box.clear_widgets()
        self.session_on = register is not None
        if register is None:
            self.session_text = words.no_session_now()
            self.families_count = self.adults_count = self.children_count = 0
            self.message = _("Start a session to sign families in.")
            return
        self.session_text = words.session_words(register.session)
        self.families_count, self.adults_count, self.children_count = (
            register.families,
            register.adults,
            register.children,
        )
        self.message = "" if register.lines else _("Nobody has signed in yet.")
        for line in register.lines:
            kids = words.kids_or_none(list(line.children))
            at = isolate(words.clock(line.at.astimezone(self.app.desk.tz)))
            if line.method == "card":
                how = _("{time}, card").format(time=at)
            else:
                how = _("{time}, signed in by a volunteer").format(time=at)
            if line.adults != 1:
                how = _("{how}, {grown_ups}").format(
                    how=how, grown_ups=words.grown_ups(line.adults)
                )
            box.add_widget(
                RegisterLineLabel(
                    text=f"[b]{escape(isolate(line.greeting_name))}[/b]   {escape(kids)}\n"
                    f"[size={int(sp(theme.FONT_SMALL))}][color=46536A]{escape(how)}[/color][/size]",
                    height=dp(62),
                )
            )


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
