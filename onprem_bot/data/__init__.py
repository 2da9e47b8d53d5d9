"""Packaged data files (the colloquial → legal-term synonym dictionary), read with ``importlib.resources``."""
