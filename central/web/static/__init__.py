"""The dashboard's stylesheet (a package only so that it is installed with it)."""
