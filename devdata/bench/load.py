"""A small HTTP load generator for the benchmarks, run in a process of its own.

Standard library only (threads, one ``http.client`` connection each, kept
alive), bounded in time and count, and only ever aimed at the 127.0.0.1
server the benchmark started. It reads one JSON job on stdin and writes one
JSON result on stdout:

* ``{"mode": "pages", ...}``: each page in turn, ``connections`` clients
  asking for it again and again for ``duration`` seconds in all, in
  ``rounds`` turns (each after ``warmup``); requests per second and latency
  percentiles;
* ``{"mode": "rush", ...}``: each supplier, at its own start time, gets the
  bid form (for the CSRF token) and posts its bid with a file, as a browser
  would; what each request got back and when it was sent and answered.

Run by path (``python devdata/bench/load.py``), so it does not import Django.
"""

from __future__ import annotations

import http.client
import json
import queue
import re
import sys
import threading
import time
import uuid
from typing import Any, TypedDict

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_SECONDS = 600  # no run of this tool goes on longer, whatever it is asked


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# --- pages ------------------------------------------------------------------------------


def run_page(
    host: str, port: int, page: dict[str, Any], duration: float, connections: int, warmup: float
) -> dict[str, Any]:
    """``connections`` clients ask for the page again and again for ``warmup``
    then ``duration`` seconds; latencies of the requests sent in the second part."""
    started = time.monotonic()
    measure_from = started + warmup
    stop_at = measure_from + duration
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = [0]

    def client() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        headers = {"Cookie": page["cookie"], "Accept": "text/html"}
        mine: list[float] = []
        my_errors = 0
        my_statuses: dict[str, int] = {}
        while True:
            t0 = time.monotonic()
            if t0 >= stop_at:
                break
            try:
                conn.request("GET", page["path"], headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                status = 0
            t1 = time.monotonic()
            if t0 >= measure_from and t1 <= stop_at:
                my_statuses[str(status)] = my_statuses.get(str(status), 0) + 1
                if status == 200:
                    mine.append(t1 - t0)
                else:
                    my_errors += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += my_errors
            for key, n in my_statuses.items():
                statuses[key] = statuses.get(key, 0) + n

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "errors": errors[0], "statuses": statuses}


class _PageTotal(TypedDict):
    """What one page got over all its turns."""

    latencies: list[float]
    errors: int
    statuses: dict[str, int]


def pages(job: dict[str, Any]) -> dict[str, Any]:
    """Each page for ``duration`` seconds in all, in ``rounds`` turns taken in
    order (baseline, page 1, page 2, ..., then again), so that a change in what
    else the machine is doing falls on every page alike."""
    rounds = max(1, int(job.get("rounds", 3)))
    duration = min(float(job["duration"]), MAX_SECONDS / max(1, len(job["pages"])))
    turn = duration / rounds
    totals: dict[str, _PageTotal] = {
        page["name"]: {"latencies": [], "errors": 0, "statuses": {}} for page in job["pages"]
    }
    for _ in range(rounds):
        for page in job["pages"]:
            got = run_page(
                job["host"],
                job["port"],
                page,
                turn,
                int(job["connections"]),
                float(job.get("warmup", 1)),
            )
            total = totals[page["name"]]
            total["latencies"] += got["latencies"]
            total["errors"] += got["errors"]
            for key, n in got["statuses"].items():
                total["statuses"][key] = total["statuses"].get(key, 0) + n
    result = []
    for page in job["pages"]:
        total = totals[page["name"]]
        latencies = total["latencies"]
        result.append(
            {
                "name": page["name"],
                "requests": len(latencies),
                "errors": total["errors"],
                "statuses": total["statuses"],
                "rps": round(len(latencies) / duration, 1),
                "p50_ms": round(_percentile(latencies, 50) * 1000, 1),
                "p95_ms": round(_percentile(latencies, 95) * 1000, 1),
                "p99_ms": round(_percentile(latencies, 99) * 1000, 1),
            }
        )
    return {"pages": result}


# --- the deadline rush ----------------------------------------------------------------------

_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def _pdf(tag: str, size: int) -> bytes:
    head = f"%PDF-1.4\n% bid from {tag}\n".encode()
    tail = b"\n%%EOF\n"
    return head + b"%" + b"0" * (size - len(head) - len(tail) - 1) + tail


def _multipart(fields: list[tuple[str, str]], file: tuple[str, str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    field_name, filename, content = file
    head = (
        "".join(parts) + f"--{boundary}\r\nContent-Disposition: form-data; "
        f'name="{field_name}"; filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
    )
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def submit_one(host: str, port: int, job: dict[str, Any], file_bytes: int) -> dict[str, Any]:
    result: dict[str, Any] = {"id": job["id"], "kind": "error", "detail": ""}
    conn = http.client.HTTPConnection(host, port, timeout=120)
    try:
        result["get_at"] = time.time()
        conn.request("GET", job["form"], headers={"Cookie": job["cookie"]})
        response = conn.getresponse()
        page = response.read()
        token = _TOKEN.search(page)
        csrf = _cookies(response).get(job.get("csrf_cookie", "csrftoken"))
        if response.status != 200 or token is None or csrf is None:
            result["detail"] = f"bid form: HTTP {response.status}, token found: {bool(token)}"
            return result
        body, content_type = _multipart(
            [
                ("csrfmiddlewaretoken", token.group(1).decode()),
                ("price", job["price"]),
                *(("declarations", key) for key in job["declarations"]),
                ("submit", "Submit bid"),
            ],
            ("file", f"bid-{job['id']}.pdf", _pdf(str(job["id"]), file_bytes)),
        )
        headers = {
            "Cookie": f"{job['cookie']}; {job.get('csrf_cookie', 'csrftoken')}={csrf}",
            "Content-Type": content_type,
            "Referer": f"http://{host}:{port}{job['form']}",
            "Origin": f"http://{host}:{port}",
        }
        result["sent_at"] = time.time()
        conn.request("POST", job["form"], body=body, headers=headers)
        response = conn.getresponse()
        page = response.read()
        result["answered_at"] = time.time()
        result["status"] = response.status
        location = response.headers.get("Location", "")
        if response.status == 302 and "/receipts/" in location:
            result["kind"] = "accepted"
            result["receipt"] = location
        elif response.status == 200 and b"after the deadline" in page:
            result["kind"] = "late"
        else:
            text = re.sub(rb"\s+", b" ", page[:4000]).decode(errors="replace")
            result["detail"] = f"HTTP {response.status} {location} {text[:300]}"
    except (OSError, http.client.HTTPException) as exc:
        result["detail"] = repr(exc)
        result.setdefault("answered_at", time.time())
    finally:
        conn.close()
    return result


def rush(job: dict[str, Any]) -> dict[str, Any]:
    jobs = sorted(job["jobs"], key=lambda j: j["start_at"])
    if jobs and jobs[-1]["start_at"] - time.time() > MAX_SECONDS:
        raise SystemExit("load.py: the rush would start too late")
    todo: queue.Queue[dict[str, Any]] = queue.Queue()
    for item in jobs:
        todo.put(item)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            wait = item["start_at"] - time.time()
            if wait > 0:
                time.sleep(wait)
            outcome = submit_one(job["host"], job["port"], item, int(job["file_bytes"]))
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(int(job["threads"]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"results": results}


def main() -> None:
    job = json.load(sys.stdin)
    if job["host"] not in LOOPBACK:
        raise SystemExit("load.py only sends requests to this machine (127.0.0.1).")
    result = pages(job) if job["mode"] == "pages" else rush(job)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
