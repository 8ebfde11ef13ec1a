"""Write a Keel data dictionary as a QuickFIX DataDictionary XML document.

Tests and benchmarks give the document to QuickFIX (a test-only peer, never imported under
``src/``) so that both engines validate by the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import quoteattr

from keel.adapters.fix.definitions import FieldDef, GroupDef, MessageDef, Section


def dictionary_xml(
    begin_string: str,
    fields: Mapping[int, FieldDef],
    header: Section,
    trailer: Section,
    messages: Mapping[str, MessageDef],
) -> str:
    """Return the XML QuickFIX reads with ``DataDictionary(path)``."""
    kind, major, minor = begin_string.split(".")
    lines = [f'<fix type="{kind}" major="{major}" minor="{minor}" servicepack="0">', " <header>"]
    lines += _members(fields, header.fields, header.required, {}, "  ")
    lines += [" </header>", " <messages>"]
    for definition in messages.values():
        category = "admin" if definition.admin else "app"
        lines.append(
            f"  <message name={quoteattr(definition.name)} msgtype="
            f"{quoteattr(definition.msg_type)} msgcat={quoteattr(category)}>"
        )
        lines += _members(fields, definition.fields, definition.required, definition.groups, "   ")
        lines.append("  </message>")
    lines += [" </messages>", " <trailer>"]
    lines += _members(fields, trailer.fields, trailer.required, {}, "  ")
    lines += [" </trailer>", " <components/>", " <fields>"]
    for tag in sorted(fields):
        field = fields[tag]
        opening = (
            f"  <field number={quoteattr(str(tag))} name={quoteattr(field.name)} "
            f"type={quoteattr(field.type.value)}"
        )
        if field.values is None:
            lines.append(opening + "/>")
            continue
        lines.append(opening + ">")
        for value in sorted(field.values):
            lines.append(
                f"   <value enum={quoteattr(value)} description={quoteattr('VALUE_' + value)}/>"
            )
        lines.append("  </field>")
    lines += [" </fields>", "</fix>", ""]
    return "\n".join(lines)


def _members(
    fields: Mapping[int, FieldDef],
    tags: tuple[int, ...],
    required: frozenset[int],
    groups: Mapping[int, GroupDef],
    indent: str,
) -> list[str]:
    lines = []
    for tag in tags:
        flag = quoteattr("Y" if tag in required else "N")
        name = quoteattr(fields[tag].name)
        nested = groups.get(tag)
        if nested is None:
            lines.append(f"{indent}<field name={name} required={flag}/>")
            continue
        lines.append(f"{indent}<group name={name} required={flag}>")
        lines += _members(fields, nested.fields, nested.required, nested.groups, indent + " ")
        lines.append(f"{indent}</group>")
    return lines
