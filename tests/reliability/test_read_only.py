"""Read-only toward the APIs: after a full load, time passing and an incremental load, each emulated API's
request log holds only GETs and the read-only search/filter POSTs (every other reliability test checks its
own logs the same way when it ends: see ``conftest.start``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from emulators import EmulatorServer
from pipelines.run import RunRequest, run
from tests.reliability.kits import KIT_IDS, KITS, Kit, time_passes, writes

Start = Callable[..., EmulatorServer]


@pytest.mark.parametrize("kit", KITS, ids=KIT_IDS)
def test_the_request_log_shows_only_reads(kit: Kit, start: Start) -> None:
    server = start(kit)
    assert run(RunRequest([kit.name])).ok
    time_passes(kit, server)
    assert run(RunRequest([kit.name])).ok

    methods = Counter(request.method for request in server.requests())
    posts = sorted({"/".join(r.path.split("/")[-2:]) for r in server.requests() if r.method == "POST"})
    print(f"{kit.name}: {dict(methods)} requests, read-only POSTs to {posts}")
    assert set(methods) <= {"GET", "POST"} and methods["GET"] + methods["POST"] == len(server.requests())
    assert not writes(kit, server), writes(kit, server)[:5]
