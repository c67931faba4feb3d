// An independent implementation of the Olympus SDK settings format with Node's built-in crypto
// only, following the reference algorithm (HKDF on every call, as the SDK does).
//
// stdin: JSON {"key": ENCRYPTION_KEY, "decrypt": [v2 or legacy values], "encrypt": [plaintexts]}
// stdout: JSON {"decrypted": [...], "encrypted": [...]}; a value that fails to decrypt is an error.
import crypto from "node:crypto";

const INFO = "olympus-settings-aes-256-gcm";

function v2Key(key) {
  return Buffer.from(crypto.hkdfSync("sha256", Buffer.from(key, "utf8"), Buffer.alloc(0), INFO, 32));
}

function legacyKey(key) {
  return crypto.createHash("sha256").update(key, "utf8").digest();
}

export function encrypt(key, plaintext) {
  if (plaintext === "") return "";
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", v2Key(key), iv);
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `v2:${iv.toString("base64")}:${tag.toString("base64")}:${ct.toString("base64")}`;
}

export function decrypt(key, value) {
  if (value === "") return "";
  let parts;
  let aesKey;
  if (value.startsWith("v2:")) {
    parts = value.slice(3).split(":");
    if (parts.length !== 3) throw new Error("Invalid v2 ciphertext format: expected v2:iv:authTag:data");
    aesKey = v2Key(key);
  } else {
    parts = value.split(":");
    if (parts.length !== 3) return value;
    aesKey = legacyKey(key);
  }
  const [iv, tag, ct] = parts.map((p) => Buffer.from(p, "base64"));
  if (tag.length !== 16) throw new Error("tag must be 16 bytes");
  const decipher = crypto.createDecipheriv("aes-256-gcm", aesKey, iv, { authTagLength: 16 });
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ct), decipher.final()]).toString("utf8");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let input = "";
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) input += chunk;
  const req = JSON.parse(input);
  const out = {
    decrypted: (req.decrypt ?? []).map((v) => decrypt(req.key, v)),
    encrypted: (req.encrypt ?? []).map((p) => encrypt(req.key, p)),
  };
  process.stdout.write(JSON.stringify(out));
}
