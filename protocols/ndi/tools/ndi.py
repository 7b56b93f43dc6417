#!/usr/bin/env python3
"""NDI combined API (Aurora, Polaris) reference implementation in Python, written from
protocols/ndi/README.md.

Independent of the Swift code (Sources/Wire/NDI) and of NDI's or ndicapi's code on purpose: it
generates the test vectors that the Swift codec and the simulator are checked against. Standard
library only. "README §n" names a section of protocols/ndi/README.md.

What is here:
  crc16()                    the CRC-16 NDI appends to commands and replies (README §3.2)
  encode_command()           a host command line: colon form with CRC, space form, or bare (README §3.1)
  CommandParser              the device's receiver: lines -> commands or rejections (README §8.2)
  encode_ascii_reply()       a device's ASCII reply: text + CRC + CR (README §4)
  encode_bx() / parse_bx_body()   the binary BX reply, reply option 0x0001 (README §6)
  ReplyDecoder               the host's receiver: bytes -> ASCII replies, BX replies, rejections (README §8.1)
  format_tx_handle()         one handle of a TX (ASCII) reply, for the simulator (README §7)
"""
import struct

CR = 0x0D
LF = 0x0A

# --------------------------------------------------------------------------------------- README §3.2

CRC_POLYNOMIAL_REFLECTED = 0xA001   # x^16 + x^15 + x^2 + 1 (0x8005), bit-reversed: shifted out LSB first


def crc16(data: bytes, value: int = 0) -> int:
    """CRC-16 as NDI computes it: poly 0x8005 reflected, init 0, no final XOR (CRC-16/ARC).

    Written bit by bit from the polynomial, not from NDI's odd-parity formulation, so that the two
    can be compared (README §3.2 shows they agree on every worked example).
    """
    for byte in data:
        value ^= byte
        for _ in range(8):
            value = (value >> 1) ^ CRC_POLYNOMIAL_REFLECTED if value & 1 else value >> 1
    return value & 0xFFFF


def crc_hex(data: bytes) -> bytes:
    """The CRC as NDI writes it in ASCII: four upper-case hex digits."""
    return b"%04X" % crc16(data)


HEX_DIGITS = b"0123456789ABCDEFabcdef"


def is_hex(text: bytes) -> bool:
    return len(text) > 0 and all(c in HEX_DIGITS for c in text)


# --------------------------------------------------------------------------------------- README §3.1

MAX_COMMAND_BYTES = 256          # a command line without its CR (README §3.1)
MAX_COMMAND_NAME_BYTES = 16
NAME_CHARACTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

FORMS = ("colon", "space", "bare")


def encode_command(name: str, parameters: str = "", form: str = "colon") -> bytes:
    """One command line, CR included.

    colon: NAME ':' parameters CRC CR   (CRC over NAME ':' parameters) -- what ndicapi sends
    space: NAME ' ' parameters CR       (no CRC)                        -- NDI's sample code, cisst
    bare:  NAME CR                      (no parameters, no CRC)
    """
    n = name.encode("ascii")
    p = parameters.encode("ascii")
    assert n and all(c in NAME_CHARACTERS for c in n) and len(n) <= MAX_COMMAND_NAME_BYTES, name
    assert all(0x20 <= c <= 0x7E for c in p), parameters
    if form == "colon":
        body = n + b":" + p
        line = body + crc_hex(body)
    elif form == "space":
        line = n + b" " + p
    elif form == "bare":
        assert not p, "a bare command has no parameters"
        line = n
    else:
        raise ValueError(form)
    assert len(line) <= MAX_COMMAND_BYTES, "command too long"
    return line + b"\r"


# Why the device refuses a line, and the ERROR code it answers with (README §4.2, §8.2).
COMMAND_REJECTIONS = {
    "invalid": 0x01,     # no command name, an unknown character after it, or a non-printable byte
    "too_long": 0x02,    # more than MAX_COMMAND_BYTES before the CR
    "too_short": 0x03,   # an empty line, or a colon form too short to hold its CRC
    "bad_crc": 0x04,     # a colon form whose last four characters are not the CRC of the rest
}


class CommandStatistics:
    FIELDS = ("bytes_received", "commands_decoded", "crc_errors", "oversize_lines", "malformed_lines",
              "discarded_bytes")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, 0)

    def as_dict(self):
        return {f: getattr(self, f) for f in self.FIELDS}


class CommandParser:
    """The device's receiver (README §8.2): bytes in, in any split; one result per CR.

    A result is ("command", {name, form, parameters, crc}) or ("rejected", {reason, error_code}).
    A LF at the start of a line is dropped (a host that ends lines with CR LF), counted as discarded.
    """

    def __init__(self):
        self.line = bytearray()
        self.line_bytes = 0          # bytes of the current line, also those beyond MAX_COMMAND_BYTES
        self.overflowed = False
        self.stats = CommandStatistics()

    def push(self, data: bytes):
        out = []
        for b in data:
            r = self.push_byte(b)
            if r is not None:
                out.append(r)
        return out

    def push_byte(self, b: int):
        s = self.stats
        s.bytes_received += 1
        if b == CR:
            count = self.line_bytes + 1
            line = bytes(self.line)
            overflowed = self.overflowed
            self.line = bytearray()
            self.line_bytes = 0
            self.overflowed = False
            if overflowed:
                s.oversize_lines += 1
                s.discarded_bytes += count
                return ("rejected", {"reason": "too_long", "error_code": COMMAND_REJECTIONS["too_long"]})
            result = parse_command_line(line)
            if result[0] == "command":
                s.commands_decoded += 1
            else:
                reason = result[1]["reason"]
                if reason == "bad_crc":
                    s.crc_errors += 1
                else:
                    s.malformed_lines += 1
                s.discarded_bytes += count
            return result
        if b == LF and self.line_bytes == 0:
            s.discarded_bytes += 1
            return None
        self.line_bytes += 1
        if len(self.line) < MAX_COMMAND_BYTES:
            self.line.append(b)
        else:
            self.overflowed = True
        return None


def _rejected(reason):
    return ("rejected", {"reason": reason, "error_code": COMMAND_REJECTIONS[reason]})


def parse_command_line(line: bytes):
    """One line without its CR (README §8.2 steps 3-6)."""
    if not line:
        return _rejected("too_short")
    if any(not (0x20 <= c <= 0x7E) for c in line):
        return _rejected("invalid")
    end = 0
    while end < len(line) and line[end] in NAME_CHARACTERS:
        end += 1
    name = line[:end]
    if not name or len(name) > MAX_COMMAND_NAME_BYTES:
        return _rejected("invalid")
    rest = line[end:]
    if not rest:
        return ("command", {"name": name.decode(), "form": "bare", "parameters": "", "crc": None})
    if rest[0:1] == b" ":
        return ("command", {"name": name.decode(), "form": "space", "parameters": rest[1:].decode(), "crc": None})
    if rest[0:1] == b":":
        after = rest[1:]
        if len(after) < 4:
            return _rejected("too_short")
        crc_text = after[-4:]
        if not is_hex(crc_text) or int(crc_text, 16) != crc16(line[:-4]):
            return _rejected("bad_crc")
        return ("command", {"name": name.decode(), "form": "colon", "parameters": after[:-4].decode(),
                            "crc": int(crc_text, 16)})
    return _rejected("invalid")


# --------------------------------------------------------------------------------------- README §4

MAX_REPLY_TEXT_BYTES = 1024      # the longest ASCII reply text (without CRC and CR) accepted (README §4.1)
MAX_ASCII_LINE_BYTES = MAX_REPLY_TEXT_BYTES + 4


def is_reply_character(c: int) -> bool:
    """Bytes an ASCII reply's text and CRC consist of: printable ASCII, and LF between lines."""
    return 0x20 <= c <= 0x7E or c == LF


def encode_ascii_reply(text: str) -> bytes:
    t = text.encode("ascii")
    assert 1 <= len(t) <= MAX_REPLY_TEXT_BYTES and all(is_reply_character(c) for c in t), text
    return t + crc_hex(t) + b"\r"


ERROR_MEANINGS = {   # README §4.2, from NDI's sample code and ndicapi.h
    0x01: "invalid command", 0x02: "command too long", 0x03: "command too short",
    0x04: "invalid CRC calculated for command", 0x05: "time-out on command execution",
    0x06: "unable to set up new communication parameters", 0x07: "incorrect number of parameters",
    0x08: "invalid port handle selected", 0x09: "invalid tracking priority selected (must be S, D or B)",
    0x0A: "invalid LED selected", 0x0B: "invalid LED state selected",
    0x0C: "command is invalid while in the current operating mode",
    0x0D: "no tool is assigned to the selected port handle", 0x0E: "selected port handle not initialized",
    0x0F: "selected port handle not enabled", 0x10: "system not initialized", 0x11: "unable to stop tracking",
    0x12: "unable to start tracking", 0x13: "unable to initialize the tool in the port",
    0x23: "command parameter out of range", 0x28: "too many tools are enabled",
    0x2B: "requested port handle has not been allocated", 0x2C: "requested port handle is unoccupied",
    0x2D: "no more port handles available",
}


def classify(text: bytes):
    """What an ASCII reply's text is (README §4): okay, reset, error(code), warning(code), or data."""
    if text == b"OKAY":
        return {"kind": "okay"}
    if text == b"RESET":
        return {"kind": "reset"}
    if len(text) == 7 and text.startswith(b"ERROR") and is_hex(text[5:]):
        return {"kind": "error", "code": int(text[5:], 16)}
    if len(text) == 9 and text.startswith(b"WARNING") and is_hex(text[7:]):
        return {"kind": "warning", "code": int(text[7:], 16)}
    return {"kind": "data"}


# --------------------------------------------------------------------------------------- README §6

START_SEQUENCE = 0xA5C4                      # sent little-endian: C4 A5
START_BYTES = bytes([0xC4, 0xA5])
BX_HEADER_BYTES = 6                          # start sequence, reply length, header CRC
MAX_BX_REPLY_LENGTH = 1024                   # the largest reply length (body bytes) accepted (README §6.1)
MAX_BX_HANDLES = 8                           # the most handles one parsed BX reply holds (README §6.2)

HANDLE_STATUS = {0x01: "valid", 0x02: "missing", 0x04: "disabled"}
HANDLE_STATUS_BYTES = {v: k for k, v in HANDLE_STATUS.items()}

# Port status bits (README §6.3) and system status bits (README §6.4).
PORT_OCCUPIED, PORT_INITIALIZED, PORT_ENABLED = 0x01, 0x10, 0x20
PORT_OUT_OF_VOLUME, PORT_PARTIALLY_OUT_OF_VOLUME = 0x40, 0x80

F32 = struct.Struct("<f")


def f32(value: float) -> float:
    """The float32 nearest `value`, as a Python float (exact)."""
    return F32.unpack(F32.pack(value))[0]


def f32_bits(value: float) -> int:
    return struct.unpack("<I", F32.pack(value))[0]


def bits_f32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def handle_valid(handle, orientation_wxyz, position_mm, rms_error_mm, port_status, frame_number):
    return {"handle": handle, "status": "valid", "orientation_wxyz": [f32(v) for v in orientation_wxyz],
            "position_mm": [f32(v) for v in position_mm], "rms_error_mm": f32(rms_error_mm),
            "port_status": port_status, "frame_number": frame_number}


def handle_missing(handle, port_status, frame_number):
    return {"handle": handle, "status": "missing", "port_status": port_status, "frame_number": frame_number}


def handle_disabled(handle):
    return {"handle": handle, "status": "disabled"}


def encode_bx_body(handles, system_status: int) -> bytes:
    """The body of a BX reply to reply option 0x0001 (or 0x0801): README §6.2."""
    out = bytearray([len(handles)])
    for h in handles:
        out += bytes([h["handle"], HANDLE_STATUS_BYTES[h["status"]]])
        if h["status"] == "disabled":
            continue
        if h["status"] == "valid":
            for v in h["orientation_wxyz"] + h["position_mm"] + [h["rms_error_mm"]]:
                out += F32.pack(v)
        out += struct.pack("<II", h["port_status"], h["frame_number"])
    out += struct.pack("<H", system_status)
    return bytes(out)


def frame_bx(body: bytes) -> bytes:
    """Header, body and body CRC around a BX body (README §6.1)."""
    header = START_BYTES + struct.pack("<H", len(body))
    return header + struct.pack("<H", crc16(header)) + body + struct.pack("<H", crc16(body))


def encode_bx(handles, system_status: int = 0) -> bytes:
    return frame_bx(encode_bx_body(handles, system_status))


def parse_bx_body(body: bytes):
    """A BX body, reply option 0x0001: ("bx", {handles, system_status}) or ("rejected", {reason}).

    README §6.2 and §8.1 step 9: the layout is walked first (unknown_handle_status,
    layout_mismatch), then the handle count is checked against MAX_BX_HANDLES (too_many_handles),
    then every float must be finite (non_finite_value).
    """
    if len(body) < 1:
        return ("rejected", {"reason": "layout_mismatch"})
    count = body[0]
    pos = 1
    handles = []
    for _ in range(count):
        if pos + 2 > len(body):
            return ("rejected", {"reason": "layout_mismatch"})
        handle, status = body[pos], body[pos + 1]
        pos += 2
        if status not in HANDLE_STATUS:
            return ("rejected", {"reason": "unknown_handle_status"})
        name = HANDLE_STATUS[status]
        if name == "disabled":
            handles.append(handle_disabled(handle))
            continue
        floats = []
        if name == "valid":
            if pos + 32 > len(body):
                return ("rejected", {"reason": "layout_mismatch"})
            floats = [F32.unpack_from(body, pos + 4 * i)[0] for i in range(8)]
            pos += 32
        if pos + 8 > len(body):
            return ("rejected", {"reason": "layout_mismatch"})
        port_status, frame_number = struct.unpack_from("<II", body, pos)
        pos += 8
        if name == "valid":
            handles.append({"handle": handle, "status": "valid", "orientation_wxyz": floats[0:4],
                            "position_mm": floats[4:7], "rms_error_mm": floats[7],
                            "port_status": port_status, "frame_number": frame_number})
        else:
            handles.append(handle_missing(handle, port_status, frame_number))
    if pos + 2 != len(body):
        return ("rejected", {"reason": "layout_mismatch"})
    system_status = struct.unpack_from("<H", body, pos)[0]
    if count > MAX_BX_HANDLES:
        return ("rejected", {"reason": "too_many_handles"})
    for h in handles:
        if h["status"] == "valid":
            for v in h["orientation_wxyz"] + h["position_mm"] + [h["rms_error_mm"]]:
                if v != v or v in (float("inf"), float("-inf")):
                    return ("rejected", {"reason": "non_finite_value"})
    return ("bx", {"handles": handles, "system_status": system_status})


# --------------------------------------------------------------------------------------- README §7

def _tx_signed(value: float, digits: int, scale: float) -> str:
    """A TX field: sign and `digits` digits of value * scale, rounded (e.g. +07071 for 0.7071)."""
    n = int(round(value * scale))
    limit = 10 ** digits - 1
    n = max(-limit, min(limit, n))
    return ("-" if n < 0 else "+") + str(abs(n)).zfill(digits)


def format_tx_handle(h) -> str:
    """One handle of a TX reply to option 0x0001 (README §7), without the trailing LF."""
    text = "%02X" % h["handle"]
    if h["status"] == "disabled":
        # Unlike BX, TX still sends the port status and frame number of a disabled handle.
        text += "DISABLED"
    elif h["status"] == "missing":
        text += "MISSING"
    else:
        text += "".join(_tx_signed(v, 5, 1e4) for v in h["orientation_wxyz"])
        text += "".join(_tx_signed(v, 6, 1e2) for v in h["position_mm"])
        text += _tx_signed(h["rms_error_mm"], 5, 1e4)
    return text + "%08X%08X" % (h.get("port_status", 0), h.get("frame_number", 0))


def format_tx_reply(handles, system_status: int = 0) -> str:
    return "%02X" % len(handles) + "".join(format_tx_handle(h) + "\n" for h in handles) + "%04X" % system_status


# --------------------------------------------------------------------------------------- README §8.1

class ReplyStatistics:
    FIELDS = ("bytes_received", "replies_decoded", "crc_errors", "oversize_frames", "malformed_frames",
              "rejected_replies", "discarded_bytes")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, 0)

    def as_dict(self):
        return {f: getattr(self, f) for f in self.FIELDS}


class ReplyDecoder:
    """The host's receiver (README §8.1): bytes in, in any split, results out.

    `expecting` is "ascii" (after any command but BX) or "bx" (after BX: a binary reply, or an ASCII
    ERROR). A result is ("ascii", {text, crc}), ("bx", {...}) or ("rejected", {reason}).
    Every byte pushed ends up in exactly one of: a decoded reply, discarded_bytes, or the buffer.
    """

    def __init__(self, expecting: str = "ascii"):
        assert expecting in ("ascii", "bx")
        self.expecting = expecting
        self.buf = bytearray()
        self.skipping_line = False   # after an oversize ASCII line: drop reply characters until a CR
        self.stats = ReplyStatistics()

    def push(self, data: bytes):
        out = []
        for b in data:
            out += self.push_byte(b)
        return out

    def push_byte(self, b: int):
        s = self.stats
        s.bytes_received += 1
        if self.skipping_line:
            if b == CR:
                s.discarded_bytes += 1
                self.skipping_line = False
                return []
            if is_reply_character(b):
                s.discarded_bytes += 1
                return []
            self.skipping_line = False
        self.buf.append(b)
        return self._scan()

    def _discard(self, n: int):
        del self.buf[:n]
        self.stats.discarded_bytes += n

    def _scan(self):
        """README §8.1 steps 2-9, until the buffer is empty or holds the start of a reply."""
        out = []
        s = self.stats
        while self.buf:
            b0 = self.buf[0]
            if b0 == 0xC4:
                if len(self.buf) < 2:
                    return out
                if self.buf[1] != 0xA5:
                    self._discard(1)
                    continue
                if len(self.buf) < BX_HEADER_BYTES:
                    return out
                length = self.buf[2] | self.buf[3] << 8
                if crc16(bytes(self.buf[0:4])) != (self.buf[4] | self.buf[5] << 8):
                    s.crc_errors += 1
                    self._discard(1)
                    continue
                if length > MAX_BX_REPLY_LENGTH:
                    s.oversize_frames += 1
                    self._discard(1)
                    continue
                total = BX_HEADER_BYTES + length + 2
                if len(self.buf) < total:
                    return out
                body = bytes(self.buf[BX_HEADER_BYTES:BX_HEADER_BYTES + length])
                if crc16(body) != (self.buf[total - 2] | self.buf[total - 1] << 8):
                    s.crc_errors += 1
                    self._discard(1)
                    continue
                if self.expecting == "ascii":
                    result = ("rejected", {"reason": "unexpected_binary"})
                else:
                    result = parse_bx_body(body)
                if result[0] == "bx":
                    del self.buf[:total]
                    s.replies_decoded += 1
                else:
                    self._discard(total)
                    s.rejected_replies += 1
                out.append(result)
                continue
            if is_reply_character(b0):
                end = 0
                while end < len(self.buf) and is_reply_character(self.buf[end]):
                    end += 1
                if end == len(self.buf):
                    if end > MAX_ASCII_LINE_BYTES:
                        s.oversize_frames += 1
                        self._discard(end)
                        self.skipping_line = True
                    return out
                if self.buf[end] != CR:
                    self._discard(end)          # a run of text not ended by a CR: junk
                    continue
                line = bytes(self.buf[:end])
                if len(line) < 5 or not is_hex(line[-4:]):
                    s.malformed_frames += 1
                    self._discard(end + 1)
                    continue
                text, crc = line[:-4], int(line[-4:], 16)
                if crc16(text) != crc:
                    s.crc_errors += 1
                    self._discard(end + 1)
                    continue
                del self.buf[:end + 1]
                s.replies_decoded += 1
                out.append(("ascii", {"text": text.decode("ascii"), "crc": crc}))
                continue
            self._discard(1)
        return out

    def flush(self):
        """The end of an exchange (README §8.1 step 10): give up on what is still incomplete."""
        out = []
        s = self.stats
        while self.buf:
            b0 = self.buf[0]
            if b0 == 0xC4:
                # An incomplete binary reply: malformed when its header had arrived and passed its CRC.
                if (len(self.buf) >= BX_HEADER_BYTES and self.buf[1] == 0xA5
                        and crc16(bytes(self.buf[0:4])) == (self.buf[4] | self.buf[5] << 8)):
                    s.malformed_frames += 1
                self._discard(1)
            else:
                # An incomplete ASCII line: the scan leaves one only when it fills the whole buffer.
                s.malformed_frames += 1
                self._discard(len(self.buf))
            out += self._scan()
        self.skipping_line = False
        return out


def decode_all(data: bytes, expecting: str = "ascii"):
    """Results and statistics of one exchange: the bytes, then its end (flush)."""
    d = ReplyDecoder(expecting)
    results = d.push(data)
    results += d.flush()
    return results, d.stats.as_dict()


def parse_all(data: bytes):
    p = CommandParser()
    results = p.push(data)
    return results, p.stats.as_dict()
