"""Broker statement files: versioned column mappings, and streaming parsing into
``keel.domain.recon.BrokerFill`` values with every bad line reported.

Errors are in ``errors``, rooted at ``KeelError``.
"""

from keel.adapters.statements.errors import (
    StatementError,
    StatementFileError,
    StatementLineError,
    StatementMappingError,
    StatementRejectedError,
)
from keel.adapters.statements.mapping import (
    DEFAULT_SIDES,
    FIELDS,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    BrokerMappings,
    StatementMapping,
    broker_mappings,
    mapping_from_dict,
    mappings_from_config,
)
from keel.adapters.statements.reader import ParsedStatement, StatementFile, read_statement

__all__ = [
    "DEFAULT_SIDES",
    "FIELDS",
    "OPTIONAL_FIELDS",
    "REQUIRED_FIELDS",
    "BrokerMappings",
    "ParsedStatement",
    "StatementError",
    "StatementFile",
    "StatementFileError",
    "StatementLineError",
    "StatementMapping",
    "StatementMappingError",
    "StatementRejectedError",
    "broker_mappings",
    "mapping_from_dict",
    "mappings_from_config",
    "read_statement",
]
