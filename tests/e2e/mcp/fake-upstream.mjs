// A stand-in for the production upstream: a Cloudflare edge with an Access application in front of a
// small Infisical. It is owned by the e2e test, listens on 127.0.0.1 only and records every request
// (headers as sent on the wire, TLS SNI, body) so the driver can assert on bytes, not on mocks.
//
// The gate answers the way ../shared/docs/infisical-api.md §3 (from the repo root) describes Cloudflare:
// a Host it does not serve → 403, a scripted User-Agent (`^axios/`) → 403 `error code: 1010`
// (Browser Integrity Check runs before Access), a missing or wrong service token → the configured
// Access style (403 HTML deny page, 401, or 302 to the team's login page). The fake Infisical answers
// with the error envelopes of §2, so the MCP user sees exactly what production would show.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import zlib from 'node:zlib';

export const UPSTREAM_NAME = 'vault.e2e.test';
export const ACCESS_TEAM_HOST = 'team.cloudflareaccess.com';

/**
 * Generates a throwaway CA and one server certificate per name with the openssl CLI into `dir`.
 * Returns `{ caFile, certs: { [name]: { cert, key } } }`.
 */
export function makeCertificates(dir, names = [UPSTREAM_NAME, ACCESS_TEAM_HOST]) {
  const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=vault-proxy e2e test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const certs = {};
  names.forEach((name, i) => {
    fs.writeFileSync(path.join(dir, `server${i}.ext`),
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' +
      `subjectAltName=DNS:${name}\nauthorityKeyIdentifier=keyid\n`);
    run(['req', ...ec, '-keyout', `server${i}.key`, '-out', `server${i}.csr`, '-subj', `/CN=${name}`]);
    run(['x509', '-req', '-in', `server${i}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `server${i}.pem`, '-days', '2', '-extfile', `server${i}.ext`]);
    certs[name] = {
      cert: fs.readFileSync(path.join(dir, `server${i}.pem`)),
      key: fs.readFileSync(path.join(dir, `server${i}.key`)),
    };
  });
  return { caFile: path.join(dir, 'ca.pem'), certs };
}

/** `*` matches within one path segment, `**` across segments; everything else is literal. */
export function globToRegExp(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') { re += '.*'; i++; }
    else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const rayId = () => `${crypto.randomBytes(8).toString('hex')}-LHR`;

function headerValues(rawHeaders, name) {
  const out = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === name) out.push(rawHeaders[i + 1]);
  }
  return out;
}

const accessDenyPage = (host) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Forbidden · Cloudflare Access</title></head>
<body><div class="AccessLogo"></div><h1>Forbidden</h1>
<p>You don't have permission to view this application.</p>
<p>${host}</p><p>Cloudflare Access</p></body></html>
`;
const accessUnauthorizedPage = `<!DOCTYPE html>
<html><head><title>Unauthorized · Cloudflare Access</title></head>
<body><h1>401 Unauthorized</h1><p>Cloudflare Access: a valid service token is required.</p></body></html>
`;
const wrongHostPage = (host) => `<!DOCTYPE html>
<html><head><title>Direct IP access not allowed | Cloudflare</title></head>
<body><h1>Error 1003</h1><p>Host ${host} is not served here.</p></body></html>
`;

/**
 * Starts the fake on 127.0.0.1:0. `options.tls` (from makeCertificates) gives an HTTPS listener
 * behind the gate; `options.plainHttp` adds an HTTP listener that skips the gate (harness self-check:
 * the MCP server pointed straight at the fake Infisical).
 */
export async function startFakeUpstream(options) {
  const state = {
    // Gate configuration, mutable between scenarios.
    gate: {
      clientId: options.cfClientId,
      clientSecret: options.cfClientSecret,
      rejectStyle: 'html403', // 'html403' | '401' | '302'
    },
    identities: new Map(), // clientId → { clientSecret, readScope: glob, canWrite, ttlSeconds }
    tokens: new Map(), // accessToken → { clientId, expiresAt }
    secrets: new Map(), // `${workspaceId}|${environment}|${secretPath}|${name}` → secret object
    tag: null, // copied into each recorded request; the driver sets it per scenario
    requests: [], // every request seen by any listener
    loginPageHits: [], // requests that followed an Access redirect (see the trap below)
    issuedTokens: [],
    logins: [], // clientId per successful login
    renews: [], // clientId per successful renew
  };

  for (const [clientId, identity] of Object.entries(options.identities ?? {})) {
    state.identities.set(clientId, { ttlSeconds: 3600, ...identity });
  }

  const secretKey = (ws, env, p, name) => `${ws}|${env}|${p}|${name}`;
  state.putSecret = (ws, env, secretPath, name, value) => {
    const secret = {
      id: crypto.randomUUID(), _id: crypto.randomUUID(), workspace: ws, environment: env, version: 1,
      type: 'shared', secretKey: name, secretValue: value, secretComment: '', secretPath,
      secretReminderNote: null, secretReminderRepeatDays: null, skipMultilineEncoding: false,
      createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), tags: [],
    };
    state.secrets.set(secretKey(ws, env, secretPath, name), secret);
    return secret;
  };

  const recordRequest = (listener, req, body) => {
    const entry = {
      tag: state.tag,
      listener,
      method: req.method,
      url: req.url,
      rawHeaders: req.rawHeaders.slice(),
      headers: { ...req.headers },
      servername: req.socket.servername ?? null,
      body,
      bodyLength: body.length,
      verdict: null,
      status: null,
    };
    state.requests.push(entry);
    return entry;
  };

  const cfHeaders = () => ({ server: 'cloudflare', 'cf-ray': rayId() });

  const send = (req, res, entry, status, body, headers = {}) => {
    entry.status = status;
    let payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const out = { ...headers };
    // The origin compresses like Cloudflare does (gzip, chunked), so the relay of Content-Encoding
    // and of chunked bodies is exercised.
    if (out['x-fake-compress'] && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '') && payload.length) {
      payload = zlib.gzipSync(payload);
      out['content-encoding'] = 'gzip';
      out.vary = 'Accept-Encoding';
      delete out['x-fake-compress'];
      res.writeHead(status, out);
      const half = payload.length >> 1;
      res.write(payload.subarray(0, half));
      res.end(payload.subarray(half));
      return;
    }
    delete out['x-fake-compress'];
    out['content-length'] = payload.length;
    res.writeHead(status, out);
    res.end(payload);
  };

  const json = (req, res, entry, status, obj, extra = {}) =>
    send(req, res, entry, status, JSON.stringify(obj), {
      'content-type': 'application/json; charset=utf-8', 'x-fake-compress': '1', ...extra,
    });

  const infisicalError = (req, res, entry, status, error, message, extra = {}) =>
    json(req, res, entry, status, { reqId: `req-${crypto.randomBytes(6).toString('hex')}`, statusCode: status, message, error, ...extra });

  // The gate. Returns true when the request may reach the origin.
  const gate = (req, res, entry) => {
    const hostValues = headerValues(req.rawHeaders, 'host');
    if (hostValues.length !== 1 || hostValues[0].toLowerCase() !== UPSTREAM_NAME) {
      entry.verdict = 'gate:wrong-host';
      send(req, res, entry, 403, wrongHostPage(hostValues.join(',')), { 'content-type': 'text/html; charset=UTF-8', ...cfHeaders() });
      return false;
    }
    const ua = headerValues(req.rawHeaders, 'user-agent');
    if (ua.some((v) => /^axios\//i.test(v))) {
      entry.verdict = 'gate:bic-1010';
      send(req, res, entry, 403, 'error code: 1010', { 'content-type': 'text/plain; charset=UTF-8', ...cfHeaders() });
      return false;
    }
    const ids = headerValues(req.rawHeaders, 'cf-access-client-id');
    const secrets = headerValues(req.rawHeaders, 'cf-access-client-secret');
    const ok = ids.length === 1 && secrets.length === 1 &&
      ids[0] === state.gate.clientId && secrets[0] === state.gate.clientSecret;
    if (ok) return true;
    entry.verdict = `gate:access-${state.gate.rejectStyle}`;
    switch (state.gate.rejectStyle) {
      case '401':
        send(req, res, entry, 401, accessUnauthorizedPage, { 'content-type': 'text/html; charset=UTF-8', ...cfHeaders() });
        break;
      case '302': {
        const location = `https://${ACCESS_TEAM_HOST}/cdn-cgi/access/login/${UPSTREAM_NAME}` +
          `?kid=${'0'.repeat(16)}e2eaud&redirect_url=${encodeURIComponent(req.url)}`;
        send(req, res, entry, 302, '', { location, ...cfHeaders() });
        break;
      }
      default:
        send(req, res, entry, 403, accessDenyPage(UPSTREAM_NAME), { 'content-type': 'text/html; charset=UTF-8', ...cfHeaders() });
    }
    return false;
  };

  // Resolves the bearer token; answers the request itself (and returns null) when it is not usable.
  const authenticate = (req, res, entry) => {
    const auth = req.headers.authorization;
    if (!auth) {
      infisicalError(req, res, entry, 401, 'UnauthorizedError', 'Token missing');
      return null;
    }
    const token = auth.slice(7);
    const known = state.tokens.get(token);
    if (!known) {
      infisicalError(req, res, entry, 403, 'TokenError', 'The provided access token is malformed or invalid');
      return null;
    }
    if (Date.now() >= known.expiresAt || Date.now() >= known.maxAt) {
      json(req, res, entry, 403, { statusCode: 403, message: 'Your token has expired. Please re-authenticate.', error: 'TokenError' });
      return null;
    }
    return { clientId: known.clientId, ...state.identities.get(known.clientId) };
  };

  const canRead = (identity, secretPath, name) => {
    const full = `${secretPath.replace(/\/+$/, '')}/${name}`;
    return globToRegExp(identity.readScope).test(full);
  };

  const denied = (req, res, entry, action) =>
    json(req, res, entry, 403, { message: `You are not allowed to ${action} on secrets`, error: 'PermissionDenied', statusCode: 403 });

  const origin = (req, res, entry, body) => {
    const url = new URL(req.url, `https://${UPSTREAM_NAME}`);
    const q = url.searchParams;
    let bodyJson = null;
    if (body.length) {
      try { bodyJson = JSON.parse(body.toString('utf8')); } catch { bodyJson = undefined; }
    }

    if (req.method === 'GET' && url.pathname === '/api/status') {
      entry.verdict = 'origin:status';
      return json(req, res, entry, 200, { date: new Date().toISOString(), message: 'Ok', emailConfigured: false, inviteOnlySignup: false, redisConfigured: true, secretScanningConfigured: false });
    }

    if (req.method === 'POST' && url.pathname === '/api/v1/auth/universal-auth/login') {
      entry.verdict = 'origin:login';
      const identity = bodyJson && state.identities.get(bodyJson.clientId);
      if (!identity || identity.clientSecret !== bodyJson.clientSecret) {
        return infisicalError(req, res, entry, 401, 'UnauthorizedError', 'Invalid credentials');
      }
      const accessToken = `e2e.${crypto.randomBytes(24).toString('base64url')}`;
      const now = Date.now();
      state.tokens.set(accessToken, {
        clientId: bodyJson.clientId, expiresAt: now + identity.ttlSeconds * 1000, maxAt: now + identity.ttlSeconds * 2000,
      });
      state.issuedTokens.push(accessToken);
      state.logins.push(bodyJson.clientId);
      return json(req, res, entry, 200, { accessToken, expiresIn: identity.ttlSeconds, accessTokenMaxTTL: identity.ttlSeconds * 2, tokenType: 'Bearer' });
    }

    // Renew: the same token, a new expiry, never past the max TTL (infisical-api.md §2).
    if (req.method === 'POST' && url.pathname === '/api/v1/auth/token/renew') {
      entry.verdict = 'origin:renew';
      const known = bodyJson && state.tokens.get(bodyJson.accessToken);
      const now = Date.now();
      if (!known || now >= known.expiresAt || now >= known.maxAt) {
        return infisicalError(req, res, entry, 401, 'UnauthorizedError', 'Failed to renew: the token has expired');
      }
      const identity = state.identities.get(known.clientId);
      known.expiresAt = Math.min(now + identity.ttlSeconds * 1000, known.maxAt);
      state.renews.push(known.clientId);
      return json(req, res, entry, 200, { accessToken: bodyJson.accessToken, expiresIn: identity.ttlSeconds, accessTokenMaxTTL: identity.ttlSeconds * 2, tokenType: 'Bearer' });
    }

    const m = url.pathname.match(/^\/api\/v3\/secrets\/raw(?:\/([^/]+))?$/);
    if (m) {
      const identity = authenticate(req, res, entry);
      if (!identity) { entry.verdict = 'origin:token-rejected'; return undefined; }
      const name = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
      const src = req.method === 'GET' ? Object.fromEntries(q) : (bodyJson ?? {});
      const ws = src.workspaceId;
      const env = src.environment;
      const secretPath = src.secretPath ?? '/';

      if (req.method === 'DELETE') {
        entry.deleteBodyArrived = body.length > 0 && bodyJson !== undefined && bodyJson !== null;
      }
      if ((req.method !== 'GET' || name !== undefined) && !ws && !env) {
        entry.verdict = 'origin:validation';
        return infisicalError(req, res, entry, 422, 'ValidationFailure',
          [{ code: 'invalid_type', expected: 'string', received: 'undefined', path: ['workspaceId'], message: 'Required' }]);
      }

      if (req.method === 'GET' && name === undefined) {
        entry.verdict = 'origin:list';
        const secrets = [...state.secrets.values()].filter((s) =>
          s.workspace === ws && s.environment === env && s.secretPath === secretPath && canRead(identity, secretPath, s.secretKey));
        return json(req, res, entry, 200, { secrets, imports: [] });
      }
      if (req.method === 'GET') {
        entry.verdict = 'origin:get';
        if (!canRead(identity, secretPath, name)) return denied(req, res, entry, 'read');
        const secret = state.secrets.get(secretKey(ws, env, secretPath, name));
        if (!secret) return infisicalError(req, res, entry, 404, 'NotFound', `Secret with name '${name}' not found`);
        return json(req, res, entry, 200, { secret });
      }
      if (req.method === 'POST') {
        entry.verdict = 'origin:create';
        if (!identity.canWrite) return denied(req, res, entry, 'create');
        if (state.secrets.has(secretKey(ws, env, secretPath, name))) {
          return infisicalError(req, res, entry, 400, 'BadRequest', 'Secret already exist');
        }
        return json(req, res, entry, 200, { secret: state.putSecret(ws, env, secretPath, name, bodyJson.secretValue ?? '') });
      }
      if (req.method === 'DELETE') {
        entry.verdict = 'origin:delete';
        if (!identity.canWrite) return denied(req, res, entry, 'delete');
        const key = secretKey(ws, env, secretPath, name);
        const secret = state.secrets.get(key);
        if (!secret) return infisicalError(req, res, entry, 404, 'NotFound', `Secret with name '${name}' not found`);
        state.secrets.delete(key);
        return json(req, res, entry, 200, { secret });
      }
    }

    entry.verdict = 'origin:not-found';
    return json(req, res, entry, 404, { message: `Route ${req.method}:${url.pathname} not found`, error: 'Not Found', statusCode: 404 });
  };

  const handler = (listener, useGate) => (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const entry = recordRequest(listener, req, body);
      try {
        if (useGate && !gate(req, res, entry)) return;
        if (useGate) res.setHeader('cf-ray', rayId());
        origin(req, res, entry, body);
      } catch (err) {
        entry.verdict = `origin:crash:${err.message}`;
        if (!res.headersSent) infisicalError(req, res, entry, 500, 'InternalServerError', 'Something went wrong');
      }
    });
  };

  const servers = [];
  const listen = (server) => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });

  const result = { state };
  if (options.tls) {
    const { cert, key } = options.tls.certs[UPSTREAM_NAME];
    const server = https.createServer({ cert, key, minVersion: 'TLSv1.2' },
      handler('https', true));
    result.httpsPort = await listen(server);
    servers.push(server);
  }
  if (options.plainHttp) {
    const server = http.createServer(handler('http', false));
    result.httpPort = await listen(server);
    servers.push(server);
  }

  // The login-page trap. If an Access 302 reached the MCP server, axios would follow it to
  // team.cloudflareaccess.com. The driver points HTTPS_PROXY of the MCP server here (NO_PROXY keeps
  // the vault-proxy itself direct) and trusts the test CA, so the test stays on loopback and shows
  // what production would do: a 200 HTML login page, which the SDK reads as a successful login.
  if (options.tls) {
    const loginPage = '<!DOCTYPE html><html><head><title>Sign in · Cloudflare Access</title></head><body>Sign in</body></html>';
    const { cert, key } = options.tls.certs[ACCESS_TEAM_HOST];
    const login = https.createServer({ cert, key }, (req, res) => {
      req.resume();
      req.on('end', () => {
        state.loginPageHits.push({ method: req.method, url: req.url, host: req.headers.host });
        res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8', 'content-length': Buffer.byteLength(loginPage), server: 'cloudflare' });
        res.end(loginPage);
      });
    });
    const trap = http.createServer((req, res) => {
      state.loginPageHits.push({ method: req.method, url: req.url, host: req.headers.host, via: 'forward' });
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('e2e trap: only CONNECT to the Access login host is served');
    });
    trap.on('connect', (req, socket) => {
      if (!req.url.startsWith(`${ACCESS_TEAM_HOST}:`)) {
        state.loginPageHits.push({ method: 'CONNECT', url: req.url, refused: true });
        socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      login.emit('connection', socket);
    });
    result.trapPort = await listen(trap);
    servers.push(trap, login);
  }

  result.close = () => Promise.all(servers.map((s) => new Promise((resolve) => {
    s.closeAllConnections?.();
    if (!s.listening) { resolve(); return; }
    s.close(() => resolve());
  })));
  return result;
}
