"""Channels that carry a notification to a person: e-mail (SMTP), an SMS gateway (an HTTP webhook), a folder.

A channel takes one :class:`Outgoing` message and either delivers it or raises :class:`DeliveryFailed`,
saying whether trying again later may help (``transient``). The dispatcher (``notifications.service``)
records every attempt and retries transient failures with backoff.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from openbureau.kit.crypto import mask
from openbureau.kit.errors import BureauError
from openbureau.kit.settings import Settings
from openbureau.notifications.errors import CHANNEL_NOT_CONFIGURED

if TYPE_CHECKING:  # imported where a message is sent: every process that stores a notice imports this module
    import httpx


@dataclass(frozen=True, slots=True)
class Contact:
    """Where a person is reached: a mobile number (``phone``) or an e-mail address (``email``)."""

    kind: str
    address: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message ready to leave: its outbox id (an idempotency key for gateways), recipient and text."""

    id: int
    kind: str
    recipient: Contact
    subject: str
    body: str
    created_at: datetime


class DeliveryFailed(Exception):
    """A channel could not deliver; ``transient`` when a later try may succeed. The message names no
    address and no text (it is stored with the attempt)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message[:200])
        self.transient = transient


class Channel(Protocol):
    """Something that delivers a message (raises :class:`DeliveryFailed` when it cannot)."""

    name: str

    def deliver(self, message: Outgoing) -> None: ...


class FileChannel:
    """The demo's channel: each message becomes a file ``<id>.json`` in a folder of the data directory.

    The file holds what the person must read (the text, which carries no identity number and no name) and
    the recipient masked (``138******00``), so that a demo user finds their own message and the folder holds
    no clear identifier; files are the bureau user's alone (0600). Not for production: the person is
    reached only by someone reading the folder.
    """

    name = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def deliver(self, message: Outgoing) -> None:
        """Write the message's file (again, the same content, on a retry); a full or unwritable disk is a
        transient failure."""
        content = {"id": message.id, "kind": message.kind, "to": mask(message.recipient.address),
                   "channel": message.recipient.kind, "subject": message.subject, "body": message.body,
                   "created_at": message.created_at.isoformat()}
        path = self.folder / f"{message.id}.json"
        temporary = path.with_suffix(".tmp")
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(content, out, ensure_ascii=False, indent=1)
            temporary.replace(path)
        except OSError as exc:
            raise DeliveryFailed(f"the notifications folder is not writable: {type(exc).__name__}",
                                 transient=True) from None


class SmtpChannel:
    """E-mail through an SMTP server (the standard library's ``smtplib``), STARTTLS when asked.

    A phone number is reached through an e-mail-to-SMS gateway when ``sms_domain`` is set
    (``13800138000@sms.example``); otherwise a message to a phone fails for good.
    """

    name = "smtp"

    def __init__(self, *, host: str, port: int, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False, sms_domain: str | None = None,
                 timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls
        self.sms_domain, self.timeout = sms_domain, timeout

    def _address(self, contact: Contact) -> str:
        if contact.kind == "email":
            return contact.address
        if self.sms_domain:
            return f"{''.join(c for c in contact.address if c.isdigit())}@{self.sms_domain}"
        raise DeliveryFailed("the SMTP channel reaches phones only through OPENBUREAU_SMTP_SMS_DOMAIN, "
                             "which is not set", transient=False)

    def deliver(self, message: Outgoing) -> None:
        """Send one e-mail; connection and 4xx answers are transient, 5xx refusals permanent."""
        email = EmailMessage()
        email["From"], email["To"] = self.sender, self._address(message.recipient)
        email["Subject"] = message.subject
        email["Message-ID"] = f"<notification-{message.id}@openbureau>"
        email.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP server answered {exc.smtp_code}", transient=exc.smtp_code < 500) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryFailed(f"SMTP server refused the recipient ({codes})",
                                 transient=all(c < 500 for c in codes)) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP server unreachable: {type(exc).__name__}", transient=True) from None


class WebhookChannel:
    """An SMS gateway reached by an HTTP webhook (httpx): ``POST url`` with JSON ``{id, to, kind, text}``.

    The message id travels as ``Idempotency-Key`` too, so a gateway that honours it sends a retried message
    once. 2xx: delivered; 429, 5xx and network errors: transient; any other answer: permanent.
    """

    name = "sms"

    def __init__(self, *, url: str, token: str | None = None, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url, self.token, self.timeout, self.transport = url, token, timeout, transport

    def deliver(self, message: Outgoing) -> None:
        """Post one message to the gateway."""
        import httpx

        headers = {"Idempotency-Key": f"openbureau-{message.id}"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        text = f"{message.subject}: {message.body}"
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                answer = client.post(self.url, headers=headers, json={
                    "id": message.id, "to": message.recipient.address, "kind": message.kind, "text": text})
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"SMS gateway unreachable: {type(exc).__name__}", transient=True) from None
        if answer.is_success:
            return
        raise DeliveryFailed(f"SMS gateway answered {answer.status_code}",
                             transient=answer.status_code == 429 or answer.status_code >= 500)


def channel_from_settings(settings: Settings) -> Channel:
    """The channel the settings choose (``OPENBUREAU_NOTIFY_CHANNEL``: file, smtp or sms)."""
    if settings.notify_channel == "file":
        return FileChannel(settings.resolved_notify_dir)
    if settings.notify_channel == "smtp":
        if not settings.smtp_host or not settings.smtp_sender:
            raise BureauError("OPENBUREAU_SMTP_HOST and OPENBUREAU_SMTP_SENDER must be set for the smtp channel",
                              code=CHANNEL_NOT_CONFIGURED)
        return SmtpChannel(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
                           username=settings.smtp_username,
                           password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                           starttls=settings.smtp_starttls, sms_domain=settings.smtp_sms_domain)
    if not settings.sms_webhook_url:
        raise BureauError("OPENBUREAU_SMS_WEBHOOK_URL must be set for the sms channel", code=CHANNEL_NOT_CONFIGURED)
    return WebhookChannel(url=settings.sms_webhook_url,
                          token=settings.sms_webhook_token.get_secret_value() if settings.sms_webhook_token else None)
