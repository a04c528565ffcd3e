import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpStub {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Ends every connection, also those the handler never answered, and stops listening. */
  close(): Promise<void>;
}

/**
 * A local HTTP server that answers with `handler` (which may answer late, or never) on a free port:
 * a dependency that is slow, silent or stalls mid-body, for the specs of its clients.
 */
export async function httpStub(handler: RequestListener): Promise<HttpStub> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
