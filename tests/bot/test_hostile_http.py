"""Property-based fuzzing of the gateway's HTTP endpoints: any bytes → never a 5xx or a hang.

Each endpoint of :data:`tests.auxil.hostile.ENDPOINTS` gets 300 generated requests (raw
bytes, any JSON, the expected fields with any values, any content type, wrong and right
keys) over a real socket; the answer must come within 15 s, never be a 5xx, and a 4xx must
say why in JSON.  ``benchmarks/fuzz_endpoints.py`` runs 10,000 per endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.auxil.hostile import ENDPOINTS, Endpoint, GatewayThread, Request, clear_error

pytestmark = pytest.mark.slow

EXAMPLES = 300


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayThread]:
    gw = GatewayThread(Path(tmp_path_factory.mktemp("fuzz")))
    gw.start()
    yield gw
    gw.stop()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_any_request_gets_an_answer_and_never_a_5xx(
    gateway: GatewayThread, endpoint: Endpoint
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(req=endpoint.requests)
    def check(req: Request) -> None:
        status, body, ctype = gateway.send(req)
        assert status < 500, (req, status, body[:300])
        if status >= 400 and status not in (404, 405):  # aiohttp's own routing answers
            assert clear_error(status, body, ctype), (req, status, body[:300])

    check()
