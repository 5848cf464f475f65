#!/usr/bin/env python3
"""Holds N idle agent links open on a Portway edge, speaking just the standby protocol
(docs/protocol.md): upgrade, then answer each ping (0x00) with a pong. Links come in pairs per
agent id, as a real agent keeps two. Prints "ready N" once all are up; exits on stdin EOF."""
import asyncio, os, sys

async def link(port, agent_id, ready):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write((f"GET /_portway/link HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\n"
                  f"Upgrade: portway-link/1\r\nPortway-Agent: {agent_id}\r\nPortway-Tunnel: http; id=web\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit("refused: " + head.decode(errors="replace").splitlines()[0])
    ready.append(1)
    while True:
        b = await reader.read(1)
        if not b:
            return
        writer.write(b)  # pong (0x00); an activation (0x01) never comes: nothing is requested

async def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    ready = []
    tasks = []
    for i in range(count // 2):
        agent_id = os.urandom(16).hex()
        for _ in range(2):
            tasks.append(asyncio.create_task(link(port, agent_id, ready)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    while len(ready) < count:
        await asyncio.sleep(0.1)
    print(f"ready {len(ready)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
