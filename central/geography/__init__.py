"""Where families live and how many children live there.

- :mod:`central.geography.directory`: the postcode directory (ONSPD) the server keeps from
  ``risk import-lsoa``: each postcode's LSOA, ward and district, each LSOA's IMD decile;
- :mod:`central.geography.population`: ONS population estimates by LSOA and single year of
  age (``kiosk-central population import``), versioned;
- :mod:`central.geography.boundaries`: LSOA boundaries from a GeoJSON file, for the map.

The tables live in :mod:`central.db` (migration 10); these modules read and write them.
"""
