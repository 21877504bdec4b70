"""The shell block that points the pipeline at running emulators: ``export`` lines and ``#`` comments.

Its format is a contract: lines are ``export NAME=value`` (value shell-quoted when needed) or comments
starting with ``#``, nothing else, so a person pastes it into a shell and a test parses it with ``shlex``.
"""

from __future__ import annotations

import shlex

from emulators._server import EmulatorServer

#: name -> (create_api option of the credential, environment variable, default credential)
CREDENTIALS = {
    "helpcrunch": ("api_keys", "SOURCES__HELPCRUNCH__API_KEY", "demo-helpcrunch-key"),
    "conpeek": ("api_keys", "SOURCES__CONPEEK__API_KEY", "demo-conpeek-key"),
    "jaicp": ("tokens", "SOURCES__JAICP__TOKEN", "demo-jaicp-token"),
}
BASE_PATHS = {"helpcrunch": "/v1", "conpeek": "", "jaicp": "/api"}  # the API root below the server URL
DOCUMENTED_LIMITS = {"helpcrunch": 120}  # requests a minute the API's documentation states
RUN_HINT = ".venv/bin/python -m pipelines check && .venv/bin/python -m pipelines run"


def base_url(name: str, server: EmulatorServer) -> str:
    return server.url + BASE_PATHS[name]


def environment(servers: dict[str, EmulatorServer], credentials: dict[str, str]) -> dict[str, str]:
    """The ``SOURCES__*`` variables of each served API: its credential and its full base URL."""
    env: dict[str, str] = {}
    for name, server in servers.items():
        _, variable, _ = CREDENTIALS[name]
        env[variable] = credentials[name]
        env[f"SOURCES__{name.upper()}__BASE_URL"] = base_url(name, server)
    return env


def _limit(name: str, server: EmulatorServer) -> str:
    options = server.options
    documented = DOCUMENTED_LIMITS.get(name)
    if not options.rate_limit:
        return f"{name} none" + (f" (documented {documented}/min, switched off)" if documented else "")
    rate = f"{name} {options.rate_limit} requests/{options.rate_window:g} s per key"
    if documented and options.rate_limit == documented and options.rate_window == 60:
        return rate + " (documented)"
    return rate + (f" (documented {documented}/min)" if documented else " (undocumented: the client is not told)")


def _load(servers: dict[str, EmulatorServer]) -> list[str]:
    """One comment per distinct load behaviour (latency, concurrency limit), naming the APIs it applies to."""
    described: dict[str, list[str]] = {}
    for name, server in servers.items():
        o = server.options
        parts = []
        if o.latency or o.latency_jitter:
            jitter = f" + 0-{o.latency_jitter * 1000:g} ms" if o.latency_jitter else ""
            parts.append(f"latency {o.latency * 1000:g} ms{jitter} per answer")
        if o.concurrency_limit:
            parts.append(f"at most {o.concurrency_limit} requests in flight per key ({o.overload_status} beyond)")
        if o.slow_when_busy:
            parts.append(f"slower when busy (capacity {o.capacity})")
        if not o.send_retry_after:
            parts.append("429s without Retry-After")
        if parts:
            described.setdefault(", ".join(parts), []).append(name)
    return [f"# emulated load ({', '.join(names)}): {text}" for text, names in described.items()]


def _value(value: object) -> str:
    return "off" if value is None else str(value)


def paste_block(servers: dict[str, EmulatorServer], credentials: dict[str, str]) -> str:
    """The block printed by ``python -m emulators serve`` (see the module docstring)."""
    lines = [f"# paste into your shell, then: {RUN_HINT}"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in environment(servers, credentials).items()]
    lines.append("# emulated limits: " + "; ".join(_limit(name, s) for name, s in servers.items()))
    lines += _load(servers)
    for name, server in servers.items():
        switches = server.api.config()
        if switches:
            lines.append(f"# {name} switches: " + " ".join(f"{k}={_value(v)}" for k, v in switches.items()))
    lines.append("# admin: " + ", ".join(f"{server.url}/__emulator/" for server in servers.values())
                 + " (config, stats, mutate, place, snapshot)")
    return "\n".join(lines) + "\n"


def parse_block(text: str) -> dict[str, str]:
    """The variables of a block made by :func:`paste_block`; ``ValueError`` on a line of any other kind."""
    env: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        words = shlex.split(line)
        if len(words) != 2 or words[0] != "export" or "=" not in words[1]:
            raise ValueError(f"not an export line: {line!r}")
        name, _, value = words[1].partition("=")
        env[name] = value
    return env
