"""Resguardo: firearms accountability for police agencies."""

__version__ = "0.1.0"
