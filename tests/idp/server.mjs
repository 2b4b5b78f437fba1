// A real OpenID Connect provider for the single sign-on tests: panva's node-oidc-provider
// (OpenID Certified), with a plain sign-in page in front of it. Only the accounts, their
// groups and the client are ours; discovery, PKCE, tokens, signing and the userinfo endpoint
// are the library's. Configured by IDP_CONFIG (JSON):
//   {"port": 0, "clients": [...], "accounts_file": "/path/accounts.json"}
// The accounts file, {"login": {"password", "email", "name", "groups": [...], "amr": [...]}},
// is read at every sign-in: a test changes someone's groups as the city's IT staff would.
// Prints one line, {"issuer": "http://127.0.0.1:PORT"}, when it listens.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(process.env.IDP_CONFIG);
const readAccounts = () => JSON.parse(readFileSync(config.accounts_file, 'utf8'));

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function signInPage(uid, error) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>City identity provider</title></head><body>
<h1>City identity provider</h1>
<p>Test IdP for the ACS single sign-on tests.</p>
${error ? `<p role="alert" id="idp-error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<label>City login <input name="login" autocomplete="username" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in at the city</button>
</form></body></html>`;
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

const server = http.createServer();
server.listen(config.port || 0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      // How the person signed in (RFC 8176 amr, acr) goes in the ID token, as Entra ID,
      // Okta and Keycloak put it there.
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const account = readAccounts()[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: account.email,
            email_verified: true,
            name: account.name,
            preferred_username: sub,
            groups: account.groups || [],
          };
        },
      };
    },
    // The city's own application: no consent screen (first-party), as city IdPs are set up.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile groups');
      await grant.save();
      return grant;
    },
  });

  const handle = provider.callback();
  server.on('request', async (req, res) => {
    if (!req.url.startsWith('/interaction/')) return handle(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return res.end(signInPage(details.uid));
      }
      const form = await readForm(req);
      const login = form.get('login') || '';
      const account = readAccounts()[login];
      if (!account || account.password !== form.get('password')) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return res.end(signInPage(details.uid, 'Wrong login or password.'));
      }
      const result = { login: { accountId: login, amr: account.amr || ['pwd'] } };
      if (account.acr) result.login.acr = account.acr;
      return await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    } catch (error) {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      return res.end(`interaction error: ${error.message}`);
    }
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
