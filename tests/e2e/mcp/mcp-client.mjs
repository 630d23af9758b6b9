// A minimal MCP client: spawns the real `@infisical/mcp` server over stdio and speaks
// newline-delimited JSON-RPC 2.0 to it, the way Claude Code does. Everything the server writes
// (stdout and stderr) is kept for assertions and the secret-leak check.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const MCP_ENTRY = path.join(here, 'node_modules', '@infisical', 'mcp', 'dist', 'index.js');
export const PROTOCOL_VERSION = '2025-06-18';

export class McpClient {
  /** Spawns the server with exactly `env` (nothing inherited, so no stray HTTP_PROXY). */
  constructor({ env, label }) {
    this.label = label;
    this.stdout = '';
    this.stderr = '';
    this.nextId = 1;
    this.pending = new Map();
    this.exit = null;
    this.child = spawn(process.execPath, [MCP_ENTRY], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      this.stdout += chunk;
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) this.onLine(line);
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk) => { this.stderr += chunk; });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        for (const { reject, timer } of this.pending.values()) {
          clearTimeout(timer);
          reject(new Error(`MCP server exited (code ${code}, signal ${signal}); stderr: ${this.stderr.slice(-500)}`));
        }
        this.pending.clear();
        resolve(this.exit);
      });
    });
    this.child.stdin.on('error', () => {});
  }

  onLine(line) {
    let msg;
    try { msg = JSON.parse(line); } catch { return; }
    if (msg.id === undefined || !this.pending.has(msg.id)) return;
    const { resolve, timer } = this.pending.get(msg.id);
    clearTimeout(timer);
    this.pending.delete(msg.id);
    resolve(msg);
  }

  send(obj) { this.child.stdin.write(`${JSON.stringify(obj)}\n`); }

  /** Sends a request; resolves with the whole JSON-RPC response (`result` or `error`). */
  request(method, params, timeoutMs = 10_000) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method, params) { this.send({ jsonrpc: '2.0', method, ...(params ? { params } : {}) }); }

  async initialize() {
    const res = await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'vault-proxy-e2e', version: '1.0.0' },
    });
    if (res.error) throw new Error(`initialize failed: ${JSON.stringify(res.error)}`);
    this.notify('notifications/initialized');
    return res.result;
  }

  /**
   * Calls a tool. Returns `{ ok: true, text }` for a result, `{ ok: false, message }` for a JSON-RPC
   * error (how @infisical/mcp reports every failure) or an `isError` result.
   * The default timeout leaves room for the SDK's retries (~15 s) so a dead proxy shows as an error.
   */
  async callTool(name, args, timeoutMs = 25_000) {
    const res = await this.request('tools/call', { name, arguments: args }, timeoutMs);
    if (res.error) return { ok: false, message: String(res.error.message), code: res.error.code };
    const text = (res.result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
    if (res.result?.isError) return { ok: false, message: text };
    return { ok: true, text };
  }

  async close() {
    if (this.exit) return this.exit;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2_000);
    this.child.kill('SIGTERM');
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}
