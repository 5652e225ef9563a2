"""A front server for ``bench deadline_rush``, as nginx is in docker-compose.yml
(``deploy/nginx.conf``): it reads each request whole, body included, stamps it
``X-Request-Start: t=<the moment its last byte came in>`` (overwriting any the
client sent) and passes it to gunicorn, one request at a time per connection.

Run as its own process (no Django): ``python front.py <listen port> <upstream
port>``; it prints ``ready`` once listening. Upstream requests are HTTP/1.0
(gunicorn answers and closes); the answer goes back to the client with its
length, on a connection kept alive as a browser's is.
"""

from __future__ import annotations

import asyncio
import sys
import time

HOST = "127.0.0.1"
DROP = {b"connection", b"keep-alive", b"x-request-start", b"transfer-encoding"}


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, list[bytes], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head[:-4].split(b"\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return lines[0], lines[1:], body


async def _forward(upstream_port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(HOST, upstream_port)
    try:
        writer.write(request)
        await writer.drain()
        return await reader.read()  # until gunicorn closes: the whole answer
    finally:
        writer.close()


def _answer(raw: bytes) -> bytes:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    kept = [
        line
        for line in lines[1:]
        if line.partition(b":")[0].strip().lower() not in DROP | {b"content-length"}
    ]
    status = lines[0].replace(b"HTTP/1.0", b"HTTP/1.1", 1)
    return b"\r\n".join(
        [status, *kept, b"Content-Length: %d" % len(body), b"Connection: keep-alive", b"", body]
    )


async def _serve(upstream_port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
    try:
        while True:
            request = await _read_request(reader)
            if request is None:
                return
            received = time.time()  # the last byte is in
            first, headers, body = request
            method, target, _ = first.split(b" ", 2)
            kept = [h for h in headers if h.partition(b":")[0].strip().lower() not in DROP]
            upstream = b"\r\n".join(
                [
                    method + b" " + target + b" HTTP/1.0",
                    *kept,
                    b"X-Request-Start: t=%.6f" % received,
                    b"Connection: close",
                    b"",
                    body,
                ]
            )
            writer.write(_answer(await _forward(upstream_port, upstream)))
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def main(port: int, upstream_port: int) -> None:
    server = await asyncio.start_server(
        lambda r, w: _serve(upstream_port, r, w), HOST, port, backlog=1024, limit=1 << 20
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
