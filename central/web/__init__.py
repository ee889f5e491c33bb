"""The reporting dashboard: server-rendered pages (Jinja2) behind the reporting users' login.

:func:`central.web.routes.install` adds it to the central server's app under ``/dashboard``.
Staff see their own organisation; the commissioner sees every organisation. No JavaScript.
"""
