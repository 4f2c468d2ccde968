"""The actor runtime: supervisor, mailboxes, control socket. Knows nothing about resumes."""

from resumebek.runtime.clock import SystemClock
from resumebek.runtime.mailbox import Address, Mailbox, MailboxStats
from resumebek.runtime.supervisor import ActorStatus, Supervisor

__all__ = ["ActorStatus", "Address", "Mailbox", "MailboxStats", "Supervisor", "SystemClock"]
