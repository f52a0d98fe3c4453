import smtplib

import pytest
from django.core.mail import EmailMessage, get_connection

from config.env import SMTP_BACKEND
from tests.notifications.servers import start_smtp


@pytest.fixture
def server(request, settings):
    controller, recorder = start_smtp(pipelining=request.param)
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield recorder
    controller.stop()


@pytest.fixture
def writes(monkeypatch) -> list[bytes]:
    """Every write the SMTP client makes (the real writes, counted on the way)."""
    sent: list[bytes] = []
    real_send = smtplib.SMTP.send

    def send(self, data):
        sent.append(data if isinstance(data, bytes) else data.encode())
        return real_send(self, data)

    monkeypatch.setattr(smtplib.SMTP, "send", send)
    return sent


def _mails(*recipients: str) -> list[EmailMessage]:
    body = "Line one\n.a line that starts with a dot\n..two dots\n"
    return [EmailMessage(f"Update {i}", body, "vigil@example.com", [to]) for i, to in enumerate(recipients)]


def _send(mails) -> int:
    with get_connection(SMTP_BACKEND, fail_silently=False) as connection:
        return connection.send_messages(mails)


@pytest.mark.parametrize("server", [True], indirect=True)
def test_it_sends_the_envelope_in_one_write_when_the_server_pipelines(server, writes):
    assert _send(_mails("a@example.com", "b@example.com")) == 2
    envelopes = [w for w in writes if w.lower().startswith(b"mail from")]
    assert len(envelopes) == 2
    assert all(
        w.lower().count(b"\r\nrcpt to:") == 1 and w.lower().endswith(b"\r\ndata\r\n") for w in envelopes
    )
    assert server.recipients() == ["a@example.com", "b@example.com"]


@pytest.mark.parametrize("server", [True, False], indirect=True)
def test_it_delivers_the_body_intact_with_or_without_pipelining(server, writes):
    _send(_mails("a@example.com"))
    (message,) = server.messages
    assert message["Subject"] == "Update 0"
    assert (
        message.get_content().replace("\r\n", "\n")
        == "Line one\n.a line that starts with a dot\n..two dots\n"
    )


@pytest.mark.parametrize("server", [False], indirect=True)
def test_it_sends_command_by_command_to_a_server_that_does_not_pipeline(server, writes):
    _send(_mails("a@example.com"))
    commands = [w.split(b" ")[0].strip().lower() for w in writes if len(w) < 200]
    assert commands[:4] == [b"ehlo", b"mail", b"rcpt", b"data"]


@pytest.mark.parametrize("server", [True], indirect=True)
@pytest.mark.parametrize("recipient, code", [("reject@example.com", 550), ("later@example.com", 450)])
def test_it_raises_what_smtplib_raises_for_a_refused_recipient_and_keeps_the_connection(
    server, recipient, code
):
    with get_connection(SMTP_BACKEND, fail_silently=False) as connection:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            connection.send_messages(_mails(recipient))
        assert refused.value.recipients[recipient][0] == code
        assert connection.send_messages(_mails("fine@example.com")) == 1
    assert server.recipients() == ["fine@example.com"]


@pytest.mark.parametrize("server", [True], indirect=True)
def test_it_delivers_to_the_accepted_recipients_of_a_mail_to_several(server):
    mail = EmailMessage("Update", "Body\n", "vigil@example.com", ["ok@example.com", "reject@example.com"])
    assert _send([mail]) == 1
    assert server.recipients() == ["ok@example.com"]
