"""Reports for the organisation and the council, computed centrally from recorded events.

- :mod:`central.reports.invoice`: the monthly invoice backing sheet (CSV, PDF).
- :mod:`central.reports.registers`: who came to each session (CSV).
- :mod:`central.reports.reach`: reach and engagement, with charts (:mod:`~.charts`).
- :mod:`central.reports.paper`: paper registers typed in afterwards.
- :mod:`central.reports.rates`: the rate per qualifying child-session, by organisation.
- :mod:`central.reports.cli`: the ``kiosk-central org rate|rates``, ``report ...``, ``review``
  and ``import register`` commands.

Reports only ever read what the door decided: every attendance carries its incentive decision
(``qualifies``, ``reasons``, ``risk_version``) from the moment it was recorded, and nothing here
recomputes it, so a past month's sheet is the same whenever it is produced (DESIGN.md, Events).
The queries are read-only SQLAlchemy Core over :mod:`central.db`'s tables.
"""
