#!/usr/bin/env python3
"""Timing helpers for convergence.sh, in one process so polling costs milliseconds, not a curl and a
python start per look (which on a loaded 2-core machine is 50-100 ms and would blur a 1 s goal).

  scale ADMIN_PORT HOST N CMD...      runs CMD (paas ps:scale) and prints the seconds until the router
                                      serves N endpoints for HOST, and when CMD returned
  kill ADMIN_PORT ROUTER_PORT HOST N CONTAINER INSTANCE
                                      GETs HOST through the router in a loop, `docker kill`s CONTAINER and
                                      prints the seconds until the router serves N endpoints none of which
                                      is INSTANCE, plus the GETs made and failed from the kill until then
                                      (and for one more second)

Everything is bounded: at most 120 s of waiting, and the load loop stops with the measurement.
Traffic goes to loopback only."""
import http.client
import json
import subprocess
import sys
import threading
import time

LIMIT_S = 120


def endpoints(admin_port, host):
    conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=2)
    try:
        conn.request("GET", "/routes")
        table = json.loads(conn.getresponse().read())
    except OSError as e:
        # A busy router may refuse or drop a look now and then: report it and look again.
        print(f"router admin: {e}", file=sys.stderr)
        return []
    finally:
        conn.close()
    return table["hosts"].get(host, {}).get("endpoints", [])


def scale(admin_port, host, n, cmd):
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    returned = None
    routed = None
    while time.monotonic() - start < LIMIT_S:
        if returned is None and proc.poll() is not None:
            returned = time.monotonic() - start
        if routed is None and len(endpoints(admin_port, host)) >= n:
            routed = time.monotonic() - start
        if routed is not None and returned is not None:
            break
        time.sleep(0.02)
    if proc.poll() is None:
        proc.kill()
    err = proc.stderr.read().decode(errors="replace").strip()
    print(json.dumps({"routed_s": routed, "returned_s": returned, "exit": proc.returncode, "stderr": err[-300:]}))


def load(router_port, host, stop, counts):
    """Plain GETs through the router on loopback, one at a time, until stop is set."""
    while not stop.is_set() and counts["total"] < 200_000:
        conn = http.client.HTTPConnection("127.0.0.1", router_port, timeout=5)
        try:
            conn.request("GET", "/", headers={"Host": host})
            status = conn.getresponse().status
        except OSError:
            status = 0
        finally:
            conn.close()
        with counts["lock"]:
            counts["total"] += 1
            if status != 200:
                counts["failed"] += 1
                counts["codes"][status] = counts["codes"].get(status, 0) + 1


def kill(admin_port, router_port, host, n, container, instance):
    stop = threading.Event()
    counts = {"total": 0, "failed": 0, "codes": {}, "lock": threading.Lock()}
    loader = threading.Thread(target=load, args=(router_port, host, stop, counts), daemon=True)
    loader.start()
    time.sleep(0.5)
    with counts["lock"]:
        counts["total"] = counts["failed"] = 0
        counts["codes"] = {}
    # A crashed instance may come back as a new instance or as itself, restarted in place (same id, a new
    # address): serving again is n endpoints of which none is the killed process's old endpoint.
    old = {(e["instance"], e.get("address")) for e in endpoints(admin_port, host) if e["instance"] == instance}
    start = time.monotonic()
    subprocess.run(["docker", "kill", container], stdout=subprocess.DEVNULL, check=True)
    serving = None
    unrouted = False
    while time.monotonic() - start < LIMIT_S:
        eps = endpoints(admin_port, host)
        unrouted = unrouted or all(e["instance"] != instance for e in eps)
        if len(eps) >= n and (unrouted or not old & {(e["instance"], e.get("address")) for e in eps}):
            serving = time.monotonic() - start
            break
        time.sleep(0.02)
    time.sleep(1)  # the replacement takes traffic for a second too
    stop.set()
    loader.join(10)
    print(json.dumps({"serving_s": serving, "requests": counts["total"], "failed": counts["failed"],
                      "codes": {str(k): v for k, v in counts["codes"].items()}}))


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "scale":
        scale(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5:])
    elif what == "kill":
        kill(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6], sys.argv[7])
    else:
        sys.exit(f"unknown command {what}")
