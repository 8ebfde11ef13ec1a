"""Keel's FIX adapter: FIX 4.2 and 4.4 over TCP.

- ``message``: ``FixMessage``, one message's fields in wire order, with typed accessors.
- ``codec``: ``parse`` and ``encode`` for tag=value bytes (BodyLength, CheckSum), and the
  ``Framer`` that cuts a TCP byte stream into whole messages.
- ``dictionary``: the FIX 4.2 and 4.4 data dictionaries that validate a message and name the
  SessionRejectReason for each fault.
- the session engine (logon, heartbeats, gaps and resends) and the gateways that map FIX to
  Keel's orders per counterparty.

Errors are in ``errors``, rooted at ``KeelError``.
"""
