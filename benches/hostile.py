#!/usr/bin/env python3
"""Hostile-client measurements against a running scimbox, over loopback only (Python 3 standard library).

Each attack opens CONNECTIONS connections from 127.0.0.1 (idle, trickled headers, a trickled sign-in body,
a stalled TLS handshake) and, while they are held, times `/healthz` and an authenticated SCIM lookup from
127.0.0.2 (loopback too), then from 127.0.0.1 once the attack's connections are closed or given up. An
answer that does not come within --bound seconds is reported as such. The `patch` attack sends PATCHes of
--patch-ops value-filter replaces back to back and times `scimbox token revoke` (with --binary and
--data-dir) and another SCIM write meanwhile; `passwords` sends 500 concurrent creates with passwords from five addresses and
reports the server's RSS and threads (with --pid); `tokens` sends wrong secrets for known ids and times other tokens' first use.

    python3 benches/hostile.py --base http://127.0.0.1:8080 --token scimbox_… [--attack idle,…]

It is a measuring tool, not a test: tests/it/hostile.rs holds the assertions. Never point it anywhere but
a server of yours on 127.0.0.0/8.
"""

import argparse
import json
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse

ATTACKER = "127.0.0.1"
HONEST = "127.0.0.2"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="http(s)://127.0.0.1:PORT of the server")
    parser.add_argument("--token", required=True, help="a SCIM token")
    parser.add_argument("--attack", default="idle,headers,login,short-body",
                        help="comma-separated: idle, headers, login, short-body, tls, patch, passwords, tokens")
    parser.add_argument("--connections", type=int, default=1100)
    parser.add_argument("--hold", type=float, default=20.0, help="seconds the attack keeps its connections at most")
    parser.add_argument("--bound", type=float, default=15.0, help="seconds an honest request may wait")
    parser.add_argument("--patch-ops", type=int, default=1000)
    parser.add_argument("--binary", help="the scimbox binary, for the patch attack's `token revoke`")
    parser.add_argument("--data-dir", help="the server's data directory, for the patch attack")
    parser.add_argument("--pid", type=int, help="the server's pid, for RSS figures")
    parser.add_argument("--known-tokens", default="", help="comma-separated tokens whose ids the tokens attack uses")
    parser.add_argument("--fresh-tokens", default="", help="comma-separated never-used tokens, for the tokens attack")
    return parser.parse_args()


class Target:
    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.tls = url.scheme == "https"
        self.host = url.hostname
        self.port = url.port or (443 if self.tls else 80)
        self.context = ssl._create_unverified_context() if self.tls else None

    def connect(self, source, timeout):
        sock = socket.create_connection((self.host, self.port), timeout=timeout, source_address=(source, 0))
        if self.tls:
            sock = self.context.wrap_socket(sock, server_hostname="localhost")
        return sock


def request(target, source, method, path, token=None, body=None, bound=15.0):
    """One request on a new connection; returns (status or None, seconds)."""
    started = time.monotonic()
    try:
        sock = target.connect(source, bound)
        sock.settimeout(max(0.1, bound - (time.monotonic() - started)))
        data = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n"
        if token:
            head += f"authorization: Bearer {token}\r\n"
        if body is not None:
            head += f"content-type: application/scim+json\r\ncontent-length: {len(data)}\r\n"
        sock.sendall(head.encode() + b"\r\n" + data)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        sock.close()
        status = int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/") else None
        return status, time.monotonic() - started
    except (OSError, ValueError, IndexError):
        return None, time.monotonic() - started


def describe(result, bound):
    status, took = result
    if status is None:
        return f"no answer ({took:.1f} s)" if took < bound else f"no answer within {bound:.0f} s"
    return f"{status} in {took * 1000:.0f} ms"


def honest_checks(target, token, source, bound):
    lookup = "/scim/v2/Users?filter=" + urllib.parse.quote('userName eq "nobody@example.com"')
    health = request(target, source, "GET", "/healthz", bound=bound)
    scim = request(target, source, "GET", lookup, token=token, bound=bound)
    return f"/healthz {describe(health, bound)}, SCIM lookup {describe(scim, bound)}"


def flood(target, kind, connections, hold):
    """Opens the attack's connections and keeps each at its attack until the server closes it or `hold`
    passes. Returns (threads, per-connection lifetimes)."""
    lifetimes = []
    lock = threading.Lock()
    ready = threading.Barrier(2)

    def run():
        sockets = []
        for _ in range(connections):
            try:
                raw = socket.create_connection((target.host, target.port), timeout=5, source_address=(ATTACKER, 0))
                sockets.append((raw, time.monotonic()))
            except OSError:
                pass
        if kind in ("headers", "login"):
            head = (b"GET /healthz HTTP/1.1\r\n" if kind == "headers" else
                    b"POST /admin/api/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                    b"content-length: 200\r\n\r\n")
            for sock, _ in sockets:
                try:
                    sock.sendall(head)
                except OSError:
                    pass
        ready.wait()
        deadline = time.monotonic() + hold
        open_sockets = list(sockets)
        step = 0
        while open_sockets and time.monotonic() < deadline:
            still = []
            for sock, opened in open_sockets:
                try:
                    sock.setblocking(False)
                    try:
                        if sock.recv(4096) == b"":
                            raise ConnectionResetError
                    except BlockingIOError:
                        pass
                    if kind in ("headers", "login") and step % 10 == 0:
                        sock.send(b"x-trickle: 1\r\n" if kind == "headers" else b" ")
                    still.append((sock, opened))
                except OSError:
                    with lock:
                        lifetimes.append(time.monotonic() - opened)
                    sock.close()
            open_sockets = still
            step += 1
            time.sleep(0.1)
        for sock, opened in open_sockets:
            with lock:
                lifetimes.append(None)
            sock.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait()
    return thread, lifetimes


def connection_attack(target, args, kind):
    thread, lifetimes = flood(target, kind, args.connections, args.hold)
    time.sleep(0.5)
    during = honest_checks(target, args.token, HONEST, args.bound)
    thread.join()
    held = [t for t in lifetimes if t is not None]
    open_at_end = sum(1 for t in lifetimes if t is None)
    longest = f"{max(held):.1f} s" if held else "-"
    after = honest_checks(target, args.token, ATTACKER, args.bound)
    print(f"{kind}: during, from {HONEST}: {during}")
    print(f"{kind}: attack connections closed by the server: {len(held)}, longest held {longest}; "
          f"still open after {args.hold:.0f} s: {open_at_end}")
    print(f"{kind}: after, from {ATTACKER}: {after}")


def short_body(target, args):
    started = time.monotonic()
    sock = target.connect(HONEST, args.bound)
    sock.settimeout(180)
    head = (f"POST /scim/v2/Users HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {args.token}\r\n"
            "content-type: application/scim+json\r\ncontent-length: 100\r\n\r\n{\"userName\"")
    sock.sendall(head.encode())
    try:
        answer = sock.recv(4096)
    except OSError:
        answer = b""
    took = time.monotonic() - started
    status = answer.split(b" ")[1].decode() if answer.startswith(b"HTTP/") else "nothing"
    print(f"short-body: a body shorter than its Content-Length: answered {status} after {took:.1f} s")


def rss_mib(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    mib = lambda name: int(fields[name].split()[0]) // 1024
    return mib("VmRSS"), mib("VmHWM"), int(fields["Threads"])


def patch_attack(target, args):
    created = request_json(target, "POST", "/scim/v2/Users", args.token,
                           {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                            "userName": f"patched-{time.time()}@example.com"})
    user = created["id"]
    ops = [{"op": "replace", "path": f'emails[type eq "t{n}"].value', "value": f"u{n}@example.com"}
           for n in range(args.patch_ops)]
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}
    results = []
    stop = threading.Event()

    def send():
        # PATCHes back to back until told to stop (each may take long on a server that is slow at them).
        while not stop.is_set():
            results.append(request(target, ATTACKER, "PATCH", f"/scim/v2/Users/{user}", token=args.token,
                                   body=body, bound=300))

    doomed = None
    if args.binary and args.data_dir:
        made = subprocess.run([args.binary, "token", "create", "--data-dir", args.data_dir, "--name", "doomed"],
                              capture_output=True, text=True, check=True)
        doomed = made.stdout.strip().splitlines()[-1].split("_")[1]
    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
    time.sleep(2.0)
    if doomed:
        started = time.monotonic()
        revoked = subprocess.run([args.binary, "token", "revoke", "--data-dir", args.data_dir, doomed],
                                 capture_output=True, text=True)
        took = time.monotonic() - started
        outcome = "succeeded" if revoked.returncode == 0 else f"failed: {revoked.stderr.strip()}"
        print(f"patch: `scimbox token revoke` during the PATCHes {outcome} after {took:.1f} s")
    other = request(target, HONEST, "POST", "/scim/v2/Users", token=args.token,
                    body={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                          "userName": f"other-{time.time()}@example.com"}, bound=300)
    print(f"patch: another SCIM write during the PATCHes: {describe(other, 300)}")
    stop.set()
    for sender in senders:
        sender.join()
    times = sorted(took for _, took in results)
    statuses = sorted({status for status, _ in results}, key=str)
    print(f"patch: {len(results)} PATCHes of {args.patch_ops} operations, statuses {statuses}, "
          f"median {times[len(times) // 2]:.2f} s, longest {times[-1]:.2f} s")


def request_json(target, method, path, token, body):
    sock = target.connect(HONEST, 30)
    data = json.dumps(body).encode()
    sock.sendall(f"{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: Bearer {token}\r\n"
                 f"content-type: application/scim+json\r\ncontent-length: {len(data)}\r\n\r\n".encode() + data)
    answer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


def password_attack(target, args):
    before = rss_mib(args.pid) if args.pid else None
    statuses = []
    lock = threading.Lock()
    stamp = time.time()

    def create(n):
        # Spread over five loopback addresses, so that the per-address connection share is not what
        # turns the burst away.
        source = f"127.0.0.{10 + n % 5}"
        result = request(target, source, "POST", "/scim/v2/Users", token=args.token,
                         body={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                               "userName": f"burst-{stamp}-{n}@example.com", "password": f"initial password {n}"},
                         bound=120)
        with lock:
            statuses.append(result[0])

    started = time.monotonic()
    threads = [threading.Thread(target=create, args=(n,)) for n in range(500)]
    peak_threads = 0
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        if args.pid:
            peak_threads = max(peak_threads, rss_mib(args.pid)[2])
        time.sleep(0.05)
    took = time.monotonic() - started
    counts = {s: statuses.count(s) for s in set(statuses)}
    print(f"passwords: 500 concurrent creates with a password in {took:.1f} s: statuses {counts}")
    if before:
        after = rss_mib(args.pid)
        print(f"passwords: server RSS {before[0]} MiB before, peak {after[1]} MiB, {after[0]} MiB after; "
              f"threads {before[2]} before, up to {peak_threads} during")


def token_attack(target, args):
    known = [t for t in args.known_tokens.split(",") if t]
    fresh = [t for t in args.fresh_tokens.split(",") if t]
    stop = threading.Event()

    def guess(n):
        token_id = known[n % len(known)].split("_")[1]
        wrong = f"scimbox_{token_id}_{('%02x' % n) * 32}"
        while not stop.is_set():
            request(target, ATTACKER, "GET", "/scim/v2/Users?count=1", token=wrong, bound=10)

    guessers = [threading.Thread(target=guess, args=(n,), daemon=True) for n in range(24)]
    for guesser in guessers:
        guesser.start()
    time.sleep(1.0)
    for token in fresh:
        print(f"tokens: first use of a new token during the attack: "
              f"{describe(request(target, HONEST, 'GET', '/scim/v2/Users?count=1', token=token, bound=10), 10)}")
    stop.set()


def main():
    args = parse_args()
    target = Target(args.base)
    for kind in args.attack.split(","):
        if kind in ("idle", "headers", "login", "tls"):
            connection_attack(target, args, "idle" if kind == "tls" else kind)
        elif kind == "short-body":
            short_body(target, args)
        elif kind == "patch":
            patch_attack(target, args)
        elif kind == "passwords":
            password_attack(target, args)
        elif kind == "tokens":
            token_attack(target, args)
        else:
            raise SystemExit(f"unknown attack {kind!r}")


if __name__ == "__main__":
    main()
