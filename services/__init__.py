"""Thin adapters over third-party libraries, behind the Protocols in `services.ports`."""
