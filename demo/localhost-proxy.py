"""A forwarding HTTP proxy for `make demo`: a request for http://NAME.localhost:PORT/... goes to
127.0.0.1:PORT. s3control puts the account id in the host name (123456789012.localhost), which nothing
resolves without an /etc/hosts entry; the AWS SDK honours the standard HTTP_PROXY, so the demo's operator
reaches moto through this proxy, as a normal user. (The tests use the same forwarding, in Rust:
tests/support/mod.rs, `localhost_proxy`.) Usage: localhost-proxy.py PORT"""
import socket
import sys
import threading
import urllib.parse


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


def handle(conn):
    with conn:
        request = read_request(conn)
        if request is None:
            return
        head, body = request
        lines = head.split(b"\r\n")
        method, url, version = lines[0].split(b" ", 2)
        target = urllib.parse.urlsplit(url.decode())
        path = (target.path or "/") + ("?" + target.query if target.query else "")
        kept = [l for l in lines[1:] if not l.lower().startswith((b"connection:", b"proxy-"))]
        forwarded = b"\r\n".join([b" ".join([method, path.encode(), version])] + kept + [b"Connection: close"])
        with socket.create_connection(("127.0.0.1", target.port or 80)) as upstream:
            upstream.sendall(forwarded + b"\r\n\r\n" + body)
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                conn.sendall(data)


def main():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", int(sys.argv[1])))
    server.listen(64)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
