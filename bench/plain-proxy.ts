/**
 * The ceiling bench:gateway measures the gateway against: the least a Node HTTP proxy in a process of its own
 * can do (node:http in, node:http out through a keep-alive Agent, bodies piped), with none of the gateway's
 * parsing, auth, header rules or http-proxy-3. `node bench/plain-proxy.ts <host> <port>` prints the port it
 * listens on (127.0.0.1) and forwards every request to <host>:<port>.
 */
import { Agent, createServer, request } from 'node:http';

const [host, port] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
const server = createServer((req, res) => {
  const forwarded = request(
    { host, port: Number(port), method: req.method, path: req.url, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  forwarded.on('error', () => res.destroy());
  req.pipe(forwarded);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(typeof address === 'object' && address !== null ? address.port : 0);
});
process.once('SIGTERM', () => process.exit(0));
