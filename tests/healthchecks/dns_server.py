"""A minimal UDP DNS responder on loopback for the DNS probe tests (dnspython's dns.message).

`records` maps (name, type) to answer texts, e.g. {("app.test.", "A"): ["127.0.0.1"]}; a name
it does not know gets NXDOMAIN, a known name without that type an empty answer.
"""

import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class DNSResponder:
    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        self.records = records
        self.queries = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> "DNSResponder":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        self.sock.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                wire, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            self.queries += 1
            query = dns.message.from_wire(wire)
            self.sock.sendto(self._answer(query).to_wire(), peer)

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        name, rdtype = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
        if not any(known == name for known, _ in self.records):
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        texts = self.records.get((name, rdtype))
        if texts:
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", rdtype, *texts))
        return response
