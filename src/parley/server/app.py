"""The app-server entry point (`AppServer`), kept under this name for importers."""

from parley.server.session import AppServer, ClientSession

__all__ = ["AppServer", "ClientSession"]
