#!/usr/bin/env python3
"""Seeds the fuzz corpora from the shared known-answer vectors.

The vectors live outside the repository and are never copied into it: this script reads them
(from $SEALKIT_VECTORS, else ../shared/vectors beside the checkout) and writes one file per seed
into fuzz/corpus/<target>/ (gitignored), named by the SHA-1 of its content as libFuzzer names its
own corpus files, so running it again adds nothing new.

Seeds (only real, valid inputs the vectors hold; the fuzzer mutates from there):
  vault_value         v2 and legacy settings values, tampered ones, pass-through and malformed inputs
  vault_session       session signing key + "\\n" + cookie pairs (the target's input format), cookies
  vault_startup       the vectors' keys as ENCRYPTION_KEY, with a production and a named environment
  envelope_parser     Striae KV records (valid and tampered), object metadata
  envelope_open       Striae KV records (under keys its registry lacks), and one zero byte: the
                      target's own genuine record, unmasked
  envelope_registry   registry JSON: nested, flat and the negative cases
  envelope_audit_json JSON documents (the registries; the fuzzer grows arrays from them)
  envelope_keys       PKCS#8 / SPKI PEMs (plain and env-escaped), registries, env value sets
  stream_record       structurally valid records built from AEGIS-256 and AES-256-GCM vectors
  stream_key          32-byte keys as base64 headers, 64-hex-digit key-check shaped values
  token_server_key    32-byte keys as base64
  token_key_list      previous-keys lists built from those keys (with and without a retirement time)
  (token_revoked_ids and vault_table_name start from an empty corpus: any text is a revoked-ids
  file or a table name)
  token_string        any `sktok1_` token found in the vectors (none today)

Two token targets take inputs no vector holds, so they are seeded from the seed document's examples
instead (SPEC §4; the layouts in docs/formats.md), written here as data:
  token_issue_request the reference's issue requests (agent, admin, op groups, nulls)
  token_claims        encoded claims of those tokens (claims layout v1)

Standard library only; Python 3.8+. Exits non-zero when the vectors are missing under CI.
"""

import base64
import hashlib
import json
import os
import sys
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent
REPO_ROOT = FUZZ_DIR.parent
CORPUS = FUZZ_DIR / "corpus"
# Per source, at most this many seeds from the large generic suites (Wycheproof, CFRG).
GENERIC_CAP = 12
TOKEN_PREFIX = "sktok1_"


def vectors_dir():
    env = os.environ.get("SEALKIT_VECTORS")
    return Path(env) if env else REPO_ROOT / ".." / "shared" / "vectors"


class Seeds:
    def __init__(self):
        self.by_target = {}

    def add(self, target, value):
        if value is None:
            return
        if isinstance(value, str):
            value = value.encode("utf-8")
        if not value:
            return
        self.by_target.setdefault(target, {})[hashlib.sha1(value).hexdigest()] = value

    def write(self):
        total = new = 0
        for target, seeds in sorted(self.by_target.items()):
            out = CORPUS / target
            out.mkdir(parents=True, exist_ok=True)
            added = 0
            for name, value in sorted(seeds.items()):
                path = out / name
                if not path.exists():
                    path.write_bytes(value)
                    added += 1
            total += len(seeds)
            new += added
            print(f"seed: {target}: {len(seeds)} seeds ({added} new) in {out.relative_to(REPO_ROOT)}")
        return total, new


def load(vectors, relative):
    path = vectors / relative
    if not path.is_file():
        print(f"seed: warning: {path} not found, skipped", file=sys.stderr)
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def items(value):
    return value if isinstance(value, list) else []


def strings(node):
    """Every string anywhere in a JSON document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


def b64(raw):
    return base64.b64encode(raw).decode("ascii")


def olympus(doc, seeds):
    for group, field in [
        ("v2_valid", "ciphertext"),
        ("legacy_valid", "ciphertext"),
        ("must_fail", "ciphertext"),
        ("decrypt_passthrough", "input"),
        ("decrypt_format_errors", "input"),
        ("is_encrypted_format", "input"),
    ]:
        for case in items(doc.get(group)):
            seeds.add("vault_value", case.get(field))
    for case in items(doc.get("session_cookies")):
        key, cookie = case.get("session_signing_key"), case.get("cookie")
        if key and cookie:
            seeds.add("vault_session", f"{key}\n{cookie}")
            seeds.add("vault_session", cookie)
        if key:
            seeds.add("vault_session", key)
            seeds.add("token_server_key", key)
            seeds.add("stream_key", key)
    for key in (doc.get("keys") or {}).values():
        # Only the base64 ones are shaped like server / stream keys; all are signing-key inputs,
        # and all are ENCRYPTION_KEY values for startup validation, in production and outside it.
        seeds.add("vault_session", key)
        seeds.add("vault_startup", f"{key}\nproduction")
        seeds.add("vault_startup", f"{key}\ndevelopment\nAPP_ENV")
        try:
            if len(base64.b64decode(key, validate=True)) == 32:
                seeds.add("token_server_key", key)
                seeds.add("stream_key", key)
        except ValueError:
            pass


def striae(doc, seeds):
    for case in items(doc.get("envelopes")) + items(doc.get("tampered")):
        seeds.add("envelope_parser", (case.get("kv") or {}).get("value"))
        # Real records whose keys the target's registry does not hold: the full failure path.
        seeds.add("envelope_open", (case.get("kv") or {}).get("value"))
        for meta in [(case.get("r2") or {}).get("customMetadata"), case.get("envelope")]:
            if isinstance(meta, dict):
                seeds.add("envelope_parser", json.dumps(meta, separators=(",", ":")))
        sha = (case.get("plaintext") or {}).get("sha256Hex")
        seeds.add("stream_key", sha)
    key_by_id = {}
    for key in items(doc.get("keys")):
        key_by_id[key.get("keyId")] = key
        for field in ["privateKeyPkcs8Pem", "publicKeySpkiPem", "privateKeyEnvEscaped",
                      "publicKeyEnvEscaped"]:
            seeds.add("envelope_keys", key.get(field))
        seeds.add("stream_key", key.get("spkiDerSha256Hex"))
    registries = doc.get("registries") or {}
    for form in ["nested", "flat"]:
        registry = (registries.get(form) or {}).get("json")
        seeds.add("envelope_registry", registry)
        seeds.add("envelope_audit_json", registry)
        seeds.add("envelope_keys", registry)
        active = ((registries.get(form) or {}).get("expectParsed") or {}).get("activeKeyId")
        public = (key_by_id.get(active) or {}).get("publicKeySpkiPem")
        if registry and active and public:
            # envelope_keys env form: KEYS_JSON, PRIVATE_KEY, KEY_ID, ACTIVE_KEY_ID, PUBLIC_KEY.
            seeds.add("envelope_keys", "\0".join([registry, "", active, "", public]))
    for case in items(registries.get("negative")):
        seeds.add("envelope_registry", case.get("json"))
        seeds.add("envelope_keys", case.get("json"))
    legacy = (registries.get("legacySingleKey") or {}).get("env") or {}
    private = legacy.get("DATA_AT_REST_ENCRYPTION_PRIVATE_KEY")
    key_id = legacy.get("DATA_AT_REST_ENCRYPTION_KEY_ID")
    if private and key_id:
        seeds.add("envelope_keys", "\0".join(["", private, key_id]))
        public = (key_by_id.get(key_id) or {}).get("publicKeySpkiPem")
        if public:
            seeds.add("envelope_keys", "\0".join(["", private, key_id, "", public]))


def aegis(doc, seeds):
    """CFRG AEGIS-256 vectors: 0x01 ‖ nonce (32) ‖ ciphertext ‖ 16-byte tag, and the keys."""
    count = 0
    for case in items(doc):
        try:
            key, nonce = bytes.fromhex(case["key"]), bytes.fromhex(case["nonce"])
            ct, tag = bytes.fromhex(case["ct"]), bytes.fromhex(case["tag128"])
        except (KeyError, ValueError):
            continue
        if len(nonce) != 32 or len(tag) != 16 or count >= GENERIC_CAP:
            continue
        count += 1
        seeds.add("stream_record", b"\x01" + nonce + ct + tag)
        if len(key) == 32:
            seeds.add("stream_key", b64(key))
            seeds.add("token_server_key", b64(key))
            seeds.add("token_key_list", key_list(key))
        seeds.add("stream_key", case.get("tag256"))


def wycheproof(doc, seeds, format_byte, iv_bits):
    """Wycheproof AEAD suites: format byte ‖ IV ‖ ciphertext ‖ tag for 256-bit keys."""
    count = 0
    for group in items(doc.get("testGroups")):
        if (group.get("keySize"), group.get("ivSize"), group.get("tagSize")) != (256, iv_bits, 128):
            continue
        for case in items(group.get("tests")):
            if case.get("result") != "valid" or count >= GENERIC_CAP:
                continue
            try:
                key, iv = bytes.fromhex(case["key"]), bytes.fromhex(case["iv"])
                ct, tag = bytes.fromhex(case["ct"]), bytes.fromhex(case["tag"])
            except (KeyError, ValueError):
                continue
            count += 1
            seeds.add("stream_record", bytes([format_byte]) + iv + ct + tag)
            seeds.add("stream_key", b64(key))
            seeds.add("token_server_key", b64(key))
            seeds.add("token_key_list", key_list(key))


# Issue requests as the reference's API takes them (seeds/001's agent token among them).
ISSUE_REQUESTS = [
    {"id": "agent/g7wrzr9t", "auto_prefix_streams": True, "expires_at": "2027-06-04T08:00:00Z",
     "scope": {"basins": {"exact": "browser-instances-wtvr"}, "ops": ["list-streams", "append"],
               "streams": {"prefix": "session/g7wrzr9t/"}}},
    {"id": "admin", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""},
                              "access_tokens": {"prefix": "agent/"},
                              "ops": ["issue-access-token", "revoke-access-token", "list-access-tokens"]}},
    {"id": "reader", "expires_at": None, "auto_prefix_streams": None,
     "scope": {"basins": {"exact": "b"}, "streams": None, "access_tokens": {"exact": ""}, "ops": None,
               "op_groups": {"account": None, "basin": {"read": True, "write": None},
                             "stream": {"read": True, "write": False}}}},
]


def encoded_claims(token_id, chain, basins, streams, access_tokens, ops, op_groups,
                   issued_at, expires_at=None, auto_prefix=False):
    """Claims in layout v1 (docs/formats.md): all the text, the chain's lengths, a 33-byte header.
    A resource set is None, ("exact", name) or ("prefix", name)."""
    sets = [basins, streams, access_tokens]
    text = token_id.encode() + b"".join(c.encode() for c in chain)
    text += b"".join(name.encode() for _, name in filter(None, sets))
    flags = (1 if auto_prefix else 0) | (2 if expires_at is not None else 0)
    header = bytes([flags]) + ops.to_bytes(4, "big") + bytes([op_groups])
    header += issued_at.to_bytes(8, "big", signed=True)
    header += (expires_at or 0).to_bytes(8, "big", signed=True)
    header += bytes([len(token_id.encode()), len(chain)])
    for entry in sets:
        tag, name = entry if entry else ("none", "")
        header += bytes([{"none": 0, "exact": 1, "prefix": 2}[tag]]) + len(name.encode()).to_bytes(2, "big")
    assert len(header) == 33
    return text + bytes(len(c.encode()) for c in chain) + header


def envelope_open_seeds(seeds):
    # Mask mode with an empty mask: the genuine record, which must open.
    seeds.add("envelope_open", b"\x00")


def token_seeds(seeds):
    for request in ISSUE_REQUESTS:
        seeds.add("token_issue_request", json.dumps(request))
    issued = 1_780_000_000
    # The agent token as issued by the admin (one chain entry), the admin itself, a token granted by
    # op groups only, and a third-level token.
    seeds.add("token_claims", encoded_claims(
        "agent/g7wrzr9t", ["admin"], ("exact", "browser-instances-wtvr"),
        ("prefix", "session/g7wrzr9t/"), None, 0b11, 0, issued, issued + 86_400, auto_prefix=True))
    seeds.add("token_claims", encoded_claims(
        "admin", [], ("prefix", ""), ("prefix", ""), ("prefix", "agent/"), 0b111 << 18, 0, issued))
    seeds.add("token_claims", encoded_claims(
        "reader", [], ("exact", "b"), None, None, 0, 0b010101, issued, issued + 60))
    seeds.add("token_claims", encoded_claims(
        "agent/g7wrzr9t/sub", ["admin", "agent/g7wrzr9t"], ("exact", "browser-instances-wtvr"),
        ("prefix", "session/g7wrzr9t/x/"), ("exact", "agent/other"), 1 << 7, 0, issued, issued + 60,
        auto_prefix=True))


def key_list(key):
    """A previous-keys list in the form operators write: one retiring entry, one kept for good."""
    return f"k1={b64(key)}@2027-01-31T00:00:00Z, k2={b64(key)}"


def main():
    vectors = vectors_dir()
    if not vectors.is_dir():
        message = f"known-answer vectors not found at {vectors} (set SEALKIT_VECTORS)"
        if os.environ.get("CI"):
            print(f"seed: error: {message}; CI must seed the fuzz corpora", file=sys.stderr)
            return 1
        print(f"seed: skipped: {message}")
        return 0
    print(f"seed: vectors: {vectors.resolve()}")
    seeds = Seeds()
    docs = {}
    for name, relative in [
        ("olympus", "olympus-settings.json"),
        ("striae", "striae-envelope.json"),
        ("aegis", "cfrg-aegis/aegis-256-test-vectors.json"),
        ("aegis_wp", "wycheproof/aegis256_test.json"),
        ("aes_gcm_wp", "wycheproof/aes_gcm_test.json"),
    ]:
        docs[name] = load(vectors, relative)
    if docs["olympus"] is not None:
        olympus(docs["olympus"], seeds)
    if docs["striae"] is not None:
        striae(docs["striae"], seeds)
    if docs["aegis"] is not None:
        aegis(docs["aegis"], seeds)
    if docs["aegis_wp"] is not None:
        wycheproof(docs["aegis_wp"], seeds, 0x01, 256)
    if docs["aes_gcm_wp"] is not None:
        wycheproof(docs["aes_gcm_wp"], seeds, 0x02, 96)
    for doc in docs.values():
        for s in strings(doc):
            if s.startswith(TOKEN_PREFIX):
                seeds.add("token_string", s)
    token_seeds(seeds)
    envelope_open_seeds(seeds)
    total, new = seeds.write()
    if total == 0:
        print("seed: error: the vectors yielded no seeds (has their layout changed?)", file=sys.stderr)
        return 1
    print(f"seed: {total} seeds for {len(seeds.by_target)} targets ({new} new)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
