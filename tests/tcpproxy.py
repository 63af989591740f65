"""A TCP forwarder on 127.0.0.1 in front of a local server, that a test can cut and restore.

    with TcpProxy(5432) as proxy:          # 127.0.0.1:<proxy.port> → 127.0.0.1:5432
        proxy.cut()                        # open connections drop, new ones are refused
        proxy.restore()
        proxy.stall()                      # connections stay open, nothing goes through
        proxy.restore()

It stands in for "the database was restarted or became unreachable" (cut), or "the
network drops packets" (stall), without touching the
shared PostgreSQL server other tests use.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.closing import ClosesOnExit


class TcpProxy(ClosesOnExit):
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._stalled = False
        self._held: list[socket.socket] = []
        self._closing = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until `restore`."""
        with self._lock:
            self._cut = True
            dropped, self._open = self._open, set()
        for connection in dropped:
            _close(connection)

    def stall(self) -> None:
        """Accept and keep connections and data, forward nothing, answer nothing, close
        nothing: a network that drops packets, as far as either end can tell."""
        with self._lock:
            self._stalled = True

    def restore(self) -> None:
        """Forward again. Connections open during a stall lost what was sent: they drop."""
        with self._lock:
            self._cut = False
            dropped = self._held
            if self._stalled:
                dropped += self._open
                self._open = set()
            self._stalled = False
            self._held = []
        for connection in dropped:
            _close(connection)

    def close(self) -> None:
        self._closing = True
        self.cut()
        self.restore()  # lets go of held connections
        _close(self._listener)
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            with self._lock:
                refused, stalled = self._cut, self._stalled
                if stalled:
                    self._held.append(client)
            if refused:
                _close(client)
                continue
            if stalled:
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self._stalled:
                    sink.sendall(data)
        except OSError:
            pass  # cut, or the other side hung up
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            _close(source)
            _close(sink)


def _close(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected any more
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()
