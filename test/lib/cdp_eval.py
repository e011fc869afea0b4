#!/usr/bin/env python3
"""Evaluates a JavaScript expression in the first page of a Chromium started
with --remote-debugging-port=$CDP_PORT and prints the result (or, with
--screenshot FILE, saves a PNG of the page). Standard library only: a
minimal WebSocket client for the DevTools protocol (test/live_page.sh)."""
import base64, json, os, socket, struct, sys, urllib.request


def ws_connect(url):
    assert url.startswith("ws://")
    hostport, path = url[5:].split("/", 1)
    host, port = hostport.split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise SystemExit("cdp: handshake failed")
        head += chunk
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise SystemExit("cdp: handshake refused: %r" % head[:200])
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise SystemExit("cdp: connection closed")
        buf += chunk
    return buf


def ws_send(s, text):
    data = text.encode()
    n = len(data)
    head = bytearray([0x81])
    if n < 126:
        head.append(0x80 | n)
    elif n < 65536:
        head.append(0x80 | 126)
        head += struct.pack(">H", n)
    else:
        head.append(0x80 | 127)
        head += struct.pack(">Q", n)
    mask = os.urandom(4)
    s.sendall(bytes(head) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def ws_recv(s):
    payload = b""
    while True:
        b0, b1 = recv_exact(s, 2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", recv_exact(s, 2))[0]
        elif n == 127:
            n = struct.unpack(">Q", recv_exact(s, 8))[0]
        payload += recv_exact(s, n)
        if b0 & 0x80:
            return payload.decode()


def main():
    port = os.environ["CDP_PORT"]
    pages = json.load(urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port, timeout=10))
    page = next(p for p in pages if p.get("type") == "page")
    s = ws_connect(page["webSocketDebuggerUrl"])
    if sys.argv[1] == "--screenshot":
        ws_send(s, json.dumps({"id": 1, "method": "Page.captureScreenshot", "params": {"format": "png"}}))
    else:
        ws_send(s, json.dumps({"id": 1, "method": "Runtime.evaluate",
                               "params": {"expression": sys.argv[1], "returnByValue": True}}))
    while True:
        msg = json.loads(ws_recv(s))
        if msg.get("id") == 1:
            break
    if "error" in msg:
        raise SystemExit("cdp: %s" % msg["error"])
    if sys.argv[1] == "--screenshot":
        with open(sys.argv[2], "wb") as f:
            f.write(base64.b64decode(msg["result"]["data"]))
        return
    r = msg["result"]["result"]
    print(r.get("value", ""))


if __name__ == "__main__":
    main()
