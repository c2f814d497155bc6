"""The test PostgreSQL server behind a TCP relay that a test can cut, as a network or a
server failure would; shared by the store tests and the gateway tests."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from psycopg.conninfo import conninfo_to_dict

from tests.conftest import PG_URL

SERVER = conninfo_to_dict(PG_URL)


def url_at(port: int, schema: str = "public", **params: object) -> str:
    """A URL naming the test server's user and database, but on 127.0.0.1:``port``."""
    query = urlencode({"options": f"-csearch_path={schema}", **params})
    return (
        f"postgresql://{SERVER.get('user', 'postgres')}@127.0.0.1:{port}/{SERVER['dbname']}?{query}"
    )


class Cable:
    """A TCP relay to the test server. ``drop()`` resets the connections open through it,
    as a server restart does; ``cut()`` also stops relaying, as a server that stays down."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._ends: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def drop(self) -> None:
        ends, self._ends = self._ends, []
        for end in ends:
            end.transport.abort()
        for end in ends:
            await end.wait_closed()

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        await self.drop()
        await self._server.wait_closed()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection(SERVER["host"], SERVER["port"])
        self._ends += [client_out, server_out]
        await asyncio.gather(_pump(client_in, server_out), _pump(server_in, client_out))


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except OSError:
        pass  # the cable was cut
    finally:
        sink.close()
