// A TCP port on 127.0.0.1 that nothing listens on now: the OS picks a free one, which is closed again
// at once, so a test can start a server there or probe a port known to be closed.
import { createServer, type AddressInfo } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
