"""Field types the API's request bodies share."""

from typing import Annotated

from pydantic import Field

DecimalText = Annotated[
    str,
    Field(pattern=r"^\d+(\.\d+)?$", examples=["100", "10.25"],
          description="an exact positive decimal, as a string"),
]  # fmt: skip
"""Prices and quantities: exact decimals as JSON strings (a JSON number passes through a
binary float first)."""
