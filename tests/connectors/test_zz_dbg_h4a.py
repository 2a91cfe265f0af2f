import asyncio, sys
import pytest
from tests.connectors import test_outbox as T
from tests.connectors.test_outbox import *  # noqa

async def _watch():
    await asyncio.sleep(15)
    for t in asyncio.all_tasks():
        print("TASK", t.get_name(), file=sys.stderr)
        t.print_stack(file=sys.stderr, limit=8)
    sys.stderr.flush()

@pytest.fixture(autouse=True)
async def watchdog():
    w = asyncio.create_task(_watch())
    yield
    w.cancel()
