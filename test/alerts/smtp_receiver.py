#!/usr/bin/env python3
"""smtp_receiver.py PORTFILE LOG: a local SMTP server (aiosmtpd, Debian's
python3-aiosmtpd) for the e-mail delivery tests (contract §6.6).  Writes its
port to PORTFILE, and one JSON line per message accepted or refused to LOG:
the envelope (mail_from, rcpt_tos), the parsed headers (From, To, Subject
decoded, Date, Message-ID, Content-Type), the body, and the reply given.
Answers by the recipient's local part:
  reject@...   550 at RCPT TO (a permanent refusal)
  tempfail@... 451 at the end of DATA the first time for a Message-ID,
               250 after (a transient refusal, then accepted)
  anything else 250."""
import email, email.header, email.policy, json, socket, sys, time

from aiosmtpd.controller import Controller

PORTFILE, LOG = sys.argv[1], sys.argv[2]
seen = set()


def log(rec):
    with open(LOG, "a") as f:
        f.write(json.dumps(rec) + "\n")


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("reject@"):
            log({"rcpt": address, "reply": 550, "at": time.time()})
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        mid = msg.get("Message-ID")
        reply = 250
        if any(r.lower().startswith("tempfail@") for r in envelope.rcpt_tos) and mid not in seen:
            seen.add(mid)
            reply = 451
        body = msg.get_body(preferencelist=("plain",))
        log({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
             "from": msg.get("From"), "to": msg.get("To"), "subject": str(msg.get("Subject")),
             "date": msg.get("Date"), "message_id": mid, "content_type": msg.get("Content-Type"),
             "body": body.get_content() if body is not None else None,
             "crlf": b"\r\n" in raw, "reply": reply, "at": time.time()})
        return "250 Message accepted" if reply == 250 else "451 4.3.0 try again later"


s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
ctl.start()
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(port))
import os
os.rename(PORTFILE + ".tmp", PORTFILE)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    pass
finally:
    ctl.stop()
