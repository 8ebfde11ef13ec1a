"""Event stores: the event log and the current-state tables, behind ``keel.app.ports.EventStore``.

- ``memory.MemoryStore``: pure Python, for unit tests; same semantics as the others.
- ``sqlite.SqliteStore``: the embedded default, one WAL file, ``synchronous=FULL``.
- ``postgres.PostgresStore``: the production store (psycopg 3).

``schema`` holds the versioned migrations; ``tables`` describes every table once from the
row types of ``keel.app.records``; ``values`` converts Python values to and from columns;
``sql`` builds the statements both SQL stores share and ``sqlbase`` the reads they share.
The one contract suite in ``tests/integration/store`` runs against all three.

Import the store you need from its module: importing this package loads no driver.
"""
