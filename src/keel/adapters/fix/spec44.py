"""FIX 4.4 tables: the fields, header, trailer and messages Keel speaks in 4.4.

Tags, names, types, required flags and enumerations are those of the FIX 4.4 specification
as QuickFIX's FIX44.xml carries them, cut down to the session messages and an OMS's order
flow. Fields of a message that Keel does not use are left out; a peer that sends one gets a
Reject naming it (373=2 or 3), except user-defined tags of 5000 and up.
"""

from __future__ import annotations

from keel.adapters.fix.definitions import FieldType, define, group, message, req, section

T = FieldType

MSG_TYPES = (
    "0 1 2 3 4 5 6 7 8 9 A B C D E F G H J K L M N P Q R S T V W X Y Z "
    "a b c d e f g h i j k l m n o p q r s t u v w x y z "
    "AA AB AC AD AE AF AG AH AI AJ AK AL AM AN AO AP AQ AR AS AT AU AV AW AX AY AZ "
    "BA BB BC BD BE BF BG BH"
)
"""Every MsgType FIX 4.4 defines, supported here or not."""

# fmt: off
FIELDS = (
    define(1, "Account", T.STRING),
    define(6, "AvgPx", T.PRICE),
    define(7, "BeginSeqNo", T.SEQNUM),
    define(8, "BeginString", T.STRING),
    define(9, "BodyLength", T.LENGTH),
    define(10, "CheckSum", T.STRING),
    define(11, "ClOrdID", T.STRING),
    define(14, "CumQty", T.QTY),
    define(15, "Currency", T.CURRENCY),
    define(16, "EndSeqNo", T.SEQNUM),
    define(17, "ExecID", T.STRING),
    define(
        18, "ExecInst", T.MULTIPLEVALUESTRING,
        "0 1 2 3 4 5 6 7 8 9 A B C D E F G H I J K L M N O P Q R S U V W X Y Z a b c d e",
    ),
    define(19, "ExecRefID", T.STRING),
    define(21, "HandlInst", T.CHAR, "1 2 3"),
    define(22, "SecurityIDSource", T.STRING, "1 2 3 4 5 6 7 8 9 A B C D E F G H I J"),
    define(29, "LastCapacity", T.CHAR, "1 2 3 4"),
    define(30, "LastMkt", T.EXCHANGE),
    define(31, "LastPx", T.PRICE),
    define(32, "LastQty", T.QTY),
    define(34, "MsgSeqNum", T.SEQNUM),
    define(35, "MsgType", T.STRING, MSG_TYPES),
    define(36, "NewSeqNo", T.SEQNUM),
    define(37, "OrderID", T.STRING),
    define(38, "OrderQty", T.QTY),
    define(39, "OrdStatus", T.CHAR, "0 1 2 3 4 6 7 8 9 A B C D E"),  # 5=Replaced retired in 4.4
    define(40, "OrdType", T.CHAR, "1 2 3 4 5 6 7 8 9 A B C D E F G H I J K L M P"),
    define(41, "OrigClOrdID", T.STRING),
    define(43, "PossDupFlag", T.BOOLEAN),
    define(44, "Price", T.PRICE),
    define(45, "RefSeqNum", T.SEQNUM),
    define(48, "SecurityID", T.STRING),
    define(49, "SenderCompID", T.STRING),
    define(50, "SenderSubID", T.STRING),
    define(52, "SendingTime", T.UTCTIMESTAMP),
    define(54, "Side", T.CHAR, "1 2 3 4 5 6 7 8 9 A B C D E F G"),
    define(55, "Symbol", T.STRING),
    define(56, "TargetCompID", T.STRING),
    define(57, "TargetSubID", T.STRING),
    define(58, "Text", T.STRING),
    define(59, "TimeInForce", T.CHAR, "0 1 2 3 4 5 6 7"),
    define(60, "TransactTime", T.UTCTIMESTAMP),
    define(63, "SettlType", T.CHAR, "0 1 2 3 4 5 6 7 8 9"),
    define(64, "SettlDate", T.LOCALMKTDATE),
    define(75, "TradeDate", T.LOCALMKTDATE),
    define(89, "Signature", T.DATA),
    define(93, "SignatureLength", T.LENGTH),
    define(95, "RawDataLength", T.LENGTH),
    define(96, "RawData", T.DATA),
    define(97, "PossResend", T.BOOLEAN),
    define(98, "EncryptMethod", T.INT, "0 1 2 3 4 5 6"),
    define(99, "StopPx", T.PRICE),
    define(100, "ExDestination", T.EXCHANGE),
    define(102, "CxlRejReason", T.INT, "0 1 2 3 4 5 6 99"),
    define(103, "OrdRejReason", T.INT, "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 99"),
    define(108, "HeartBtInt", T.INT),
    define(110, "MinQty", T.QTY),
    define(111, "MaxFloor", T.QTY),
    define(112, "TestReqID", T.STRING),
    define(115, "OnBehalfOfCompID", T.STRING),
    define(116, "OnBehalfOfSubID", T.STRING),
    define(122, "OrigSendingTime", T.UTCTIMESTAMP),
    define(123, "GapFillFlag", T.BOOLEAN),
    define(126, "ExpireTime", T.UTCTIMESTAMP),
    define(128, "DeliverToCompID", T.STRING),
    define(129, "DeliverToSubID", T.STRING),
    define(141, "ResetSeqNumFlag", T.BOOLEAN),
    define(142, "SenderLocationID", T.STRING),
    define(143, "TargetLocationID", T.STRING),
    define(144, "OnBehalfOfLocationID", T.STRING),
    define(145, "DeliverToLocationID", T.STRING),
    define(150, "ExecType", T.CHAR, "0 3 4 5 6 7 8 9 A B C D E F G H I"),
    define(151, "LeavesQty", T.QTY),
    define(198, "SecondaryOrderID", T.STRING),
    define(210, "MaxShow", T.QTY),
    define(369, "LastMsgSeqNumProcessed", T.SEQNUM),
    define(371, "RefTagID", T.INT),
    define(372, "RefMsgType", T.STRING),
    define(
        373, "SessionRejectReason", T.INT,
        "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 99",
    ),
    define(378, "ExecRestatementReason", T.INT, "0 1 2 3 4 5 6 7 8 9 10 99"),
    define(379, "BusinessRejectRefID", T.STRING),
    define(380, "BusinessRejectReason", T.INT, "0 1 2 3 4 5 6 7"),
    define(383, "MaxMessageSize", T.LENGTH),
    define(384, "NoMsgTypes", T.NUMINGROUP),
    define(385, "MsgDirection", T.CHAR, "R S"),
    define(432, "ExpireDate", T.LOCALMKTDATE),
    define(434, "CxlRejResponseTo", T.CHAR, "1 2"),
    define(447, "PartyIDSource", T.CHAR, "1 2 3 4 5 6 7 8 9 A B C D E F G H I"),
    define(448, "PartyID", T.STRING),
    define(
        452, "PartyRole", T.INT,
        "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 "
        "24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39",
    ),
    define(453, "NoPartyIDs", T.NUMINGROUP),
    define(464, "TestMessageIndicator", T.BOOLEAN),
    define(523, "PartySubID", T.STRING),
    define(528, "OrderCapacity", T.CHAR, "A G I P R W"),
    define(553, "Username", T.STRING),
    define(554, "Password", T.STRING),
    define(584, "MassStatusReqID", T.STRING),
    define(585, "MassStatusReqType", T.INT, "1 2 3 4 5 6 7 8"),
    define(789, "NextExpectedMsgSeqNum", T.SEQNUM),
    define(802, "NoPartySubIDs", T.NUMINGROUP),
    define(803, "PartySubIDType", T.INT),  # open-ended: 4000+ are bilateral
    define(851, "LastLiquidityInd", T.INT, "1 2 3"),
    define(911, "TotNumReports", T.INT),
    define(912, "LastRptRequested", T.BOOLEAN),
)

HEADER = section(
    req(8), req(9), req(35), req(49), req(56), 115, 128, req(34), 50, 142, 57, 143,
    116, 144, 129, 145, 43, 97, req(52), 122, 369,
)
TRAILER = section(93, 89, req(10))

PARTIES = group(453, 448, 447, 452, group(802, 523, 803))
"""The Parties component: who executed, cleared, originated, ..."""
INSTRUMENT = (55, 48, 22)
"""The Instrument component, as far as Keel identifies instruments."""

MESSAGES = (
    message("0", "Heartbeat", 112, admin=True),
    message("1", "TestRequest", req(112), admin=True),
    message("2", "ResendRequest", req(7), req(16), admin=True),
    message("3", "Reject", req(45), 371, 372, 373, 58, admin=True),
    message("4", "SequenceReset", 123, req(36), admin=True),
    message("5", "Logout", 58, admin=True),
    message(
        "A", "Logon", req(98), req(108), 95, 96, 141, 789, 383, group(384, 372, 385), 464,
        553, 554, admin=True,
    ),
    message(
        "D", "NewOrderSingle", req(11), PARTIES, 75, 1, 63, 64, 21, 18, 110, 111, 100,
        *INSTRUMENT, req(54), req(60), 38, req(40), 44, 99, 15, 59, 432, 126, 528, 58, 210,
    ),
    message(
        "F", "OrderCancelRequest", req(41), 37, req(11), 1, PARTIES, *INSTRUMENT, req(54),
        req(60), 38, 58,
    ),
    message(
        "G", "OrderCancelReplaceRequest", 37, PARTIES, 75, req(41), req(11), 1, 63, 64, 21,
        18, 110, 111, 100, *INSTRUMENT, req(54), req(60), 38, req(40), 44, 99, 15, 59, 432,
        126, 528, 58, 210,
    ),
    message("H", "OrderStatusRequest", 37, req(11), PARTIES, 1, *INSTRUMENT, req(54)),
    message(
        "8", "ExecutionReport", req(37), 198, 11, 41, 584, PARTIES, req(17), 19, req(150),
        req(39), 103, 378, 1, 63, 64, *INSTRUMENT, req(54), 38, 40, 44, 99, 15, 59, 432, 126,
        18, 528, 32, 31, 30, 29, req(151), req(14), req(6), 75, 60, 21, 110, 111, 210, 58,
        851, 911, 912,
    ),
    message(
        "9", "OrderCancelReject", req(37), 198, req(11), req(41), req(39), 1, 75, 60,
        req(434), 102, 58,
    ),
    message("j", "BusinessMessageReject", 45, req(372), 379, req(380), 58),
    message(
        "AF", "OrderMassStatusRequest", req(584), req(585), PARTIES, 1, *INSTRUMENT, 54
    ),
)
# fmt: on
