// The OpenID Connect provider the SSO tests sign in against: npm's oidc-provider (a certified
// implementation), not a mock. Started by tests/support/oidc.py:
//   node provider.mjs   with PORT, JWKS_FILE (the private signing keys, so tests can also mint
//   tokens signed by this provider's own key), CLIENT_SECRET.
// Accounts: any login name is an account whose e-mail is that name; names starting with
// "unverified" have email_verified=false. The login page is oidc-provider's devInteractions page
// (any password); consent is granted automatically, as for a first-party app.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const jwks = JSON.parse(readFileSync(process.env.JWKS_FILE, 'utf8'));

const client = (clientId) => ({
  client_id: clientId,
  client_secret: process.env.CLIENT_SECRET,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  // Any portal the tests start (their ports differ): see redirectUriAllowed below.
  redirect_uris: ['http://127.0.0.1/accounts/sso/callback'],
  post_logout_redirect_uris: ['http://127.0.0.1/accounts/signin'],
});

const provider = new Provider(issuer, {
  clients: [client('registry-portal'), client('other-client')],
  jwks,
  cookies: { keys: ['test-cookie-key-not-secret'] },
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
  },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Session: 3600, Interaction: 600, Grant: 3600 },
  async findAccount(ctx, id) {
    const local = id.split('@')[0];
    const name = local.split(/[._-]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: !id.startsWith('unverified'), name };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

// The portals under test listen on ports chosen at run time: accept any loopback portal's SSO
// callback and sign-in page (a real deployment registers one exact URI).
const loopback = /^https?:\/\/(127\.0\.0\.1|localhost|testserver)(:\d+)?\//;
provider.Client.prototype.redirectUriAllowed = (uri) => loopback.test(uri) && uri.includes('/accounts/sso/callback');
provider.Client.prototype.postLogoutRedirectUriAllowed = (uri) => loopback.test(uri);

provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
