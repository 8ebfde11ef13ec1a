"""Errors of the FIX adapter, rooted at ``KeelError``.

    KeelError (keel.domain.errors)
    └── FixError                 a FIX problem: unknown version, bad dictionary, ...
        ├── GarbledMessageError  the framing is broken; a session ignores the message and
        │                        does not consume its sequence number
        └── FixFieldError        the message frames but a field is bad; a session answers
                                 with Reject (35=3) carrying 45, 371, 372, 373 and 58

``SessionRejectReason`` holds the FIX tag 373 codes that ``FixFieldError`` carries.
"""

from __future__ import annotations

from enum import IntEnum

from keel.domain.errors import KeelError


class SessionRejectReason(IntEnum):
    """SessionRejectReason (tag 373) codes, as the FIX specification numbers them."""

    INVALID_TAG_NUMBER = 0
    REQUIRED_TAG_MISSING = 1
    TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE = 2
    UNDEFINED_TAG = 3
    TAG_SPECIFIED_WITHOUT_A_VALUE = 4
    VALUE_IS_INCORRECT = 5
    INCORRECT_DATA_FORMAT_FOR_VALUE = 6
    DECRYPTION_PROBLEM = 7
    SIGNATURE_PROBLEM = 8
    COMPID_PROBLEM = 9
    SENDINGTIME_ACCURACY_PROBLEM = 10
    INVALID_MSGTYPE = 11
    XML_VALIDATION_ERROR = 12  # FIX 4.4 on
    TAG_APPEARS_MORE_THAN_ONCE = 13  # FIX 4.4 on
    TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER = 14  # FIX 4.4 on
    REPEATING_GROUP_FIELDS_OUT_OF_ORDER = 15  # FIX 4.4 on
    INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP = 16  # FIX 4.4 on
    NON_DATA_VALUE_INCLUDES_FIELD_DELIMITER = 17  # FIX 4.4 on
    OTHER = 99  # FIX 4.4 on


class FixError(KeelError):
    """Root of the FIX adapter's errors."""


class GarbledMessageError(FixError):
    """Bytes that do not frame as one FIX message; ``raw`` keeps them as evidence.

    BeginString not first, BodyLength not second or not matching, CheckSum missing, wrong
    or not last, or no ``tag=value<SOH>`` structure at all. A FIX session ignores such a
    message without consuming a sequence number, so this carries no reject reason.
    """

    def __init__(self, reason: str, raw: bytes = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


class FixFieldError(FixError):
    """A message that frames correctly but has a bad field.

    Carries what a session needs to send Reject (35=3): the tag (371), the reason in plain
    words (58), the SessionRejectReason code (373), and, when known, the message's MsgType
    (372) and MsgSeqNum (45).
    """

    def __init__(
        self,
        tag: int | None,
        reason: str,
        session_reject_reason: int = SessionRejectReason.OTHER,
        msg_type: str | None = None,
        seq_num: int | None = None,
    ) -> None:
        where = f"tag {tag}" if tag is not None else "message"
        context = f" in {msg_type!r}" if msg_type is not None else ""
        if seq_num is not None:
            context += f" #{seq_num}"
        super().__init__(f"{where}{context}: {reason} (373={int(session_reject_reason)})")
        self.tag = tag
        self.reason = reason
        self.session_reject_reason = int(session_reject_reason)
        self.msg_type = msg_type
        self.seq_num = seq_num
