"""Verifies webhook deliveries with the official Standard Webhooks library.

usage: verify_webhooks.py SECRET FILE
FILE holds a JSON list of {"headers": {...}, "body": "..."}; prints a JSON list with,
per message, null when it verifies or the library's error.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook

secret, path = sys.argv[1], sys.argv[2]
hook = Webhook(secret)
out = []
with open(path, encoding="utf-8") as f:
    for m in json.load(f):
        try:
            payload = hook.verify(m["body"], m["headers"])
            # The library hands back the parsed body: it must be what was sent.
            out.append(None if payload == json.loads(m["body"]) else "payload differs")
        except Exception as e:  # the library's WebhookVerificationError and kin
            out.append(f"{type(e).__name__}: {e}")
print(json.dumps(out))
