// The Olympus SDK's settings encrypt/decrypt (sdk/src/crypto.ts) with Node's built-in crypto only,
// as the reference does it: HKDF-SHA256 re-derived on every call, AES-256-GCM via createCipheriv.
//
// stdin: JSON {"key": ENCRYPTION_KEY, "plaintext": "...", "iterations": N}
// stdout: JSON {"encryptNs": median ns/op, "decryptNs": median ns/op}
import crypto from "node:crypto";

const INFO = "olympus-settings-aes-256-gcm";

function deriveKey(key) {
  return Buffer.from(crypto.hkdfSync("sha256", Buffer.from(key, "utf8"), Buffer.alloc(0), INFO, 32));
}

function encrypt(key, plaintext) {
  if (plaintext === "") return "";
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", deriveKey(key), iv);
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return `v2:${iv.toString("base64")}:${cipher.getAuthTag().toString("base64")}:${ct.toString("base64")}`;
}

function decrypt(key, value) {
  if (value === "") return "";
  if (!value.startsWith("v2:")) return value;
  const parts = value.slice(3).split(":");
  if (parts.length !== 3) throw new Error("Invalid v2 ciphertext format: expected v2:iv:authTag:data");
  const [iv, tag, ct] = parts.map((p) => Buffer.from(p, "base64"));
  const decipher = crypto.createDecipheriv("aes-256-gcm", deriveKey(key), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ct), decipher.final()]).toString("utf8");
}

// Median over 20 batches of ns per operation (batches amortise the timer).
function medianNs(iterations, op) {
  const batches = 20;
  const per = Math.max(1, Math.floor(iterations / batches));
  for (let i = 0; i < per; i++) op();
  const samples = [];
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < per; i++) op();
    samples.push(Number(process.hrtime.bigint() - start) / per);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const { key, plaintext, iterations } = JSON.parse(input);
const value = encrypt(key, plaintext);
if (decrypt(key, value) !== plaintext) throw new Error("reference round trip failed");
let sink = 0;
const encryptNs = medianNs(iterations, () => { sink += encrypt(key, plaintext).length; });
const decryptNs = medianNs(iterations, () => { sink += decrypt(key, value).length; });
process.stdout.write(JSON.stringify({ encryptNs, decryptNs, sink }));
