"""Helpers shared by the tests and the demo; never part of the installed package."""
