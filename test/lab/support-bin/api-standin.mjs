#!/usr/bin/env node
// A stand-in node for the lab suites: reads a node config (the daemon's JSON format), listens on
// its API socket and answers `status` as a settled cluster whose DC is the lowest node id, so the
// lab's settle polling can be tested through the real ApiClient before the daemon exists.
// Usage: api-standin.mjs CONFIG [--settle-after-ms N]
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const afterMs = Number(process.argv[process.argv.indexOf('--settle-after-ms') + 1] ?? 0) || 0;
const started = Date.now();
const ids = cfg.nodes.map((n) => n.id);
const dc = cfg.nodes.find((n) => n.id === Math.min(...ids)).name;
const status = () => ({
  clusterName: cfg.clusterName,
  node: cfg.node.name,
  ...(Date.now() - started >= afterMs ? { dc } : {}),
  quorate: true,
  viewId: '1@1',
  nodes: cfg.nodes.map((n) => ({ name: n.name, id: n.id, online: true, standby: false, maintenance: false, unclean: false })),
  resources: [],
  transition: { state: 'idle', id: 0 },
  cibVersion: '0.1.0',
});
rmSync(cfg.api.socket, { force: true });
const http = createServer();
const wss = new WebSocketServer({ server: http });
wss.on('connection', (ws) =>
  ws.on('message', (data) => {
    const req = JSON.parse(data.toString());
    const reply = req.method === 'status' ? { id: req.id, ok: true, result: status() } : { id: req.id, ok: false, error: { code: 'unknown-method', message: req.method } };
    ws.send(JSON.stringify(reply));
  }),
);
http.listen(cfg.api.socket);
