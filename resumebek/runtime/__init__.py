"""The actor runtime: supervisor, mailboxes, control socket. Knows nothing about resumes."""

from resumebek.runtime.clock import SystemClock
from resumebek.runtime.mailbox import Address, Mailbox, MailboxStats

__all__ = ["Address", "Mailbox", "MailboxStats", "SystemClock"]
