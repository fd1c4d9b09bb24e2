// node-echo.js - the Node.js peer of the C10K comparison: an echo server on
// Node's `net` module, the way a JavaScript programmer would write one.
//
//   node node-echo.js [--host ADDR] [--port N]
//
// Same contract as the chapters' echo-server: first stdout line
// `listening on HOST:PORT`, every byte echoed in order, the client's
// half-close answered by finishing the writes and closing (allowHalfOpen
// plus pipe(), which also stops reading while the socket's output is over
// its high-water mark), SIGINT/SIGTERM exit 0.
'use strict';
const net = require('net');

let host = '127.0.0.1';
let port = 8888;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--host' && i + 1 < argv.length) {
    host = argv[++i];
  } else if (argv[i] === '--port' && i + 1 < argv.length) {
    port = Number(argv[++i]);
    if (!/^\d+$/.test(argv[i]) || port > 65535) {
      console.error(`node-echo: bad port '${argv[i]}'`);
      process.exit(2);
    }
  } else {
    console.error(`node-echo: bad argument '${argv[i]}'\n` +
                  'usage: node node-echo.js [--host ADDR] [--port N]');
    process.exit(2);
  }
}

const clients = new Set();
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  clients.add(socket);
  socket.setNoDelay(true);
  socket.on('error', () => {}); // a reset costs only this connection
  socket.on('close', () => clients.delete(socket));
  socket.pipe(socket); // ends our side after the client's end
});
server.on('error', (err) => {
  console.error(`node-echo: ${err.message}`);
  process.exit(1);
});
server.listen({ host, port, backlog: 4096 }, () => {
  const a = server.address();
  process.stdout.write(`listening on ${a.address}:${a.port}\n`);
});

function stop() {
  server.close();
  for (const s of clients) s.destroy();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
