/**
 * A proxy in front of an engine's socket (Docker's Unix socket, the API server's TCP port) that
 * can drop every open connection at once, as a daemon restart, a load balancer or a flaky
 * network would: long-polls (Docker `wait`), followed logs, watches and exec streams included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface CuttingProxy {
  /** `unix:///…` for a Unix socket upstream, `host:port` for TCP. */
  readonly address: string;
  readonly port?: number;
  /** Connections the proxy has accepted so far. */
  readonly accepted: number;
  /** Destroys every open connection, both ends; returns how many there were. */
  cutAll(): number;
  close(): Promise<void>;
}

export type Upstream = { readonly socketPath: string } | { readonly host: string; port: number };

export async function startCuttingProxy(upstream: Upstream): Promise<CuttingProxy> {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const remote =
      'socketPath' in upstream
        ? net.connect(upstream.socketPath)
        : net.connect(upstream.port, upstream.host);
    open.add(client);
    open.add(remote);
    const drop = () => {
      open.delete(client);
      open.delete(remote);
      client.destroy();
      remote.destroy();
    };
    client.on('error', drop).on('close', drop);
    remote.on('error', drop).on('close', drop);
    client.pipe(remote);
    remote.pipe(client);
  });
  let dir: string | undefined;
  let address: string;
  let port: number | undefined;
  if ('socketPath' in upstream) {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cook-proxy-'));
    const socket = path.join(dir, 'engine.sock');
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    address = `unix://${socket}`;
  } else {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    address = `127.0.0.1:${port}`;
  }
  return {
    address,
    ...(port === undefined ? {} : { port }),
    get accepted() {
      return accepted;
    },
    cutAll() {
      const sockets = [...open];
      for (const socket of sockets) socket.destroy();
      open.clear();
      return sockets.length / 2;
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
