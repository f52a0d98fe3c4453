"""Django's SMTP backend with command pipelining (RFC 2920) where the server offers it.

smtplib sends MAIL FROM, each RCPT TO and DATA one at a time and waits for each reply: four
round trips an e-mail, each waking the server and then the sender again. A server that
advertises PIPELINING (Postfix, Exim, the large relays) takes MAIL, RCPT and DATA in one write
and answers them in order, so an e-mail costs two round trips: the envelope, then the message.
The replies are read and judged exactly as smtplib does (the same exceptions for a refused
sender, refused recipients or a refused message), so callers cannot tell the difference except
in speed. A server that does not advertise it gets smtplib's own exchange.
"""

import smtplib

from django.core.mail.backends.smtp import EmailBackend

CRLF = b"\r\n"


def _option_list(server: smtplib.SMTP, options) -> str:
    return " " + " ".join(options) if options and server.does_esmtp else ""


class PipeliningMixin:
    def sendmail(self, from_addr, to_addrs, msg, mail_options=(), rcpt_options=()):
        self.ehlo_or_helo_if_needed()
        wants_utf8 = any(option.lower() == "smtputf8" for option in mail_options)
        if not self.has_extn("pipelining") or wants_utf8:
            return super().sendmail(from_addr, to_addrs, msg, mail_options, rcpt_options)
        if isinstance(msg, str):
            msg = smtplib._fix_eols(msg).encode("ascii")
        if isinstance(to_addrs, str):
            to_addrs = [to_addrs]
        options = list(mail_options)
        if self.does_esmtp and self.has_extn("size"):
            options.insert(0, f"size={len(msg)}")
        envelope = [f"mail FROM:{smtplib.quoteaddr(from_addr)}{_option_list(self, options)}"]
        envelope += [f"rcpt TO:{smtplib.quoteaddr(to)}{_option_list(self, rcpt_options)}" for to in to_addrs]
        envelope.append("data")
        self.send("".join(f"{command}\r\n" for command in envelope))
        mail_code, mail_reply = self.getreply()
        refused = {}
        closing = mail_code == 421
        for to in to_addrs:
            code, reply = self.getreply()
            if code not in (250, 251):
                refused[to] = (code, reply)
            closing = closing or code == 421
        data_code, data_reply = self.getreply()
        if data_code == 354 and not closing and (mail_code != 250 or len(refused) == len(to_addrs)):
            # The server took DATA although the envelope failed: end the empty message.
            self.send(b"." + CRLF)
            self.getreply()
        if closing or data_code == 421:
            self.close()
        if mail_code != 250:
            if not closing:
                self._rset()
            raise smtplib.SMTPSenderRefused(mail_code, mail_reply, from_addr)
        if closing or len(refused) == len(to_addrs):
            if not closing:
                self._rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        if data_code != 354:
            if data_code != 421:
                self._rset()
            raise smtplib.SMTPDataError(data_code, data_reply)
        body = smtplib._quote_periods(msg)
        if body[-2:] != CRLF:
            body += CRLF
        self.send(body + b"." + CRLF)
        code, reply = self.getreply()
        if code != 250:
            if code == 421:
                self.close()
            else:
                self._rset()
            raise smtplib.SMTPDataError(code, reply)
        return refused


class PipeliningSMTP(PipeliningMixin, smtplib.SMTP):
    pass


class PipeliningSMTPSSL(PipeliningMixin, smtplib.SMTP_SSL):
    pass


class PipeliningEmailBackend(EmailBackend):
    """EMAIL_URL=smtp://... and smtps://... send through this backend."""

    @property
    def connection_class(self):
        return PipeliningSMTPSSL if self.use_ssl else PipeliningSMTP
