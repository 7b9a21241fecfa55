/**
 * The s3rver process that startS3Server forks: `node --openssl-legacy-provider s3-server-process.ts
 * <directory> <bucket> [<port>]` (port 0, the default: any free one). s3rver makes ListObjectsV2
 * continuation tokens with DES, which Node's OpenSSL 3 offers only through the legacy provider; a process of
 * its own keeps that flag out of the tests' process.
 * It reports `{ port }` to its parent and exits when told to or when the parent goes away.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

const [directory, bucket, port = '0'] = process.argv.slice(2);
if (!directory || !bucket || !process.send) {
  throw new Error('usage: forked with an IPC channel, arguments <directory> <bucket> [<port>]');
}
const s3rver = new S3rver({ directory, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
await s3rver.configureBuckets();
const server = createServer(s3rver.callback());
server.listen(Number(port), '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
// Exit at once, connections and all: the parent is stopping the server, or is gone.
const exit = () => process.exit(0);
process.on('disconnect', exit);
process.on('SIGTERM', exit);
