// Signs a file keyless with the npm Sigstore packages, independently of tagbump:
// @sigstore/mock's Fulcio CA (with its CT log), Rekor log and timestamp authority
// answer @sigstore/sign's requests in-process (nock intercepts them; no connection
// leaves the process), and the trusted root naming exactly those services is written
// next to the bundle.
//
//   node sign.cjs PAYLOAD OUTDIR SUBJECT ISSUER [--tsa-only] [--expired] [--dsse TYPE]
//
// --tsa-only: no Rekor entry, only the TSA's timestamp. --expired: the CA's clock is an
// hour behind, so the certificate had expired when the log and the TSA saw the signature.
//
// Writes OUTDIR/bundle.json (a v0.3 Sigstore bundle; the file's bytes signed as a
// message signature, or as a DSSE envelope of TYPE) and OUTDIR/trusted_root.json.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const nock = require('nock');
const mock = require('@sigstore/mock');
const sign = require('@sigstore/sign');
const { bundleToJSON, bundleFromJSON } = require('@sigstore/bundle');
const verify = require('@sigstore/verify');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

const FULCIO = 'https://fulcio.mock.test';
const REKOR = 'https://rekor.mock.test';
const TSA = 'https://tsa.mock.test';

function b64(bytes) {
  return Buffer.from(bytes.buffer ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes).toString('base64');
}

function unsignedJwt(claims) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
}

async function main() {
  const [payloadPath, outDir, subject, issuer, ...flags] = process.argv.slice(2);
  const tsaOnly = flags.includes('--tsa-only');
  const expired = flags.includes('--expired');
  // The CA's clock: an hour behind for --expired; else 5 s behind, so that the
  // certificate's notBefore (whole seconds, possibly rounded up) is never after the
  // log's and the TSA's time of the same second.
  const caClock = new Date(Date.now() - (expired ? 3600 : 5) * 1000);
  const dsseIndex = flags.indexOf('--dsse');
  const dsseType = dsseIndex >= 0 ? flags[dsseIndex + 1] : null;
  nock.disableNetConnect();
  const key = () => crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await mock.initializeCTLog(key(), caClock);
  const ca = await mock.initializeCA(key(), ctlog, caClock);
  const tlog = await mock.initializeTLog(REKOR, key());
  // The TSA's clock: now, with a millisecond part whose last digit is not 0 (DER drops
  // trailing zeros of the fraction, which @sigstore/core's time parser, wanting three
  // digits, would refuse in the cross-check below).
  const tsaClock = new Date(Math.floor(Date.now() / 1000) * 1000 + 501);
  const tsa = await mock.initializeTSA(key(), tsaClock);
  for (const [base, handler] of [
    [FULCIO, mock.fulcioHandler(ca, { strict: true })],
    [REKOR, mock.rekorHandler(tlog, { strict: true })],
    [TSA, mock.tsaHandler(tsa, { strict: true })],
  ]) {
    nock(base).persist().post(handler.path).reply(async (_uri, body) => {
      const req = typeof body === 'string' ? body : JSON.stringify(body);
      const { statusCode, response, contentType } = await handler.fn(req);
      return [statusCode, response, { 'Content-Type': contentType || 'text/plain' }];
    });
  }
  const token = unsignedJwt({ iss: issuer, sub: subject, aud: 'sigstore', exp: Math.floor(Date.now() / 1000) + 600 });
  const signer = new sign.FulcioSigner({
    fulcioBaseURL: FULCIO,
    identityProvider: { getToken: async () => token },
  });
  const witnesses = [];
  if (!tsaOnly) witnesses.push(new sign.RekorWitness({ rekorBaseURL: REKOR }));
  witnesses.push(new sign.TSAWitness({ tsaBaseURL: TSA }));
  const Builder = dsseType ? sign.DSSEBundleBuilder : sign.MessageSignatureBundleBuilder;
  const builder = new Builder({ signer, witnesses });
  const data = fs.readFileSync(payloadPath);
  const bundle = await builder.create(dsseType ? { data, type: dsseType } : { data });
  const start = new Date(Date.now() - 2 * 3600 * 1000).toISOString();
  const tlogKey = Buffer.from(tlog.publicKey);
  const root = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{
      baseUrl: REKOR,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: tlogKey.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
      logId: { keyId: crypto.createHash('sha256').update(tlogKey).digest('base64') },
    }],
    certificateAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
      uri: FULCIO,
      certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
      validFor: { start },
    }],
    ctlogs: [{
      baseUrl: 'https://ctfe.mock.test',
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: Buffer.from(ctlog.publicKey).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
      logId: { keyId: b64(ctlog.logID) },
    }],
    timestampAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'tsa' },
      uri: TSA,
      certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
      validFor: { start },
    }],
  };
  // Cross-check with @sigstore/verify: the fixture must verify (or, --expired, must
  // not) under the root written, before tagbump ever sees it.
  const json = bundleToJSON(bundle);
  const verifier = new verify.Verifier(verify.toTrustMaterial(TrustedRoot.fromJSON(root)), {
    tlogThreshold: tsaOnly ? 0 : 1,
    ctlogThreshold: 1,
    timestampThreshold: tsaOnly ? 1 : 0,
  });
  const entity = verify.toSignedEntity(bundleFromJSON(json), dsseType ? undefined : data);
  const policy = { subjectAlternativeName: subject, extensions: { issuer } };
  let verified = true;
  try {
    verifier.verify(entity, policy);
  } catch (e) {
    verified = false;
    if (!expired) throw new Error(`@sigstore/verify refuses the fixture: ${e.message}`);
  }
  if (expired && verified) throw new Error('@sigstore/verify accepts the expired fixture');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'bundle.json'), JSON.stringify(json));
  fs.writeFileSync(path.join(outDir, 'trusted_root.json'), JSON.stringify(root));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
