"""Threads: durable append-only records, turn lifecycle, and the fan-out of notifications."""
