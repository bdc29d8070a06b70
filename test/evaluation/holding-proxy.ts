/** A TCP proxy in front of a real server (MinIO) that a test can hold: the evaluator then cannot reach it, its connections wait. */
import net from 'node:net';

/** A TCP proxy whose new connections wait (bytes buffered, nothing forwarded) while it holds. */
export async function holdingProxy(host: string, port: number) {
  let holding = false;
  const waiting: (() => void)[] = [];
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.pause();
    const connect = () => {
      if (client.destroyed) return;
      const upstream = net.connect(port, host);
      open.add(upstream);
      upstream.on('close', () => open.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    };
    if (holding) waiting.push(connect);
    else connect();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    /** holds new connections and drops the live ones (kept-alive sockets would get through) */
    hold() {
      holding = true;
      for (const s of open) s.destroy();
    },
    release() {
      holding = false;
      for (const go of waiting.splice(0)) go();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export type HoldingProxy = Awaited<ReturnType<typeof holdingProxy>>;
