"""A real DNS server on loopback serving a `gateway.dns.Zone`, for whatever needs the wire.

`ZoneResolver` answers in-process; this answers the same zone data over UDP and TCP, so
`DnsResolver` (dnspython), Perl's Mail::DKIM and OpenDKIM can be pointed at it: the tests
do, and ``tokuden bench`` serves its senders' SPF, DMARC and DKIM records with it (which
is why it lives in the package, not in tests/).  Not for the Internet: it serves one
zone to local clients, with no rate limits and no recursion.  What the
zone says maps onto what an authoritative server sends: records in the answer after the
CNAME chain that led to them, NXDOMAIN and NODATA with an SOA in the authority section
(so negative caching has a TTL), SERVFAIL, and for ``TIMEOUT`` no answer at all.  TXT
data is cut into strings of at most 255 octets; an answer too large for the client's
UDP size is sent truncated (TC), so the client retries over TCP.

    with ZoneServer({"example.com": [{"TXT": "v=spf1 -all"}]}) as server:
        DnsResolver(["127.0.0.1"], port=server.port)
        server.update({"new.example.com": [{"A": "192.0.2.1"}]})
        server.queries  # ["example.com", ...]: every name asked, lowercased
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Mapping, Sequence
from types import TracebackType

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SPF
import dns.rdtypes.ANY.TXT
import dns.rrset

from gateway.dns import Record, Zone, ZoneAnswer

_TCP_IDLE = 5.0  # seconds a TCP client may stay silent before we hang up


class ZoneServer:
    """Serves `zone_data` (the SPF suites' zonedata shape) on `host`:`port`, UDP and TCP.

    ``port=0`` picks a free port (the same one for both transports); a fixed port (53
    for resolvers that cannot be told another) works when the process may bind it.
    The server runs in a thread from construction until `close()` (or the ``with``
    block's end).  ``queries`` lists every name asked, lowercased without the final
    dot; ``questions`` the same as (name, type, transport).
    """

    def __init__(
        self,
        zone_data: Mapping[str, Sequence[object]],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ttl: int = 3600,
    ) -> None:
        self.host = host
        self.ttl = ttl
        self._data: dict[str, list[object]] = {}
        self._lock = threading.Lock()
        self.zone = Zone({}, ttl)
        self.update(zone_data)
        self.queries: list[str] = []
        self.questions: list[tuple[str, str, str]] = []
        self.errors: list[Exception] = []
        self._udp, self._tcp = _bind(host, port)
        self.port: int = self._udp.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._closed = threading.Event()
        self._connections: set[socket.socket] = set()
        self._thread = threading.Thread(
            target=self._serve, name=f"dns-{host}:{self.port}", daemon=True
        )
        self._thread.start()

    # -- the zone ------------------------------------------------------------------

    def update(self, zone_data: Mapping[str, Sequence[object]]) -> None:
        """Add names, or replace all the entries of names already served."""
        with self._lock:
            for name, entries in zone_data.items():
                self._data[name.rstrip(".").lower()] = list(entries)
            self.zone = Zone(self._data, self.ttl)

    def remove(self, *names: str) -> None:
        """Stop serving `names`: they answer NXDOMAIN from now on."""
        with self._lock:
            for name in names:
                self._data.pop(name.rstrip(".").lower(), None)
            self.zone = Zone(self._data, self.ttl)

    # -- lifecycle -----------------------------------------------------------------

    def close(self) -> None:
        """Stop serving; raises if answering any query failed (a bug in this server)."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._wake_w.send(b"x")
        self._thread.join()
        for conn in list(self._connections):  # wake TCP readers so their threads end
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for sock in (self._udp, self._tcp, self._wake_r, self._wake_w):
            sock.close()
        if self.errors:
            raise RuntimeError(f"the DNS server failed {len(self.errors)} time(s)") from (
                self.errors[0]
            )

    def __enter__(self) -> ZoneServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- serving -------------------------------------------------------------------

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._udp, selectors.EVENT_READ)
            selector.register(self._tcp, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._closed.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._udp:
                        self._serve_udp()
                    elif key.fileobj is self._tcp:
                        with contextlib.suppress(OSError):
                            conn, _peer = self._tcp.accept()
                            self._connections.add(conn)
                            threading.Thread(
                                target=self._serve_tcp, args=(conn,), daemon=True
                            ).start()

    def _serve_udp(self) -> None:
        try:
            wire, peer = self._udp.recvfrom(65535)
        except OSError:
            return
        reply = self._reply(wire, "udp")
        if reply is not None:
            with contextlib.suppress(OSError):
                self._udp.sendto(reply, peer)

    def _serve_tcp(self, conn: socket.socket) -> None:
        conn.settimeout(_TCP_IDLE)
        with conn:
            try:
                self._serve_connection(conn)
            finally:
                self._connections.discard(conn)

    def _serve_connection(self, conn: socket.socket) -> None:
        while not self._closed.is_set():
            try:
                size = _recv_exactly(conn, 2)
                wire = _recv_exactly(conn, int.from_bytes(size, "big"))
            except (OSError, EOFError):
                return
            reply = self._reply(wire, "tcp")
            if reply is not None:  # a TIMEOUT entry: stay silent, the client gives up
                try:
                    conn.sendall(len(reply).to_bytes(2, "big") + reply)
                except OSError:
                    return

    def _reply(self, wire: bytes, transport: str) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        try:
            return self._answer(query, transport)
        except Exception as e:
            # a bug here must fail the test, not pass as a DNS timeout: kept, raised by close()
            self.errors.append(e)
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()

    def _answer(self, query: dns.message.Message, transport: str) -> bytes | None:
        if len(query.question) != 1:
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        name = _text(question.name)
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append(name.lower())
        self.questions.append((name.lower(), rdtype, transport))
        with self._lock:
            zone = self.zone
        answer = zone.lookup(name, rdtype)
        if answer.status == "timeout":
            return None
        response = self._response(query, question.name, question.rdtype, answer)
        limit = 65535 if transport == "tcp" else max(512, query.payload if query.edns >= 0 else 0)
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.TC | dns.flags.AA
            return truncated.to_wire()

    def _response(
        self,
        query: dns.message.Message,
        qname: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        answer: ZoneAnswer,
    ) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if answer.status == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        owner = qname
        for _alias, target in answer.cnames:
            cname = dns.rrset.from_text(owner, self.ttl, "IN", "CNAME", _absolute(target))
            response.answer.append(cname)
            owner = dns.name.from_text(target) if target else dns.name.root
        if answer.records:
            rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, rdtype)
            for record in answer.records:
                rrset.add(_rdata(record, rdtype), record.ttl)
            response.answer.append(rrset)
            return response
        if answer.status == "nxdomain":
            response.set_rcode(dns.rcode.NXDOMAIN)
        apex = dns.name.Name(owner.labels[-3:]) if len(owner.labels) > 2 else dns.name.root
        soa = f"ns.invalid. hostmaster.invalid. 1 3600 600 86400 {self.ttl}"
        response.authority.append(dns.rrset.from_text(apex, self.ttl, "IN", "SOA", soa))
        return response


def _bind(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket on the same `port` (a free one for 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(20):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            udp.bind((host, port))
            tcp.bind((host, udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            if port:
                raise
            continue  # the free UDP port is taken for TCP: try another
        tcp.listen(16)
        return udp, tcp
    raise OSError(f"no port free for both UDP and TCP on {host}")


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _text(name: dns.name.Name) -> str:
    """The name as the zone data spells it: labels joined by dots, no escapes."""
    return ".".join(label.decode("utf-8", "replace") for label in name.labels if label)


def _absolute(host: str) -> str:
    return host if host.endswith(".") else f"{host}."


def _rdata(record: Record, rdtype: dns.rdatatype.RdataType) -> dns.rdata.Rdata:
    if record.rdtype in ("TXT", "SPF"):
        data = record.data
        strings = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
        kind = dns.rdtypes.ANY.SPF.SPF if rdtype == dns.rdatatype.SPF else dns.rdtypes.ANY.TXT.TXT
        return kind(dns.rdataclass.IN, rdtype, strings)
    if record.rdtype == "MX":
        text = f"{record.preference} {_absolute(record.text)}"
    elif record.rdtype in ("PTR", "CNAME", "NS"):
        text = _absolute(record.text)
    else:
        text = record.text
    return dns.rdata.from_text(dns.rdataclass.IN, rdtype, text)
