"""Emulated HelpCrunch, Conpeek and JAICP Reporter APIs: real HTTP servers on localhost over generated data.

Written from the API documentation in ``shared/apis`` and the seeds, never from the client code in
``sources/`` (a test enforces that no module here imports it), so that a misreading of the docs must be
made twice to go unnoticed. ``make demo`` and the tests both start them; see ``python -m emulators --help``.
"""

from emulators._server import EmulatedApi, EmulatorServer, Request, Response, Router, serve

EMULATOR_NAMES = ("helpcrunch", "conpeek", "jaicp")


def create_api(name: str, **options: object) -> EmulatedApi:
    """Build the emulated API ``name`` (one of :data:`EMULATOR_NAMES`) with its generator ``options``."""
    if name == "helpcrunch":
        from emulators.helpcrunch import create_api as factory
    elif name == "conpeek":
        from emulators.conpeek import create_api as factory
    elif name == "jaicp":
        from emulators.jaicp import create_api as factory
    else:
        raise ValueError(f"unknown emulator {name!r}; choose from {', '.join(EMULATOR_NAMES)}")
    return factory(**options)


__all__ = ["EMULATOR_NAMES", "EmulatedApi", "EmulatorServer", "Request", "Response", "Router", "create_api", "serve"]
