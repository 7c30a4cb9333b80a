"""Locale formats Django lacks (FORMAT_MODULE_PATH): Kazakh has none in Django 5.2."""
