#!/usr/bin/env python3
"""Steady, bounded load for the chaos suite: GET / through the router, one new connection per request.

usage: load.py PORT HOST OUT_FILE [--rps N] [--workers N] [--seconds N] [--max-requests N]

Writes one line per finished request to OUT_FILE: "<epoch seconds> <status> <seconds taken>", where
status is the HTTP code, or ERR:<reason> when no answer came (refused, reset, cut short, or nothing
within --timeout seconds). The completion time is recorded, so a request that fails because of a
fault is counted in that fault's window. A slow answer is still an answer: the time taken is there
for the caller to report slow ones separately.
A new connection per request, as a fresh client would make: a kept-alive connection would hide a
router that is down but has not yet reset it.
Bounded in time (--seconds) and count (--max-requests); also stops when its parent dies, so a
killed chaos run never leaves it behind. Traffic goes to 127.0.0.1 only.
"""
import argparse
import http.client
import os
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("host")
    parser.add_argument("out")
    parser.add_argument("--rps", type=float, default=40)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3600)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()

    deadline = time.monotonic() + args.seconds
    parent = os.getppid()
    lock = threading.Lock()
    count = [0]
    out = open(args.out, "a", buffering=1)
    interval = args.workers / args.rps  # each worker's share of the rate

    def worker():
        next_at = time.monotonic()
        while time.monotonic() < deadline and os.getppid() == parent:
            with lock:
                if count[0] >= args.max_requests:
                    return
                count[0] += 1
            started = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=args.timeout)
                conn.request("GET", "/", headers={"Host": args.host, "Connection": "close"})
                response = conn.getresponse()
                response.read()
                status = str(response.status)
                conn.close()
            except Exception as e:  # any failure to get an answer is a failed request
                status = "ERR:" + type(e).__name__
            with lock:
                out.write(f"{time.time():.3f} {status} {time.monotonic() - started:.3f}\n")
            next_at += interval
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            else:
                next_at = time.monotonic()  # fell behind (a slow answer): do not burst to catch up

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
