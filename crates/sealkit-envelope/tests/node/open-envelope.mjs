// Opens sealkit envelopes the way Striae's workers do, using only WebCrypto (crypto.subtle), as an
// independent check that what sealkit writes is readable by the reference.
//
// stdin: JSON {"privateKeyPem": "...", "cases": [{"kv": "<KV value>"} | {"metadata": {...}, "bodyBase64": "..."}]}
// stdout: JSON array, per case {"ok": true, "plaintextBase64": "..."} or {"ok": false, "error": "..."}
import { webcrypto } from 'node:crypto';

const subtle = webcrypto.subtle;

function base64UrlDecode(value) {
  // The reference decoder: url alphabet to standard, re-pad, decode.
  const normalized = value.replace(/-/g, '+').replace(/_/g, '/');
  const padding = '='.repeat((4 - (normalized.length % 4)) % 4);
  return Uint8Array.from(Buffer.from(normalized + padding, 'base64'));
}

function pemToDer(pem) {
  const body = pem
    .replace(/\\n/g, '\n')
    .replace(/-----BEGIN [A-Z ]+-----/, '')
    .replace(/-----END [A-Z ]+-----/, '')
    .replace(/\s+/g, '');
  return Uint8Array.from(Buffer.from(body, 'base64'));
}

function validateEnvelope(envelope) {
  if (envelope.algorithm !== 'RSA-OAEP-AES-256-GCM') throw new Error('unsupported algorithm');
  if (envelope.encryptionVersion !== '1.0') throw new Error('unsupported version');
  for (const field of ['keyId', 'dataIv', 'wrappedKey']) {
    if (typeof envelope[field] !== 'string') throw new Error(`missing ${field}`);
  }
}

async function open(privateKey, envelope, ciphertext) {
  validateEnvelope(envelope);
  const rawKey = await subtle.decrypt({ name: 'RSA-OAEP' }, privateKey, base64UrlDecode(envelope.wrappedKey));
  if (rawKey.byteLength !== 32) throw new Error('data key is not 32 bytes');
  const iv = base64UrlDecode(envelope.dataIv);
  if (iv.byteLength !== 12) throw new Error('iv is not 12 bytes');
  const aesKey = await subtle.importKey('raw', rawKey, { name: 'AES-GCM' }, false, ['decrypt']);
  return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv }, aesKey, ciphertext));
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const privateKey = await subtle.importKey(
  'pkcs8',
  pemToDer(input.privateKeyPem),
  { name: 'RSA-OAEP', hash: 'SHA-256' },
  false,
  ['decrypt'],
);
const results = [];
for (const c of input.cases) {
  try {
    let plaintext;
    if (c.kv !== undefined) {
      const record = JSON.parse(c.kv);
      const keys = Object.keys(record).join(',');
      if (keys !== 'algorithm,encryptionVersion,keyId,dataIv,wrappedKey,ciphertext') {
        throw new Error(`KV field order ${keys}`);
      }
      plaintext = await open(privateKey, record, base64UrlDecode(record.ciphertext));
    } else {
      plaintext = await open(privateKey, c.metadata, base64UrlDecode(c.bodyBase64));
    }
    results.push({ ok: true, plaintextBase64: Buffer.from(plaintext).toString('base64') });
  } catch (error) {
    results.push({ ok: false, error: String(error && error.message ? error.message : error) });
  }
}
process.stdout.write(JSON.stringify(results));
