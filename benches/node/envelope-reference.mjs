// The reference's open path (Striae workers, WebCrypto): import the PKCS#8 key, RSA-OAEP-SHA-256
// unwrap the data key, AES-256-GCM decrypt the body — timed per operation, as the reference does it
// (it imports the private key on every decryption), and with the key imported once.
//
// stdin: JSON {"cases": [{"name", "privateKeyPem", "metadata": {...}, "bodyBase64url", "iterations"}]}
// stdout: JSON {"<name>": {"openNs": median ns/op, "openPreimportedNs": median ns/op}}
import { webcrypto } from 'node:crypto';

const subtle = webcrypto.subtle;

function b64url(value) {
  const normalized = value.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(Buffer.from(normalized + '='.repeat((4 - (normalized.length % 4)) % 4), 'base64'));
}

function pemToDer(pem) {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Uint8Array.from(Buffer.from(body, 'base64'));
}

const importKey = (der) =>
  subtle.importKey('pkcs8', der, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);

async function openWith(privateKey, envelope, body) {
  const raw = await subtle.decrypt({ name: 'RSA-OAEP' }, privateKey, b64url(envelope.wrappedKey));
  const aesKey = await subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['decrypt']);
  return subtle.decrypt({ name: 'AES-GCM', iv: b64url(envelope.dataIv) }, aesKey, body);
}

async function medianNs(iterations, op) {
  for (let i = 0; i < Math.min(5, iterations); i++) await op();
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await op();
    samples.push(Number(process.hrtime.bigint() - start));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const results = {};
for (const c of input.cases) {
  const der = pemToDer(c.privateKeyPem);
  const body = b64url(c.bodyBase64url);
  const preimported = await importKey(der);
  const openNs = await medianNs(c.iterations, async () => openWith(await importKey(der), c.metadata, body));
  const openPreimportedNs = await medianNs(c.iterations, () => openWith(preimported, c.metadata, body));
  results[c.name] = { openNs, openPreimportedNs };
}
process.stdout.write(JSON.stringify(results));
