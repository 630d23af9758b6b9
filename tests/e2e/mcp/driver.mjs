// End-to-end test of issue 6: the real, unmodified Infisical MCP server (@infisical/mcp 0.0.24)
// → vault-proxy → (TLS) fake Cloudflare Access gate → fake Infisical, all on 127.0.0.1.
//
//   node driver.mjs <path-to-vault-proxy>   the full chain
//   node driver.mjs --direct                harness self-check: the MCP server talks straight to
//                                           the fake Infisical over plain HTTP (gate bypassed);
//                                           the proxy scenarios are skipped
//
// Prints one line per scenario (PASS name / FAIL name: reason / SKIP name: reason), then
// `N passed, M failed[, K skipped]`; exits 1 if any scenario failed.
// VAULT_PROXY_E2E_KEEP=1 keeps the temp dir (certificates, logs); it is also kept on failure.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import { ACCESS_TEAM_HOST, UPSTREAM_NAME, makeCertificates, startFakeUpstream } from './fake-upstream.mjs';
import { MCP_ENTRY, McpClient } from './mcp-client.mjs';

const EXPECTED_USER_AGENT = 'raxx-vault-proxy/1.0';
const WATCHDOG_MS = 120_000;

const args = process.argv.slice(2);
const direct = args[0] === '--direct';
const binary = direct ? null : args[0];
if (!direct && !binary) {
  console.error('usage: node driver.mjs <path-to-vault-proxy> | --direct');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Results

const results = [];
const report = (status, name, reason) => {
  results.push({ status, name, reason });
  const oneLine = reason ? `: ${String(reason).replace(/\s+/g, ' ').slice(0, 600)}` : '';
  console.log(`${status} ${name}${oneLine}`);
};

class Failure extends Error {}
const check = (cond, reason) => { if (!cond) throw new Failure(reason); };

async function scenario(name, fn) {
  fake.state.tag = name;
  const t0 = Date.now();
  try {
    await fn();
    report('PASS', name);
  } catch (err) {
    report('FAIL', name, err instanceof Failure ? err.message : `${err.message}`);
  } finally {
    fake.state.tag = null;
    if (process.env.VAULT_PROXY_E2E_TIMING === '1') console.error(`  ${name}: ${Date.now() - t0} ms`);
  }
}
const skip = (name, reason) => report('SKIP', name, reason);

// ---------------------------------------------------------------------------------------------
// Fixtures: per-run secrets, certificates, fake upstream

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-proxy-e2e-mcp-'));
const rand = (n = 16) => crypto.randomBytes(n).toString('hex');

const cf = { id: `${rand(16)}.access`, secret: rand(32) };
const identities = {
  reader: { clientId: crypto.randomUUID(), clientSecret: rand(32), readScope: '/E2E_*', canWrite: false },
  writer: { clientId: crypto.randomUUID(), clientSecret: rand(32), readScope: '/**', canWrite: true },
  shortLived: { clientId: crypto.randomUUID(), clientSecret: rand(32), readScope: '/**', canWrite: false, ttlSeconds: 1 },
  // Held by a proxy in auto-auth mode: TTL 2 s, max TTL 4 s (the fake's max is twice the TTL).
  autoAuth: { clientId: crypto.randomUUID(), clientSecret: rand(32), readScope: '/**', canWrite: false, ttlSeconds: 2 },
};
const localTokens = []; // placeholders handed out by auto-auth proxies: never in any proxy log
const project = { id: crypto.randomUUID(), env: 'dev' };
const seeded = {
  E2E_DATABASE_URL: `postgres://app:${rand(8)}@db.internal:5432/app`,
  E2E_API_KEY: `key-${rand(12)}`,
  ADMIN_ROOT_TOKEN: `root-${rand(12)}`,
};

if (!fs.existsSync(MCP_ENTRY)) {
  console.error(`@infisical/mcp is not installed (${MCP_ENTRY}); run \`npm ci\` in ${path.dirname(MCP_ENTRY)}/../../..`);
  process.exit(2);
}

const tls = makeCertificates(tmp);
const fake = await startFakeUpstream({
  tls,
  plainHttp: direct,
  cfClientId: cf.id,
  cfClientSecret: cf.secret,
  identities: Object.fromEntries(Object.values(identities).map(({ clientId, ...rest }) => [clientId, rest])),
});
for (const [name, value] of Object.entries(seeded)) fake.state.putSecret(project.id, project.env, '/', name, value);

// ---------------------------------------------------------------------------------------------
// Processes: the proxy and MCP servers. All output is kept for the leak check.

const proxyRuns = []; // { child, stdout, stderr, port, exit }
let proxy = null;

function startProxy(port, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const env = {
      PATH: process.env.PATH,
      HOME: tmp,
      VAULT_PROXY_STATE_DIR: path.join(tmp, 'state'), // keep `vault-proxy status` of the user's own proxy clean
      VAULT_PROXY_LISTEN: '127.0.0.1',
      VAULT_PROXY_PORT: String(port),
      VAULT_PROXY_UPSTREAM: `https://${UPSTREAM_NAME}`,
      VAULT_PROXY_CONNECT_TO: `127.0.0.1:${fake.httpsPort}`,
      VAULT_PROXY_CA_FILE: tls.caFile,
      CF_ACCESS_CLIENT_ID: cf.id,
      CF_ACCESS_CLIENT_SECRET: cf.secret,
      ...extraEnv,
    };
    for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) if (process.env[k]) env[k] = process.env[k];
    const child = spawn(binary, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const run = { child, stdout: '', stderr: '', port: null, exit: null };
    proxyRuns.push(run);
    run.exited = new Promise((res) => child.on('exit', (code, signal) => { run.exit = { code, signal }; res(run.exit); }));
    const timer = setTimeout(() => done(new Error(`no "listening on" line within 15 s; stderr: ${run.stderr.slice(-800)}`)), 15_000);
    let settled = false;
    const done = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err); else resolve(run);
    };
    child.on('error', (err) => done(new Error(`cannot start ${binary}: ${err.message}`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c) => { run.stdout += c; });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c) => {
      run.stderr += c;
      const m = run.stderr.match(/listening on http:\/\/(\[[^\]]+\]|[^\s:/]+):(\d+)/);
      if (m && run.port === null) {
        run.port = Number(m[2]);
        done();
      }
    });
    run.exited.then(({ code, signal }) =>
      done(new Error(`proxy exited before listening (code ${code}, signal ${signal}); stderr: ${run.stderr.slice(-800)}`)));
  });
}

async function stopProxy(run) {
  if (!run || run.exit) return run?.exit;
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 5_000);
  run.child.kill('SIGTERM');
  const exit = await run.exited;
  clearTimeout(timer);
  return exit;
}

const mcpRuns = [];
function hostUrl() {
  return direct ? `http://127.0.0.1:${fake.httpPort}` : `http://127.0.0.1:${proxy.port}`;
}
async function startMcp(identity, label, overrides = {}) {
  const env = {
    PATH: process.env.PATH,
    HOME: tmp,
    INFISICAL_HOST_URL: hostUrl(),
    ...(identity ? {
      INFISICAL_UNIVERSAL_AUTH_CLIENT_ID: identity.clientId,
      INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET: identity.clientSecret,
    } : {}),
    ...overrides,
    NO_PROXY: 'localhost,127.0.0.1,::1',
    // Only reached if an Access redirect gets through to the client: keeps the test on loopback
    // (see the login-page trap in fake-upstream.mjs).
    HTTPS_PROXY: `http://127.0.0.1:${fake.trapPort}`,
    NODE_EXTRA_CA_CERTS: tls.caFile,
  };
  const client = new McpClient({ env, label });
  mcpRuns.push(client);
  await client.initialize();
  return client;
}

const secretArgs = (secretName, extra = {}) =>
  ({ projectId: project.id, environmentSlug: project.env, secretName, ...extra });

// ---------------------------------------------------------------------------------------------
// Auto-auth (issue 14): a second proxy holds the autoAuth identity; the MCP server holds only the
// proxy's local placeholder (access-token), or logs in with the identity against the proxy, which
// answers locally. Tool calls keep working across token TTLs and the max TTL.

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const countOf = (list, id) => list.filter((x) => x === id).length;

async function callsAcross(client, what) {
  // 4 calls over about 6 s: past the 2 s TTL and the 4 s max TTL of the identity's tokens.
  for (let i = 0; i < 4; i++) {
    const r = await client.callTool('get-secret', secretArgs('E2E_API_KEY'));
    check(r.ok && r.text.includes(seeded.E2E_API_KEY), `${what}: call ${i + 1} failed: ${r.message ?? r.text}`);
    if (i < 3) await sleep(2_000);
  }
}

async function autoAuthScenarios() {
  const id = identities.autoAuth;
  const tokenFile = path.join(tmp, 'auto-auth-local-token');
  const aa = await startProxy(0, {
    VAULT_PROXY_AUTO_AUTH: 'universal-auth',
    VAULT_PROXY_LOCAL_TOKEN_FILE: tokenFile,
    INFISICAL_MCP_CLIENT_ID: id.clientId,
    INFISICAL_MCP_CLIENT_SECRET: id.clientSecret,
  });
  const url = `http://127.0.0.1:${aa.port}`;
  try {
    const local = fs.readFileSync(tokenFile, 'utf8').trim();
    localTokens.push(local);
    await scenario('auto-auth-access-token-across-ttls', async () => {
      check(/^vpl_/.test(local), 'the token file holds no placeholder');
      const logins0 = countOf(fake.state.logins, id.clientId);
      const client = await startMcp(null, 'auto-auth-access-token',
        { INFISICAL_HOST_URL: url, INFISICAL_AUTH_METHOD: 'access-token', INFISICAL_TOKEN: local });
      await callsAcross(client, 'access-token');
      await client.close();
      const logins = countOf(fake.state.logins, id.clientId) - logins0;
      const renews = countOf(fake.state.renews, id.clientId);
      check(logins >= 1 && renews >= 1, `expected the proxy to log in again and renew, saw ${logins} login(s), ${renews} renew(s)`);
      const leaked = fake.state.requests.filter((q) => JSON.stringify(q.headers).includes(local) || (q.body ?? '').toString().includes(local));
      check(leaked.length === 0, `the placeholder reached the upstream in ${leaked.length} request(s)`);
    });
    await scenario('auto-auth-universal-auth-client-across-ttls', async () => {
      const upstreamLogins = () => fake.state.requests.filter((q) => q.url.startsWith('/api/v1/auth/universal-auth/login')).length;
      const before = upstreamLogins();
      const t0 = Date.now();
      const client = await startMcp(id, 'auto-auth-universal', { INFISICAL_HOST_URL: url });
      await callsAcross(client, 'universal-auth');
      await client.close();
      // The client's own login was answered by the proxy (its status counts it), not sent upstream.
      const status = await new Promise((resolve, reject) => {
        http.get(`${url}/__vault-proxy/status`, (res) => {
          let body = '';
          res.on('data', (c) => { body += c; });
          res.on('end', () => resolve(JSON.parse(body)));
        }).on('error', reject);
      });
      check(status.headers.local_auth_answers >= 1, `the proxy answered no login locally: ${JSON.stringify(status.headers)}`);
      check(status.headers.local_logins_refused === 0, `the proxy refused ${status.headers.local_logins_refused} login(s)`);
      check(status.auto_auth.state === 'ready', `auto-auth state: ${status.auto_auth.state}`);
      // The proxy's own logins: one per max TTL (4 s) less its lead time, so at most one per 2 s.
      const seconds = (Date.now() - t0) / 1000;
      check(upstreamLogins() - before <= Math.ceil(seconds / 2) + 1,
        `the upstream saw ${upstreamLogins() - before} logins in ${seconds.toFixed(1)} s`);
    });
  } finally {
    await stopProxy(aa);
  }
}

// ---------------------------------------------------------------------------------------------
// Guardrails (issue 18, docs/guardrails.md): a proxy with the read-only preset in front of the
// writer identity, whose role upstream would allow writes: reads work, and every write is refused
// by the proxy itself, with a message the MCP user sees, before anything reaches the vault.

async function guardrailScenarios() {
  const auditFile = path.join(tmp, 'guardrails-audit.jsonl');
  const ro = await startProxy(0, { VAULT_PROXY_POLICY: 'read-only', VAULT_PROXY_AUDIT_LOG: auditFile });
  const url = `http://127.0.0.1:${ro.port}`;
  try {
    const client = await startMcp(identities.writer, 'read-only-policy', { INFISICAL_HOST_URL: url });
    await scenario('read-only-policy-reads', async () => {
      let r = await client.callTool('get-secret', secretArgs('E2E_API_KEY'));
      check(r.ok && r.text.includes(seeded.E2E_API_KEY), `get-secret under read-only: ${r.message ?? r.text}`);
      r = await client.callTool('list-secrets', { projectId: project.id, environmentSlug: project.env });
      check(r.ok && r.text.includes('E2E_DATABASE_URL'), `list-secrets under read-only: ${r.message ?? r.text}`);
    });
    await scenario('read-only-policy-refuses-writes', async () => {
      const name = 'E2E_API_KEY';
      const calls = [
        ['create-secret', secretArgs(`E2E_RO_${rand(4).toUpperCase()}`, { secretValue: 'ro-value' }), 'create-secret'],
        ['update-secret', secretArgs(name, { secretValue: 'overwritten' }), 'update-secret'],
        ['delete-secret', secretArgs(name), 'delete-secret'],
      ];
      for (const [tool, args, op] of calls) {
        const r = await client.callTool(tool, args);
        check(!r.ok, `${tool} went through a read-only proxy: ${r.text}`);
        check(r.message.includes('[StatusCode=403]'), `${tool}: status missing: ${r.message}`);
        check(r.message.includes(`vault-proxy's local policy "read-only" refused ${op}`),
          `${tool}: the policy's message did not reach the user: ${r.message}`);
      }
      const writes = fake.state.requests.filter((q) => q.tag === 'read-only-policy-refuses-writes' && q.method !== 'GET');
      check(writes.length === 0, `${writes.length} write(s) reached the upstream: ${writes.map((q) => `${q.method} ${q.url}`).join(', ')}`);
      check(fake.state.secrets.size >= Object.keys(seeded).length, 'a seeded secret is gone');
      const stored = [...fake.state.secrets.values()].find((s) => s.secretKey === name);
      check(stored?.secretValue === seeded[name], 'the seeded secret was changed');
    });
    await scenario('audit-trail-names-the-mcp-server', async () => {
      // The writer is asynchronous: wait for the five calls' lines (logins are audited too).
      let lines = [];
      for (let i = 0; i < 100; i++) {
        lines = fs.existsSync(auditFile) ? fs.readFileSync(auditFile, 'utf8').split('\n').filter(Boolean) : [];
        if (lines.filter((l) => !l.includes('"operation":"login"')).length >= 5) break;
        await sleep(50);
      }
      const text = lines.join('\n');
      for (const value of [...Object.values(seeded), identities.writer.clientSecret, cf.secret])
        check(!text.includes(value), 'a secret value or credential is in the audit trail');
      const records = lines.map((l) => JSON.parse(l));
      const pid = client.child.pid;
      const mine = records.filter((r) => r.client?.pid === pid);
      const ops = mine.map((r) => `${r.operation}:${r.decision}`);
      for (const want of ['read-secret:allow', 'list-secrets:allow', 'create-secret:refuse', 'update-secret:refuse', 'delete-secret:refuse'])
        check(ops.includes(want), `no ${want} line for the MCP server (pid ${pid}): ${ops.join(', ')}`);
      const read = mine.find((r) => r.operation === 'read-secret');
      check(read.environment === project.env && read.keys?.[0] === 'E2E_API_KEY' && read.listener === 'tcp',
        `read-secret line: ${JSON.stringify(read)}`);
      check(/node/.test(read.client.command ?? ''), `the client's command: ${read.client.command}`);
    });
    await client.close();
  } finally {
    await stopProxy(ro);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

let watchdog = setTimeout(async () => {
  report('FAIL', 'watchdog', `the run took longer than ${WATCHDOG_MS / 1000} s`);
  await cleanup(true);
  process.exit(1);
}, WATCHDOG_MS);

const started = Date.now();
let reader;

try {
  await scenario('fake-gate-self-check', async () => {
    // The gate must reject what the proxy exists to fix, or the rest of the run proves nothing.
    const hit = (headers, method = 'GET', p = '/api/status') => new Promise((resolve, reject) => {
      const req = https.request({
        host: '127.0.0.1', port: fake.httpsPort, servername: UPSTREAM_NAME, ca: fs.readFileSync(tls.caFile),
        method, path: p, headers: { host: UPSTREAM_NAME, 'user-agent': EXPECTED_USER_AGENT, ...headers }, agent: false,
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
    const token = { 'cf-access-client-id': cf.id, 'cf-access-client-secret': cf.secret };
    let r = await hit(token);
    check(r.status === 200, `valid request: expected 200, got ${r.status}`);
    r = await hit({ ...token, 'user-agent': 'axios/1.21.1' });
    check(r.status === 403 && r.body === 'error code: 1010', `axios UA: expected 403 "error code: 1010", got ${r.status} ${r.body}`);
    r = await hit({ ...token, host: '127.0.0.1' });
    check(r.status === 403, `wrong Host: expected 403, got ${r.status}`);
    for (const [style, status] of [['html403', 403], ['401', 401], ['302', 302]]) {
      fake.state.gate.rejectStyle = style;
      r = await hit({ 'cf-access-client-id': cf.id, 'cf-access-client-secret': 'wrong' });
      check(r.status === status, `wrong token (${style}): expected ${status}, got ${r.status}`);
      if (style === '302') {
        check(r.headers.location?.startsWith(`https://${ACCESS_TEAM_HOST}/cdn-cgi/access/login/${UPSTREAM_NAME}?`),
          `302 Location: ${r.headers.location}`);
      }
      r = await hit({});
      check(r.status === status, `missing token (${style}): expected ${status}, got ${r.status}`);
    }
    fake.state.gate.rejectStyle = 'html403';
  });

  if (!direct) {
    await scenario('proxy-starts', async () => {
      proxy = await startProxy(0);
      check(proxy.port > 0, 'no port parsed');
    });
  }
  if (!direct && !proxy) throw new Failure('the proxy did not start; the remaining scenarios need it');

  if (!direct) {
    await scenario('proxy-relays-chunked-gzip-keepalive', async () => {
      // Cloudflare sends compressed JSON chunked. Two requests on one kept-alive connection, the way
      // axios sends them: each body must decode, and the second answer must parse, not hit garbage.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const get = () => new Promise((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1', port: proxy.port, path: '/api/status', agent,
          headers: { 'accept-encoding': 'gzip, compress, deflate, br', accept: 'application/json, text/plain, */*' },
        }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ res, body: Buffer.concat(chunks), socket: req.socket }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      try {
        const seen = [];
        for (let i = 1; i <= 2; i++) {
          const { res, body, socket } = await get().catch((err) => { throw new Failure(`request ${i}: ${err.code ?? ''} ${err.message}`); });
          check(res.statusCode === 200, `request ${i}: status ${res.statusCode}`);
          let text;
          try {
            text = res.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(body).toString('utf8') : body.toString('utf8');
          } catch (err) {
            throw new Failure(`request ${i}: body (${body.length} bytes, ${res.headers['transfer-encoding'] ?? 'no TE'}) does not gunzip: ${err.message}`);
          }
          check(/"message":"Ok"/.test(text), `request ${i}: body ${JSON.stringify(text.slice(0, 120))} (${body.length} bytes, ${res.headers['transfer-encoding'] ?? 'no TE'})`);
          seen.push(socket);
        }
        check(seen[0] === seen[1], 'the proxy did not keep the connection alive');
      } finally {
        agent.destroy();
      }
    });
  }

  await scenario('mcp-initialize-and-tools-list', async () => {
    reader = await startMcp(identities.reader, 'reader');
    const tools = await reader.request('tools/list', {});
    check(!tools.error, `tools/list error: ${JSON.stringify(tools.error)}`);
    const names = tools.result.tools.map((t) => t.name);
    for (const t of ['get-secret', 'list-secrets', 'create-secret', 'delete-secret']) {
      check(names.includes(t), `tools/list lacks ${t}: ${names.join(',')}`);
    }
    check(/Infisical MCP Server running on stdio/.test(reader.stderr), `unexpected MCP stderr: ${reader.stderr}`);
  });

  await scenario('get-secret-in-scope', async () => {
    const r = await reader.callTool('get-secret', secretArgs('E2E_DATABASE_URL'));
    check(r.ok, `tool error: ${r.message}`);
    check(r.text.startsWith('Secret retrieved successfully:'), `unexpected text: ${r.text}`);
    check(r.text.includes(seeded.E2E_DATABASE_URL), `value missing from: ${r.text}`);
  });

  await scenario('list-secrets-in-scope', async () => {
    const r = await reader.callTool('list-secrets', { projectId: project.id, environmentSlug: project.env });
    check(r.ok, `tool error: ${r.message}`);
    check(r.text.includes(seeded.E2E_DATABASE_URL) && r.text.includes(seeded.E2E_API_KEY), `values missing from: ${r.text}`);
    check(!r.text.includes(seeded.ADMIN_ROOT_TOKEN), 'an out-of-scope secret was listed');
  });

  await scenario('out-of-scope-read', async () => {
    const r = await reader.callTool('get-secret', secretArgs('ADMIN_ROOT_TOKEN'));
    check(!r.ok, `expected an error, got: ${r.text}`);
    check(r.message.includes('You are not allowed to read on secrets'), `RBAC message did not reach the user: ${r.message}`);
    check(r.message.includes('[StatusCode=403]'), `status missing: ${r.message}`);
    check(!r.message.includes(seeded.ADMIN_ROOT_TOKEN), 'the secret value leaked into the error');
  });

  await scenario('write-without-permission', async () => {
    const r = await reader.callTool('create-secret', secretArgs(`E2E_DENIED_${rand(4)}`, { secretValue: 'x' }));
    check(!r.ok, `expected an error, got: ${r.text}`);
    check(r.message.includes('You are not allowed to create on secrets'), `RBAC message did not reach the user: ${r.message}`);
  });

  await scenario('create-and-delete-secret', async () => {
    const writer = await startMcp(identities.writer, 'writer');
    const name = `E2E_CREATED_${rand(4).toUpperCase()}`;
    const value = `created-${rand(8)}`;
    let r = await writer.callTool('create-secret', secretArgs(name, { secretValue: value }));
    check(r.ok, `create-secret error: ${r.message}`);
    check(r.text.startsWith('Secret created successfully:') && r.text.includes(value), `unexpected create text: ${r.text}`);
    const stored = [...fake.state.secrets.values()].find((s) => s.secretKey === name);
    check(stored?.secretValue === value, 'the secret did not arrive at the fake Infisical');
    r = await writer.callTool('get-secret', secretArgs(name));
    check(r.ok && r.text.includes(value), `read-back failed: ${r.message ?? r.text}`);

    r = await writer.callTool('delete-secret', secretArgs(name));
    check(r.ok, `delete-secret error: ${r.message}`);
    check(r.text === `Secret deleted successfully: ${name}`, `unexpected delete text: ${r.text}`);
    const del = fake.state.requests.filter((q) => q.tag === 'create-and-delete-secret' && q.method === 'DELETE');
    check(del.length === 1, `expected one DELETE upstream, saw ${del.length}`);
    check(del[0].deleteBodyArrived === true, `DELETE arrived without its JSON body (length ${del[0].bodyLength})`);
    const body = JSON.parse(del[0].body.toString('utf8'));
    check(body.workspaceId === project.id && body.environment === project.env && body.secretPath === '/',
      `DELETE body: ${del[0].body.toString('utf8')}`);
    check(/^application\/json/.test(del[0].headers['content-type'] ?? ''), `DELETE content-type: ${del[0].headers['content-type']}`);
    check(![...fake.state.secrets.values()].some((s) => s.secretKey === name), 'the secret still exists upstream');
    await writer.close();
  });

  await scenario('expired-token-error-reaches-user', async () => {
    // @infisical/mcp never renews its token (infisical-api.md §1.2); the expiry must at least be legible.
    const client = await startMcp(identities.shortLived, 'short-lived');
    let r = await client.callTool('get-secret', secretArgs('E2E_API_KEY'));
    check(r.ok && r.text.includes(seeded.E2E_API_KEY), `first call failed: ${r.message ?? r.text}`);
    await new Promise((res) => setTimeout(res, 1_200));
    r = await client.callTool('get-secret', secretArgs('E2E_API_KEY'));
    check(!r.ok, `expected a TokenError after the TTL, got: ${r.text}`);
    check(r.message.includes('Your token has expired. Please re-authenticate.'), `unexpected message: ${r.message}`);
    await client.close();
  });

  if (direct) {
    skip('auto-auth-access-token-across-ttls', 'direct mode (no proxy)');
    skip('auto-auth-universal-auth-client-across-ttls', 'direct mode (no proxy)');
    skip('read-only-policy-reads', 'direct mode (no proxy)');
    skip('read-only-policy-refuses-writes', 'direct mode (no proxy)');
    skip('audit-trail-names-the-mcp-server', 'direct mode (no proxy)');
  } else {
    await autoAuthScenarios();
    await guardrailScenarios();
  }

  if (direct) {
    skip('proxy-restart-between-calls', 'direct mode (no proxy)');
  } else {
    await scenario('proxy-restart-between-calls', async () => {
      let r = await reader.callTool('get-secret', secretArgs('E2E_API_KEY'));
      check(r.ok && r.text.includes(seeded.E2E_API_KEY), `call before the restart failed: ${r.message ?? r.text}`);
      const port = proxy.port;
      const exit = await stopProxy(proxy);
      check(exit.code === 0, `SIGTERM: expected exit 0 (CONTRACT.md), got code ${exit.code} signal ${exit.signal}`);
      proxy = await startProxy(port);
      check(proxy.port === port, `restarted on ${proxy.port}, not ${port}`);
      const t0 = Date.now();
      r = await reader.callTool('get-secret', secretArgs('E2E_API_KEY'));
      check(r.ok && r.text.includes(seeded.E2E_API_KEY), `call after the restart failed: ${r.message ?? r.text}`);
      const ms = Date.now() - t0;
      check(ms < 5_000, `call after the restart took ${ms} ms (SDK retries hit a dead proxy)`);
    });
  }

  for (const style of ['html403', '401', '302']) {
    const name = `service-token-rejected-${style}`;
    if (direct) { skip(name, 'direct mode (no proxy, gate bypassed)'); continue; }
    await scenario(name, async () => {
      // The Access application no longer accepts the proxy's token (rotated or revoked).
      fake.state.gate.clientSecret = rand(32);
      fake.state.gate.rejectStyle = style;
      const hitsBefore = fake.state.loginPageHits.length;
      const client = await startMcp(identities.reader, `rejected-${style}`);
      try {
        const r = await client.callTool('get-secret', secretArgs('E2E_API_KEY'));
        const seen = r.ok ? `result "${r.text}"` : `error "${r.message}"`;
        check(!(r.ok && r.text.includes('Secret retrieved successfully: undefined')),
          'the user got "Secret retrieved successfully: undefined" (Access redirect followed as a success)');
        check(!r.ok, `expected a JSON-RPC error, got ${seen}`);
        check(r.message.includes('Cloudflare Access'), `the error does not name Cloudflare Access: ${seen}`);
        const hits = fake.state.loginPageHits.length - hitsBefore;
        check(hits === 0, `the client followed the Access redirect to the login page ${hits} time(s)`);
      } finally {
        fake.state.gate.clientSecret = cf.secret;
        fake.state.gate.rejectStyle = 'html403';
        await client.close();
      }
    });
  }

  if (direct) {
    skip('upstream-saw-injected-headers', 'direct mode (no proxy)');
  } else {
    await scenario('upstream-saw-injected-headers', async () => {
      const seen = fake.state.requests.filter((q) => q.listener === 'https' && q.tag !== 'fake-gate-self-check');
      check(seen.length >= 10, `only ${seen.length} requests reached the upstream`);
      const problems = [];
      for (const q of seen) {
        const values = (n) => { const out = []; for (let i = 0; i < q.rawHeaders.length; i += 2) if (q.rawHeaders[i].toLowerCase() === n) out.push(q.rawHeaders[i + 1]); return out; };
        const where = `${q.method} ${q.url.split('?')[0]} [${q.tag ?? 'between scenarios'}]`;
        const id = values('cf-access-client-id');
        const sec = values('cf-access-client-secret');
        const host = values('host');
        const ua = values('user-agent');
        if (id.length !== 1 || id[0] !== cf.id) problems.push(`${where}: CF-Access-Client-Id x${id.length}${id.length === 1 ? ' (wrong value)' : ''}`);
        if (sec.length !== 1 || sec[0] !== cf.secret) problems.push(`${where}: CF-Access-Client-Secret x${sec.length}${sec.length === 1 ? ' (wrong value)' : ''}`);
        if (host.length !== 1 || host[0] !== UPSTREAM_NAME) problems.push(`${where}: Host ${JSON.stringify(host)}`);
        if (ua.length !== 1 || ua[0] !== EXPECTED_USER_AGENT) problems.push(`${where}: User-Agent ${JSON.stringify(ua)}`);
        if (q.servername !== UPSTREAM_NAME) problems.push(`${where}: TLS SNI ${JSON.stringify(q.servername)}`);
        if (q.verdict === 'gate:bic-1010' || q.verdict === 'gate:wrong-host') problems.push(`${where}: gate verdict ${q.verdict}`);
        if (/\/api\/v3\//.test(q.url) && !/^Bearer e2e\./.test(q.headers.authorization ?? '') && !(q.tag ?? '').startsWith('service-token-rejected')) {
          const a = q.headers.authorization;
          problems.push(`${where}: Authorization is not the issued token (${a === undefined ? 'absent' : /^Bearer (undefined|null)?$/.test(a) ? JSON.stringify(a) : 'wrong value'})`);
        }
      }
      check(problems.length === 0, `${problems.length} problem(s): ${[...new Set(problems)].slice(0, 6).join('; ')}`);
    });

    await scenario('proxy-clean-shutdown', async () => {
      const exit = await stopProxy(proxy);
      check(exit.code === 0, `SIGTERM: expected exit 0, got code ${exit.code} signal ${exit.signal}`);
      const sanitizer = proxyRuns.find((r) => /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/.test(r.stderr));
      check(!sanitizer, `sanitizer report in proxy stderr: ${sanitizer?.stderr.match(/.*(Sanitizer|runtime error).*/)?.[0]}`);
    });
  }

  for (const c of mcpRuns) await c.close();

  await scenario('no-secret-in-logs', async () => {
    const logs = [
      ...proxyRuns.flatMap((r, i) => [[`proxy#${i + 1} stderr`, r.stderr], [`proxy#${i + 1} stdout`, r.stdout]]),
      ...mcpRuns.flatMap((c) => [[`mcp(${c.label}) stderr`, c.stderr], [`mcp(${c.label}) stdout`, c.stdout]]),
    ];
    const secrets = [
      ['CF_ACCESS_CLIENT_SECRET', cf.secret],
      ...Object.entries(identities).map(([k, v]) => [`identity ${k} client secret`, v.clientSecret]),
    ];
    const found = [];
    const proxyLogs = logs.filter(([name]) => name.startsWith('proxy#'));
    for (const t of localTokens) for (const [logName, text] of proxyLogs) if (text.includes(t)) found.push(`the local placeholder in ${logName}`);
    for (const [secretName, value] of secrets) {
      for (const [logName, text] of logs) if (text.includes(value)) found.push(`${secretName} in ${logName}`);
    }
    check(found.length === 0, found.join('; '));
    check(logs.length > 0, 'no logs captured');
  });

  if (!direct) {
    await scenario('no-access-token-in-proxy-logs', async () => {
      const found = [];
      proxyRuns.forEach((r, i) => {
        if (fake.state.issuedTokens.some((t) => r.stderr.includes(t) || r.stdout.includes(t))) found.push(`proxy#${i + 1}`);
      });
      check(fake.state.issuedTokens.length > 0, 'no access token was issued');
      check(found.length === 0, `an Infisical access token appears in the output of ${found.join(', ')}`);
    });
  }
} catch (err) {
  report('FAIL', 'harness', err.message);
}

async function cleanup(keep) {
  clearTimeout(watchdog);
  await Promise.all(mcpRuns.map((c) => c.close().catch(() => {})));
  await Promise.all(proxyRuns.map((r) => stopProxy(r).catch(() => {})));
  await fake.close();
  for (const [i, r] of proxyRuns.entries()) {
    fs.writeFileSync(path.join(tmp, `proxy-${i + 1}.stderr.log`), r.stderr);
    fs.writeFileSync(path.join(tmp, `proxy-${i + 1}.stdout.log`), r.stdout);
  }
  for (const c of mcpRuns) fs.writeFileSync(path.join(tmp, `mcp-${c.label}.stderr.log`), c.stderr);
  if (keep) console.error(`logs and certificates kept in ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}

const passed = results.filter((r) => r.status === 'PASS').length;
const failed = results.filter((r) => r.status === 'FAIL').length;
const skipped = results.filter((r) => r.status === 'SKIP').length;
await cleanup(failed > 0 || process.env.VAULT_PROXY_E2E_KEEP === '1');
console.error(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
