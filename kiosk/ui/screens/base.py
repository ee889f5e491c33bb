"""What every kiosk screen shares: access to the app, a tick, and card capture."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen


class KioskScreen(Screen):
    """A screen of the kiosk.

    ``door_screen`` screens face families (tap, welcome, messages); the others are volunteer
    mode and need it unlocked. A screen with ``captures_cards`` True takes the next card tapped
    (to give it to a family) instead of checking it in.
    """

    door_screen = BooleanProperty(False)
    captures_cards = BooleanProperty(False)

    @property
    def app(self):
        return App.get_running_app()

    def tick(self) -> None:
        """Called a few times a second while this screen is showing."""

    def card_captured(self, uid: str) -> None:
        """A card was tapped while this screen ``captures_cards``."""

    def reset(self) -> None:
        """Forget what was typed or chosen (volunteer mode locked)."""

    def retranslate(self) -> None:
        """The language changed while this screen shows: say its own words again.

        Words in the .kv files follow the language by themselves; a screen overrides this for
        the words it set from Python (a title with a family's name, a message).
        """
