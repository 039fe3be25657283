/**
 * A TCP proxy on a loopback port that can be frozen: connections stay open
 * but nothing flows upstream — a server that hangs rather than one that is
 * down.
 */
import { connect, createServer } from "node:net";
import type { AddressInfo, Socket } from "node:net";

export interface FreezableProxy {
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  port: number;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function freezableProxy(target: number): Promise<FreezableProxy> {
  const upstreams = new Set<Socket>();
  const sockets = new Set<Socket>();
  let frozen = false;
  const server = createServer((client) => {
    const upstream = connect({ host: "127.0.0.1", port: target });
    upstreams.add(upstream);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        upstreams.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    if (frozen) upstream.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    freeze() {
      frozen = true;
      for (const upstream of upstreams) upstream.pause();
    },
    thaw() {
      frozen = false;
      for (const upstream of upstreams) upstream.resume();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
