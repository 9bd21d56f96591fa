"""Helpers for testing against the emulator: a server in a thread, authenticated sessions."""
