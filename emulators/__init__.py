"""Emulated HelpCrunch, Conpeek and JAICP Reporter APIs: real HTTP servers on localhost over generated data.

Written from the API documentation in ``shared/apis`` and the seeds, never from the client code in
``sources/`` (a test enforces that no module here imports it), so that a misreading of the docs must be
made twice to go unnoticed. ``make demo`` and the tests both start them; ``make emulators`` serves them on
ports 8801-8803 and prints the ``export`` lines that point the pipeline at them (``python -m emulators --help``).

Where the docs leave a behaviour open, or a real network adds one (latency, hidden limits), the emulators
have switches: the server's in :mod:`emulators._server` (shared), each API's in its package docstring.
All are ``create_api`` options and keys of ``POST /__emulator/config``.
"""

from emulators._limits import ServerOptions, credential_label
from emulators._server import EmulatedApi, EmulatorServer, Request, Response, Router, serve

EMULATOR_NAMES = ("helpcrunch", "conpeek", "jaicp")


def create_api(name: str, **options: object) -> EmulatedApi:
    """Build the emulated API ``name`` (one of :data:`EMULATOR_NAMES`) with its generator ``options``.

    Server switches among ``options`` (``latency``, ``concurrency_limit``, ... see :class:`ServerOptions`)
    are kept on the API as ``server_options``; an :class:`EmulatorServer` hosting it starts from them, so
    a test or benchmark that only passes ``create_api`` options can set them too.
    """
    server_options = {k: options.pop(k) for k in ServerOptions.names() if k in options}
    ServerOptions().updated(server_options)  # fail here, not when a server starts
    if name == "helpcrunch":
        from emulators.helpcrunch import create_api as factory
    elif name == "conpeek":
        from emulators.conpeek import create_api as factory
    elif name == "jaicp":
        from emulators.jaicp import create_api as factory
    else:
        raise ValueError(f"unknown emulator {name!r}; choose from {', '.join(EMULATOR_NAMES)}")
    api = factory(**options)
    api.server_options = server_options
    return api


__all__ = ["EMULATOR_NAMES", "EmulatedApi", "EmulatorServer", "Request", "Response", "Router", "ServerOptions",
           "create_api", "credential_label", "serve"]
