"""A real S3-compatible server for the storage tests: moto's (PyPI `moto[s3]` with Flask,
pinned in scripts/test), on a free loopback port. Prints the port, then serves until its
standard input closes: the test dropped it, or the test process is gone (even killed), so
no server outlives its test. JEMBATAN_TEST_S3_LOG=1 shows the requests it serves."""

import logging
import os
import sys

from moto.server import ThreadedMotoServer

if not os.environ.get("JEMBATAN_TEST_S3_LOG"):
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
os._exit(0)
