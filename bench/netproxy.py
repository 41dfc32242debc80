"""A TCP proxy that adds network latency between a client and Postgres, and counts the
round trips that cross it.

Each chunk of bytes is delivered `delay` seconds after it arrived, in order, in each
direction, so a request and its answer cost 2 x delay, as on a real network (10 ms
each way is about a GitHub runner talking to Neon in another region). A round trip
is counted each time the server answers after the client spoke: a client that
pipelines many statements before reading pays for one.

    with LatencyProxy(target=("/tmp/pg", 5432) or "host:port", delay=0.010) as proxy:
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/db"
        ...
        proxy.round_trips
"""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType


class LatencyProxy:
    def __init__(self, *, unix_socket: str | None = None, host: str = "127.0.0.1",
                 port: int = 5432, delay: float = 0.0) -> None:
        self.unix_socket, self.host, self.target_port, self.delay = unix_socket, host, port, delay
        self.port = 0
        self.round_trips = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def reset(self) -> None:
        with self._lock:
            self.round_trips = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        # Stopped: end the connections still open (a client may not have closed its
        # own yet), so that none is left pending and warned about at exit.
        server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _connection(self, client_r: asyncio.StreamReader,
                          client_w: asyncio.StreamWriter) -> None:
        if self.unix_socket:
            server_r, server_w = await asyncio.open_unix_connection(self.unix_socket)
        else:
            server_r, server_w = await asyncio.open_connection(self.host, self.target_port)
        last = ["server"]  # who spoke last on this connection

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       speaker: str) -> None:
            queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

            async def deliver() -> None:
                while True:
                    due, data = await queue.get()
                    if not data:
                        writer.close()
                        return
                    wait = due - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    writer.write(data)
                    await writer.drain()

            delivering = asyncio.ensure_future(deliver())
            while True:
                data = await reader.read(65536)
                if speaker == "server" and data and last[0] == "client":
                    with self._lock:
                        self.round_trips += 1
                if data:
                    last[0] = speaker
                await queue.put((time.monotonic() + self.delay, data))
                if not data:
                    break
            await delivering

        try:
            await asyncio.gather(
                pump(client_r, server_w, "client"), pump(server_r, client_w, "server"),
                return_exceptions=True,
            )
        except asyncio.CancelledError:  # the proxy stops: returning quietly keeps
            client_w.close()  # Python 3.11's stream callback from printing a traceback
            server_w.close()
