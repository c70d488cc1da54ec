"""A test MLLP listener (HL7 v2 Appendix C framing) on 127.0.0.1 that parses every message with
python-hl7 and answers with the ACK python-hl7 builds, misbehaving on purpose when told to.

    python3 mllp_listener.py PORT_FILE ACCEPTED_FILE MODE

It binds an ephemeral port and writes it to PORT_FILE. Each message it accepts (answers AA) is
appended, MLLP-framed, to ACCEPTED_FILE before the ACK is sent, as an engine commits before it
acknowledges. MODE:
  ack          AA to everything
  nak:N        AE to every Nth message the first time it arrives (a resend gets AA)
  drop:N       closes the connection without an ACK on every Nth message, first time only
  silent:N     never answers the Nth message the first time (the sender's ACK timeout fires)
  reject:N     AR to the Nth message
  garbage      answers with a frame that holds no MSA
It runs until killed.
"""

import socket
import sys

import hl7

START, END = b"\x0b", b"\x1c\x0d"


def frames(conn):
    buf = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return
        buf += chunk
        while END in buf:
            frame, buf = buf.split(END, 1)
            assert frame.startswith(START), f"frame without start byte: {frame[:30]!r}"
            yield frame[1:]


def main():
    port_file, accepted_file, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    kind, _, n = mode.partition(":")
    n = int(n or 0)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.getsockname()[1]))
    import os

    os.rename(port_file + ".tmp", port_file)
    arrivals = 0
    misbehaved = set()
    accepted = open(accepted_file, "ab", buffering=0)
    while True:
        conn, _ = server.accept()
        with conn:
            for raw in frames(conn):
                arrivals += 1
                msg = hl7.parse(raw.decode("utf-8"))
                ctl = str(msg.segment("MSH")[10])
                first_time = ctl not in misbehaved
                nth = n and arrivals % n == 0
                if kind == "drop" and nth and first_time:
                    misbehaved.add(ctl)
                    break
                if kind == "silent" and nth and first_time:
                    misbehaved.add(ctl)
                    continue
                if kind == "garbage":
                    conn.sendall(START + b"MSH|^~\\&|X\rNOTHING|here\r" + END)
                    continue
                code = "AA"
                if kind == "nak" and nth and first_time:
                    misbehaved.add(ctl)
                    code = "AE"
                elif kind == "reject" and arrivals == n:
                    code = "AR"
                if code == "AA":
                    accepted.write(START + raw + END)
                ack = msg.create_ack(code, message_id="ACK" + str(arrivals), application="LISTENER")
                conn.sendall(START + str(ack).encode("utf-8") + b"\r" + END)


if __name__ == "__main__":
    main()
