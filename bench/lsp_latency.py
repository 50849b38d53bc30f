#!/usr/bin/env python3
"""Latency of `mapctl lsp`: time from sending a didChange to receiving its diagnostics.

Usage: bench/lsp_latency.py [MAPCTL_BINARY] [ROUNDS]   (default: target/release/mapctl, 200)

Opens mappings/hubspot_to_accelo.map, then alternates a typo (`dealname` -> `dealnme`, one
M201 diagnostic) and the fix, measuring each round trip. Prints the median, 95th percentile
and maximum in milliseconds. The issue's target is 100 ms.
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def send(proc, message):
    body = json.dumps(message).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def receive(proc):
    length = None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("mapctl lsp closed the stream")
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return json.loads(proc.stdout.read(length))


def wait_for_diagnostics(proc, uri):
    while True:
        message = receive(proc)
        if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
            return message["params"]["diagnostics"]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/mapctl")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    path = os.path.join(ROOT, "mappings/hubspot_to_accelo.map")
    text = open(path, encoding="utf-8").read()
    typo = text.replace("deal.properties.dealname |", "deal.properties.dealnme |", 1)
    uri = "file://" + path
    proc = subprocess.Popen([binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
    receive(proc)
    send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "mapctl", "version": 1, "text": text}}})
    assert wait_for_diagnostics(proc, uri) == []
    times = []
    for version in range(2, rounds + 2):
        body = typo if version % 2 == 0 else text
        started = time.perf_counter()
        send(proc, {"jsonrpc": "2.0", "method": "textDocument/didChange",
                    "params": {"textDocument": {"uri": uri, "version": version},
                               "contentChanges": [{"text": body}]}})
        diagnostics = wait_for_diagnostics(proc, uri)
        times.append((time.perf_counter() - started) * 1000)
        assert len(diagnostics) == (1 if body is typo else 0), diagnostics
    send(proc, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    receive(proc)
    send(proc, {"jsonrpc": "2.0", "method": "exit"})
    proc.wait()
    times.sort()
    print(f"didChange -> publishDiagnostics over {rounds} edits: median {times[len(times) // 2]:.2f} ms, "
          f"p95 {times[int(len(times) * 0.95)]:.2f} ms, max {times[-1]:.2f} ms")


if __name__ == "__main__":
    main()
