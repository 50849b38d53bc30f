#!/usr/bin/env python3
"""Latency of `mapctl lsp`: keystroke to diagnostics, on generated 2,000- and 10,000-line mappings.

Usage: bench/lsp_latency.py [MAPCTL_BINARY] [ROUNDS]   (default: target/release/mapctl, 100)

For each size, writes a mapping (one map rule a line, reading a 500-property source schema) and
its schemas into a temporary folder, opens it, and then, ROUNDS times, types one character into a
field name as an incremental change (`p1` -> `p1x`: one M201) and deletes it again, timing each
change from `didChange` to the `publishDiagnostics` of its version. Then a burst: 21 keystrokes
sent back to back, timed to the diagnostics of the last one, counting the publishes (queued edits
are merged, so a burst costs about one check). Prints the median, 95th percentile and maximum in
milliseconds. The target (issue 24) is a median of at most 50 ms on the 2,000-line mapping.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROPERTIES = 500


def write_workspace(folder, lines):
    """A mapping of about `lines` lines and its two schemas; returns the mapping's path."""
    rules = lines - 10
    source_props = {f"p{i}": {"type": ["string", "null"], "description": f"property {i}"}
                    for i in range(PROPERTIES)}
    source_props["stage"] = {"type": "string", "enum": ["open", "won"]}
    source = {"type": "object", "required": ["properties"],
              "properties": {"id": {"type": "string"},
                             "properties": {"type": "object", "properties": source_props}}}
    target = {"type": "object", "required": ["f0"], "additionalProperties": False,
              "properties": {f"f{i}": {"type": "string", "maxLength": 200} for i in range(rules)}}
    with open(os.path.join(folder, "source.schema.json"), "w") as f:
        json.dump(source, f, indent=1)
    with open(os.path.join(folder, "target.schema.json"), "w") as f:
        json.dump(target, f, indent=1)
    mapping = ["mapping generated", 'source deal = schema "source.schema.json"',
               'target project = schema "target.schema.json"',
               'trigger when deal.properties.stage == "won"',
               'require at stage "won" {', "  deal.properties.p0", "}", "map {"]
    for i in range(rules):
        mapping.append(f"  project.f{i} = deal.properties.p{i % PROPERTIES} | collapse_whitespace"
                       f' | truncate(200) ?? "none"')
    mapping.append("}")
    path = os.path.join(folder, "generated.map")
    with open(path, "w") as f:
        f.write("\n".join(mapping) + "\n")
    return path, len(mapping)


class Server:
    def __init__(self, binary):
        self.proc = subprocess.Popen([binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(self, message):
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def receive(self):
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit("mapctl lsp closed the stream")
            line = line.strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def diagnostics(self, uri, version):
        """Waits for the diagnostics of `version`; returns them and how many publishes came."""
        publishes = 0
        while True:
            message = self.receive()
            if message.get("method") != "textDocument/publishDiagnostics":
                continue
            params = message["params"]
            if params["uri"] != uri:
                continue
            publishes += 1
            if params.get("version") == version:
                return params["diagnostics"], publishes

    def close(self):
        self.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        self.receive()
        self.send({"jsonrpc": "2.0", "method": "exit"})
        self.proc.wait()


def keystroke(server, uri, version, line, character, text, end=None):
    start = {"line": line, "character": character}
    server.send({"jsonrpc": "2.0", "method": "textDocument/didChange",
                 "params": {"textDocument": {"uri": uri, "version": version},
                            "contentChanges": [{"range": {"start": start, "end": end or start},
                                                "text": text}]}})


def measure(binary, lines, rounds):
    with tempfile.TemporaryDirectory() as folder:
        path, written = write_workspace(folder, lines)
        text = open(path, encoding="utf-8").read()
        uri = "file://" + path
        server = Server(binary)
        server.send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                     "params": {"capabilities": {}}})
        server.receive()
        server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                     "params": {"textDocument": {"uri": uri, "languageId": "mapctl",
                                                 "version": 1, "text": text}}})
        diagnostics, _ = server.diagnostics(uri, 1)
        assert diagnostics == [], diagnostics
        # The middle rule: `  project.fN = deal.properties.pM | ...`; type after `pM`.
        line = 8 + (written - 10) // 2
        rule = text.split("\n")[line]
        column = rule.index(" | ")
        times = []
        version = 1
        for _ in range(rounds):
            for typed in (True, False):
                version += 1
                started = time.perf_counter()
                if typed:
                    keystroke(server, uri, version, line, column, "x")
                else:
                    keystroke(server, uri, version, line, column, "",
                              end={"line": line, "character": column + 1})
                diagnostics, _ = server.diagnostics(uri, version)
                times.append((time.perf_counter() - started) * 1000)
                assert len(diagnostics) == (1 if typed else 0), diagnostics
        # A burst of 21 keystrokes, sent without waiting.
        started = time.perf_counter()
        for i in range(21):
            version += 1
            keystroke(server, uri, version, line, column + i, "x")
        diagnostics, publishes = server.diagnostics(uri, version)
        burst = (time.perf_counter() - started) * 1000
        assert len(diagnostics) == 1, diagnostics
        server.close()
    times.sort()
    print(f"{written:>6} lines, {len(times)} keystrokes: median {statistics.median(times):.1f} ms, "
          f"p95 {times[int(len(times) * 0.95)]:.1f} ms, max {times[-1]:.1f} ms; "
          f"21 keystrokes at once: {burst:.0f} ms, {publishes} publish(es)")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/mapctl")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    for lines in (2000, 10000):
        measure(binary, lines, rounds if lines == 2000 else max(rounds // 5, 5))


if __name__ == "__main__":
    main()
