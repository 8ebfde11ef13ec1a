"""The statement reader a Keel process gives its ``Reconciler``: configured mappings, read
into the application's ``Statement``, every bad line named."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from keel.adapters.statements.errors import StatementError, StatementRejectedError
from keel.adapters.statements.mapping import BrokerMappings
from keel.adapters.statements.reader import read_statement
from keel.app.recon import ReconInputError, Statement, StatementReader


def statement_reader(mappings: Mapping[str, BrokerMappings]) -> StatementReader:
    """Return a reader of statements in the formats ``mappings`` give, by broker."""

    def read(broker: str, path: Path, trade_date: date | None) -> Statement:
        versions = mappings.get(broker)
        if versions is None:
            raise ReconInputError(f"no statement format is configured for broker {broker!r}")
        try:
            content = path.read_bytes()
        except OSError as e:
            raise ReconInputError(f"{path}: cannot read the statement: {e.strerror}") from e
        try:
            parsed = read_statement(path, versions, trade_date=trade_date, name=path.name)
            parsed.raise_for_errors()
        except StatementRejectedError as e:
            problems = [str(error) for error in e.errors]
            raise ReconInputError(f"{path.name}: {len(problems)} bad line(s)", problems) from e
        except StatementError as e:
            raise ReconInputError(str(e)) from e
        return Statement(path.name, content, parsed.mapping.version, parsed.fills, parsed.lines)

    return read
