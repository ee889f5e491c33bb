"""Families' rights on the central server: a copy of their data (``export``,
``export_pdf``), erasure (``erase``; kiosks follow through the roster), and retention
(``retention``). The commands are in ``central.privacy.cli``; the tables in ``central.db``
(section "family rights")."""
