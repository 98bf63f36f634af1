// Peer OAuth2 authorization server for the Latchkey benchmarks.
//
// panva/oidc-provider (version pinned in package.json, 9.13.3), client_credentials only,
// no interactions/login UI. Configured through environment variables:
//
//   PORT                 listen port (binds 127.0.0.1 only), default 9300
//   ACCESS_TOKEN_FORMAT  "opaque" (default) or "jwt" (RS256-signed JWT access tokens, typ at+jwt)
//
// Run:
//   cd bench/peer && npm ci && PORT=9300 ACCESS_TOKEN_FORMAT=jwt node server.mjs
// Prints exactly one line when ready:  peer listening on http://127.0.0.1:PORT
// Nothing is logged per request (only unexpected 5xx server_error events go to stderr).
//
// Issuer: http://127.0.0.1:PORT
//
// Endpoints (oidc-provider default routes):
//   POST /token                                   token endpoint
//   POST /token/introspection                     RFC 7662 introspection
//   POST /token/revocation                        RFC 7009 revocation
//   GET  /jwks                                    public signing key (one RSA-2048 key, RS256)
//   GET  /.well-known/openid-configuration        discovery
//   GET  /.well-known/oauth-authorization-server  discovery (RFC 8414 path, same document)
//
// The one client (confidential, client_secret_basic):
//   client_id     = peer-client
//   client_secret = peer-secret-0123456789abcdef
//   Authorization: Basic cGVlci1jbGllbnQ6cGVlci1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg==
//
// Token request (same body for both formats; NO resource= parameter needed, the resource
// indicator is defaulted to RESOURCE below by features.resourceIndicators.defaultResource):
//   POST /token
//   Authorization: Basic <as above>
//   Content-Type: application/x-www-form-urlencoded
//   grant_type=client_credentials&scope=read
// -> 200 {"access_token":"...","expires_in":3600,"token_type":"Bearer","scope":"read"}
//
// Introspection / revocation (same Basic header and Content-Type):
//   POST /token/introspection   token=<access_token>[&token_type_hint=access_token]
//     -> 200 {"active":true,"client_id":"peer-client","scope":"read","aud":RESOURCE,...}
//   POST /token/revocation      token=<access_token>[&token_type_hint=access_token]
//     -> 200 (empty body); a later introspection returns {"active":false}
//
// LIMITATION (oidc-provider design, not configurable): in jwt mode the access tokens are
// self-contained and never stored server-side, and both /token/introspection and
// /token/revocation reject any JWT-shaped token up front (lib/shared/reject_structured_tokens.js)
// with 400 {"error":"unsupported_token_type","error_description":"Structured JWT Tokens cannot be
// introspected via the introspection_endpoint"} (resp. "... revoked via the revocation_endpoint").
// Introspection/revocation benchmarks are therefore only meaningful in opaque mode; in jwt mode
// resource servers are expected to verify the token locally against /jwks.
//
// Storage: opaque tokens live in an in-process Map with TTL expiry (see MapAdapter). Unlike
// oidc-provider's built-in dev adapter (an LRU capped at ~1000 entries, which would silently
// evict valid tokens under load), nothing valid is evicted, so memory grows with the number of
// live opaque tokens (expired ones are swept every 60 s).

import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

const PORT = Number.parseInt(process.env.PORT ?? '9300', 10);
const FORMAT = process.env.ACCESS_TOKEN_FORMAT ?? 'opaque';
if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535) {
  throw new Error(`invalid PORT: ${process.env.PORT}`);
}
if (FORMAT !== 'opaque' && FORMAT !== 'jwt') {
  throw new Error(`ACCESS_TOKEN_FORMAT must be "opaque" or "jwt", got ${JSON.stringify(FORMAT)}`);
}

const ISSUER = `http://127.0.0.1:${PORT}`;
const RESOURCE = `${ISSUER}/api`; // becomes the token's aud
const TOKEN_TTL = 3600;

// ---------------------------------------------------------------------------------------------
// Minimal non-evicting in-memory adapter (only what a client_credentials-only provider touches,
// plus the rest of the adapter interface for completeness).
const store = new Map(); // key "Model:id" -> { payload, expiresAt (ms) | Infinity }

class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(this.key(id), { payload, expiresAt });
  }

  async find(id) {
    const key = this.key(id);
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid) {
    for (const [key, { payload }] of store) {
      if (key.startsWith(`${this.model}:`) && payload.uid === uid) return payload;
    }
    return undefined;
  }

  async findByUserCode(userCode) {
    for (const [key, { payload }] of store) {
      if (key.startsWith(`${this.model}:`) && payload.userCode === userCode) return payload;
    }
    return undefined;
  }

  async consume(id) {
    const entry = store.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const [key, { payload }] of store) {
      if (payload.grantId === grantId) store.delete(key);
    }
  }
}

setInterval(() => {
  const now = Date.now();
  for (const [key, { expiresAt }] of store) {
    if (expiresAt <= now) store.delete(key);
  }
}, 60_000).unref();

// ---------------------------------------------------------------------------------------------
// Signing key, generated fresh at every start.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `peer-${randomBytes(6).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

const resourceServerInfo = FORMAT === 'jwt'
  ? { scope: 'read', accessTokenTTL: TOKEN_TTL, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }
  : { scope: 'read', accessTokenTTL: TOKEN_TTL, accessTokenFormat: 'opaque' };

const configuration = {
  adapter: MapAdapter,
  jwks: { keys: [signingJwk] },
  clients: [
    {
      client_id: 'peer-client',
      client_secret: 'peer-secret-0123456789abcdef',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'read',
    },
  ],
  scopes: ['openid', 'offline_access', 'read'],
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // a confidential client may introspect any (opaque) token of this server
      allowedPolicy: async () => true,
    },
    revocation: {
      enabled: true,
      // only the owning client may revoke (same rule as the library default)
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },
    resourceIndicators: {
      enabled: true,
      // no resource= parameter needed: every token request is bound to RESOURCE
      defaultResource: async () => RESOURCE,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) {
          throw new errors.InvalidTarget();
        }
        return resourceServerInfo;
      },
    },
  },
  ttl: {
    AccessToken: TOKEN_TTL,
    ClientCredentials: TOKEN_TTL,
  },
  clientBasedCORS: () => false,
  // never reached (no authorization endpoint flows), set to silence the "MUST change" notices
  findAccount: async () => undefined,
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const provider = new Provider(ISSUER, configuration);

provider.on('server_error', (ctx, err) => {
  console.error('peer server_error:', err);
});

const server = provider.listen(PORT, '127.0.0.1', () => {
  console.log(`peer listening on ${ISSUER}`);
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
