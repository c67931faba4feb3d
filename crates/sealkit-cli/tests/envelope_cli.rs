//! End-to-end tests of `sealkit envelope …` (SPEC.md section 5).

mod harness;

use std::path::Path;
use std::process::Output;

use harness::{assert_fails_silently_with as assert_fails_with, stderr};

use serde_json::Value;

/// Runs `sealkit envelope <args>` with only `env` set.
fn sealkit(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    harness::sealkit(&[&["envelope"], args].concat(), env, stdin)
}

fn ok(out: &Output) -> &Output {
    assert!(out.status.success(), "failed: {}", stderr(out));
    out
}

/// A fresh key pair from `sealkit envelope keygen --json`: `{keyId, privateKeyPem, publicKeyPem}`.
fn generated_pair() -> Value {
    let out = sealkit(&["keygen", "--json"], &[], b"");
    serde_json::from_slice(&ok(&out).stdout).unwrap()
}

/// Writes a `keygen --json` pair's public key to `pub.pem` in `dir`; returns its path.
fn public_key_file(dir: &Path, pair: &Value) -> String {
    write(
        dir,
        "pub.pem",
        pair["publicKeyPem"].as_str().unwrap().as_bytes(),
    )
}

/// The legacy single-key environment (`{SCOPE}_ENCRYPTION_PRIVATE_KEY`, `…_KEY_ID`) holding `pair`:
/// `names` are the two variables of the scope under test.
fn legacy_env<'a>(names: [&'a str; 2], pair: &'a Value) -> [(&'a str, &'a str); 2] {
    let [private_key, key_id] = names;
    [
        (private_key, pair["privateKeyPem"].as_str().unwrap()),
        (key_id, pair["keyId"].as_str().unwrap()),
    ]
}

fn telemetry(out: &Output) -> Value {
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "one telemetry line: {err:?}");
    serde_json::from_str(err.trim_end()).unwrap()
}

/// A registry form: its name in the vectors, extra CLI flags, and environment variables.
type RegistryForm<'a> = (&'a str, Vec<&'a str>, &'a [(&'a str, &'a str)]);

fn write(dir: &Path, name: &str, contents: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

fn b64(text: &str) -> Vec<u8> {
    sealkit::envelope::encoding::decode(text, 1 << 26).unwrap()
}

#[test]
fn every_vector_opens_through_the_cli_in_both_forms() {
    let Some(v) = sealkit_vectors::json("cli_every_vector_opens", "striae-envelope.json") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let nested = v["registries"]["nested"]["json"].as_str().unwrap();
    let nested_file = write(dir.path(), "nested.json", nested.as_bytes());
    let flat_file = write(
        dir.path(),
        "flat.json",
        v["registries"]["flat"]["json"].as_str().unwrap().as_bytes(),
    );
    let legacy = &v["registries"]["legacySingleKey"]["env"];
    let k1 = v["keys"][0]["keyId"].as_str().unwrap();
    let legacy_env = [
        (
            "DATA_AT_REST_ENCRYPTION_KEY_ID",
            legacy["DATA_AT_REST_ENCRYPTION_KEY_ID"].as_str().unwrap(),
        ),
        (
            "DATA_AT_REST_ENCRYPTION_PRIVATE_KEY",
            legacy["DATA_AT_REST_ENCRYPTION_PRIVATE_KEY"]
                .as_str()
                .unwrap(),
        ),
    ];
    let override_env = [
        ("DATA_AT_REST_ENCRYPTION_KEYS_JSON", nested),
        ("DATA_AT_REST_ENCRYPTION_ACTIVE_KEY_ID", k1),
    ];

    let cases = v["envelopes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["tampered"].as_array().unwrap());
    let (mut opened, mut refused) = (0, 0);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let metadata = serde_json::to_vec(&case["r2"]["customMetadata"]).unwrap();
        let meta_file = write(dir.path(), &format!("{id}.meta.json"), &metadata);
        let body = b64(case["r2"]["ciphertextBase64"].as_str().unwrap());
        let kv = case["kv"]["value"].as_str().unwrap().as_bytes();
        let forms: [RegistryForm<'_>; 4] = [
            ("nested", vec!["--registry", &nested_file], &[]),
            ("flat", vec!["--registry", &flat_file], &[]),
            ("nestedWithActiveOverrideK1", vec![], &override_env),
            ("legacySingleKeyK1", vec![], &legacy_env),
        ];
        for (form, extra, env) in forms {
            let expect = &case["expect"][form];
            let expect_ok = expect["ok"]
                .as_bool()
                .unwrap_or_else(|| panic!("{id}/{form}: no expectation"));
            let mut kv_args = vec!["open", "--scope", "data-at-rest", "--kv"];
            kv_args.extend(&extra);
            let mut obj_args = vec![
                "open",
                "--scope",
                "DATA_AT_REST_ENCRYPTION",
                "--metadata",
                &meta_file,
            ];
            obj_args.extend(&extra);
            for out in [sealkit(&kv_args, env, kv), sealkit(&obj_args, env, &body)] {
                if expect_ok {
                    opened += 1;
                    ok(&out);
                    let plaintext = b64(case["plaintext"]["base64"].as_str().unwrap());
                    assert_eq!(out.stdout, plaintext, "{id}/{form}");
                    let t = telemetry(&out);
                    for field in ["selectedKeyId", "attemptCount", "outcome", "fallbackUsed"] {
                        assert_eq!(t[field], expect[field], "{id}/{form} {field}");
                    }
                    assert_eq!(t["scope"], "data-at-rest");
                    assert_eq!(t["reason"], Value::Null);
                } else {
                    refused += 1;
                    assert_fails_with(&out, "decryption_failed");
                    // The operator is told how many keys were tried, as the reference's error says.
                    let attempts = expect["attemptCount"].as_u64().unwrap();
                    let told = format!("{attempts} candidate key(s) tried, none opened it");
                    assert!(
                        stderr(&out).contains(&told),
                        "{id}/{form}: {}",
                        stderr(&out)
                    );
                }
            }
        }
    }
    // 2 envelopes and 3 tampered cases, under 4 registry forms, in both forms: the envelopes open
    // everywhere, the tampered cases nowhere.
    assert_eq!(
        (opened, refused),
        (16, 24),
        "CLI opens expected to succeed / fail"
    );
}

#[test]
fn keygen_seal_open_round_trip_in_both_forms() {
    let dir = tempfile::tempdir().unwrap();
    let pair = generated_pair();
    let key_id = pair["keyId"].as_str().unwrap();
    assert_eq!(key_id.len(), 10);
    assert!(
        key_id
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    );
    let public = public_key_file(dir.path(), &pair);
    let env = legacy_env(
        [
            "USER_KV_ENCRYPTION_PRIVATE_KEY",
            "USER_KV_ENCRYPTION_KEY_ID",
        ],
        &pair,
    );
    let payload = b"{\"uid\":\"u1\"}\n\x00binary tail";

    let record = sealkit(
        &["seal", "--public-key", &public, "--key-id", key_id, "--kv"],
        &[],
        payload,
    );
    let record = ok(&record).stdout.clone();
    let parsed: Value = serde_json::from_slice(&record).unwrap();
    assert_eq!(parsed["encryptionVersion"], "1.0");
    let opened = sealkit(&["open", "--scope", "user-kv", "--kv"], &env, &record);
    assert_eq!(ok(&opened).stdout, payload);
    assert_eq!(telemetry(&opened)["outcome"], "primary-hit");

    let body = dir.path().join("body.bin");
    let body_path = body.to_str().unwrap();
    let meta = sealkit(
        &[
            "seal",
            "--public-key",
            &public,
            "--key-id",
            key_id,
            "--body-out",
            body_path,
        ],
        &[],
        payload,
    );
    let meta_file = write(dir.path(), "meta.json", &ok(&meta).stdout);
    let body_bytes = std::fs::read(&body).unwrap();
    assert_eq!(body_bytes.len(), payload.len() + 16);
    let opened = sealkit(
        &["open", "--scope", "USER_KV", "--metadata", &meta_file],
        &env,
        &body_bytes,
    );
    assert_eq!(ok(&opened).stdout, payload);

    // Object-form rewrap (single-key registry: same key, fresh wrap). With --body the body must
    // authenticate first; a damaged one is refused as opening refuses it.
    let mut damaged = body_bytes.clone();
    damaged[0] ^= 1;
    let damaged_file = write(dir.path(), "damaged.bin", &damaged);
    let rewrap_with_body = |body: &str| {
        sealkit(
            &[
                "rewrap",
                "--scope",
                "user-kv",
                "--metadata",
                &meta_file,
                "--body",
                body,
            ],
            &env,
            b"",
        )
    };
    assert_fails_with(&rewrap_with_body(&damaged_file), "decryption_failed");
    ok(&rewrap_with_body(body_path));
    let kv_needs_no_body = sealkit(
        &["rewrap", "--scope", "user-kv", "--kv", "--body", body_path],
        &env,
        &record,
    );
    assert_eq!(kv_needs_no_body.status.code(), Some(2));
    // Without --body only the metadata is read.
    let rewrapped = sealkit(
        &["rewrap", "--scope", "user-kv", "--metadata", &meta_file],
        &env,
        b"",
    );
    let new_meta = ok(&rewrapped).stdout.clone();
    let (old, new): (Value, Value) = (
        serde_json::from_slice(&ok(&meta).stdout).unwrap(),
        serde_json::from_slice(&new_meta).unwrap(),
    );
    assert_eq!(old["dataIv"], new["dataIv"]);
    assert_ne!(old["wrappedKey"], new["wrappedKey"]);
    let new_meta_file = write(dir.path(), "meta2.json", &new_meta);
    let opened = sealkit(
        &["open", "--scope", "user-kv", "--metadata", &new_meta_file],
        &env,
        &body_bytes,
    );
    assert_eq!(ok(&opened).stdout, payload);

    // Striae keeps an object's other custom metadata beside its envelope: rewrap hands it back
    // after the five envelope fields, in its order and as written (a number past f64's range, a
    // lone surrogate as JavaScript writes for a cut-off emoji).
    let envelope_json = String::from_utf8(ok(&meta).stdout.clone()).unwrap();
    let extra = r#""contentType":"image/png","originalFilename":"scan \"1\" \ud83d.png","byteLength":"23","size":1e400,"createdAt":"2026-03-24T12:00:00.000Z","fileKind":"file""#;
    let striae_text = format!("{{{extra},{}", &envelope_json.trim_end()[1..]);
    let striae_file = write(dir.path(), "striae-meta.json", striae_text.as_bytes());
    let rewrapped = sealkit(
        &["rewrap", "--scope", "user-kv", "--metadata", &striae_file],
        &env,
        b"",
    );
    let out = String::from_utf8(ok(&rewrapped).stdout.clone()).unwrap();
    assert!(out.starts_with("{\"algorithm\":"), "{out}");
    assert!(out.trim_end().ends_with(&format!(",{extra}}}")), "{out}");
    // The output as a whole holds a number serde_json will not read; its envelope part it will.
    let envelope_part = format!("{}}}", out.split(",\"contentType\"").next().unwrap());
    let old: Value = serde_json::from_str(&envelope_json).unwrap();
    let new: Value = serde_json::from_str(&envelope_part).unwrap();
    assert_eq!(new["dataIv"], old["dataIv"]);
    assert_ne!(new["wrappedKey"], old["wrappedKey"]);

    // Bound version: the context must match.
    let bound = sealkit(
        &[
            "seal",
            "--public-key",
            &public,
            "--key-id",
            key_id,
            "--kv",
            "--bound",
            "--context",
            "users/u1",
        ],
        &[],
        payload,
    );
    let bound = ok(&bound).stdout.clone();
    let good = sealkit(
        &[
            "open",
            "--scope",
            "user-kv",
            "--kv",
            "--context",
            "users/u1",
            "--require-bound",
        ],
        &env,
        &bound,
    );
    assert_eq!(ok(&good).stdout, payload);
    let moved = sealkit(
        &[
            "open",
            "--scope",
            "user-kv",
            "--kv",
            "--context",
            "users/u2",
        ],
        &env,
        &bound,
    );
    assert_fails_with(&moved, "decryption_failed");
    let unbound = sealkit(
        &["open", "--scope", "user-kv", "--kv", "--require-bound"],
        &env,
        &record,
    );
    assert_fails_with(&unbound, "version_not_allowed");
}

#[test]
fn rotate_validate_and_rewrap() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry.json");
    let reg = registry.to_str().unwrap();
    let first = sealkit(
        &[
            "registry",
            "rotate",
            "--registry",
            reg,
            "--public-key-out",
            &dir.path().join("k1.pem").to_string_lossy(),
        ],
        &[],
        b"",
    );
    let k1 = String::from_utf8(ok(&first).stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    let k1_public = dir.path().join("k1.pem");

    // Something sealed under the first key.
    let record = sealkit(
        &[
            "seal",
            "--public-key",
            k1_public.to_str().unwrap(),
            "--key-id",
            &k1,
            "--kv",
        ],
        &[],
        b"old data",
    );
    let record = ok(&record).stdout.clone();

    let second = sealkit(
        &["registry", "rotate", "--registry", reg, "--json"],
        &[],
        b"",
    );
    let second: Value = serde_json::from_slice(&ok(&second).stdout).unwrap();
    let k2 = second["keyId"].as_str().unwrap().to_owned();
    assert_eq!(second["activeKeyId"], k2.as_str());
    assert_eq!(second["keyIds"], serde_json::json!([k1, k2]));
    let stored: Value = serde_json::from_slice(&std::fs::read(&registry).unwrap()).unwrap();
    assert_eq!(stored["activeKeyId"], k2.as_str());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&registry).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let validated = sealkit(
        &["registry", "validate", "--registry", reg, "--json"],
        &[],
        b"",
    );
    let validated: Value = serde_json::from_slice(&ok(&validated).stdout).unwrap();
    assert_eq!(validated["activeKeyId"], k2.as_str());
    assert_eq!(validated["keys"].as_array().unwrap().len(), 2);
    let mismatch = sealkit(
        &[
            "registry",
            "validate",
            "--registry",
            reg,
            "--public-key",
            k1_public.to_str().unwrap(),
            "--key-id",
            &k2,
        ],
        &[],
        b"",
    );
    assert_fails_with(&mismatch, "public_key_mismatch");
    let matches = sealkit(
        &[
            "registry",
            "validate",
            "--registry",
            reg,
            "--public-key",
            k1_public.to_str().unwrap(),
            "--key-id",
            &k1,
        ],
        &[],
        b"",
    );
    ok(&matches);

    // Rewrap the old record to the active key; its ciphertext is carried over unchanged.
    let rewrapped = sealkit(
        &[
            "rewrap",
            "--scope",
            "data-at-rest",
            "--registry",
            reg,
            "--kv",
        ],
        &[],
        &record,
    );
    let rewrapped_bytes = ok(&rewrapped).stdout.clone();
    assert_eq!(telemetry(&rewrapped)["selectedKeyId"], k1.as_str());
    let (before, after): (Value, Value) = (
        serde_json::from_slice(&record).unwrap(),
        serde_json::from_slice(&rewrapped_bytes).unwrap(),
    );
    assert_eq!(before["ciphertext"], after["ciphertext"]);
    assert_eq!(after["keyId"], k2.as_str());
    let opened = sealkit(
        &[
            "open",
            "--scope",
            "data-at-rest",
            "--registry",
            reg,
            "--kv",
            "--authoritative-key-id",
        ],
        &[],
        &rewrapped_bytes,
    );
    assert_eq!(ok(&opened).stdout, b"old data");
    assert_eq!(telemetry(&opened)["outcome"], "primary-hit");

    // The .env form: the registry JSON read back from the environment.
    let env_form = sealkit(
        &["registry", "rotate", "--env", "--scope", "export"],
        &[(
            "EXPORT_ENCRYPTION_KEYS_JSON",
            &std::fs::read_to_string(&registry).unwrap(),
        )],
        b"",
    );
    let text = String::from_utf8(ok(&env_form).stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    let keys_json = text
        .lines()
        .find_map(|l| l.strip_prefix("EXPORT_ENCRYPTION_KEYS_JSON='"))
        .and_then(|l| l.strip_suffix('\''))
        .unwrap();
    let parsed: Value = serde_json::from_str(keys_json).unwrap();
    assert_eq!(parsed["keys"].as_object().unwrap().len(), 3);
    let opened = sealkit(
        &["open", "--scope", "export", "--kv"],
        &[("EXPORT_ENCRYPTION_KEYS_JSON", keys_json)],
        &record,
    );
    assert_eq!(ok(&opened).stdout, b"old data");
    let t = telemetry(&opened);
    assert_eq!(
        t["outcome"], "primary-hit",
        "the record's own key id is tried first"
    );
    assert_eq!(t["selectedKeyId"], k1.as_str());
}

/// A rotation killed while writing (here by a file-size limit, as a full disk or a kill would)
/// leaves the old registry byte for byte, so no old key is lost; a finished one keeps the file's
/// owner, group and symbolic link, and takes away any access for others.
#[cfg(unix)]
#[test]
fn an_interrupted_rotation_leaves_the_registry_whole() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry.json");
    let reg = registry.to_str().unwrap();
    ok(&sealkit(
        &["registry", "rotate", "--registry", reg],
        &[],
        b"",
    ));
    std::fs::set_permissions(&registry, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::read(&registry).unwrap();
    assert!(
        before.len() > 1024,
        "the limit below must cut the write short"
    );

    let killed = std::process::Command::new("/bin/sh")
        .args(["-c", "ulimit -f 1 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_sealkit"))
        .args(["envelope", "registry", "rotate", "--registry", reg])
        .env_clear()
        .output()
        .unwrap();
    assert!(
        !killed.status.success(),
        "the write must have been cut short"
    );
    assert_eq!(
        std::fs::read(&registry).unwrap(),
        before,
        "old registry intact"
    );
    ok(&sealkit(
        &["registry", "validate", "--registry", reg],
        &[],
        b"",
    ));

    // A finished rotation: through a symbolic link, of a file some service account owns (when the
    // test may hand it to another owner, i.e. runs as root).
    use std::os::unix::fs::MetadataExt;
    let link = dir.path().join("current.json");
    std::os::unix::fs::symlink(&registry, &link).unwrap();
    let owned_elsewhere = std::os::unix::fs::chown(&registry, Some(4242), Some(4243)).is_ok();
    ok(&sealkit(
        &["registry", "rotate", "--registry", link.to_str().unwrap()],
        &[],
        b"",
    ));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let after: Value = serde_json::from_slice(&std::fs::read(&registry).unwrap()).unwrap();
    assert_eq!(after["keys"].as_object().unwrap().len(), 2);
    let meta = std::fs::metadata(&registry).unwrap();
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o640,
        "the owner and group keep their access, others lose theirs"
    );
    if owned_elsewhere {
        assert_eq!(
            (meta.uid(), meta.gid()),
            (4242, 4243),
            "owner and group kept"
        );
    }
}

/// A legacy single-key environment whose private key does not parse: rotating it is refused
/// before a key is generated or anything printed, naming the variable and repeating none of it.
#[test]
fn rotate_names_the_legacy_variable_whose_key_does_not_parse() {
    let broken = "-----BEGIN PRIVATE KEY-----\nMIIEnotreallyakey\n-----END PRIVATE KEY-----";
    let out = sealkit(
        &["registry", "rotate"],
        &[
            ("DATA_AT_REST_ENCRYPTION_PRIVATE_KEY", broken),
            ("DATA_AT_REST_ENCRYPTION_KEY_ID", "legacy"),
        ],
        b"",
    );
    assert_fails_with(&out, "invalid_private_key");
    let err = stderr(&out);
    assert!(
        err.contains("DATA_AT_REST_ENCRYPTION_PRIVATE_KEY: "),
        "{err}"
    );
    assert!(!err.contains("MIIEnotreallyakey"), "{err}");
    assert!(out.stdout.is_empty());

    // A legacy key id the registry would refuse is blamed on its own variable.
    let pair = sealkit::envelope::generate_key_pair(2048).unwrap();
    let out = sealkit(
        &["registry", "rotate"],
        &[
            (
                "DATA_AT_REST_ENCRYPTION_PRIVATE_KEY",
                &*pair.private_key_pem,
            ),
            ("DATA_AT_REST_ENCRYPTION_KEY_ID", "my key"),
        ],
        b"",
    );
    assert_fails_with(&out, "invalid_key_id");
    assert!(
        stderr(&out).contains("DATA_AT_REST_ENCRYPTION_KEY_ID: "),
        "{}",
        stderr(&out)
    );
}

/// Rotation writes back what it read plus the new key, so a source without a usable key is
/// refused with nothing printed and nothing written: rotating it would leave a registry holding
/// only the new key. The one way to start a registry is a `--registry` file that does not exist.
#[test]
fn rotate_refuses_a_registry_without_keys_instead_of_starting_over() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();

    // The environment holds nothing (or only blanks) for the scope.
    for env in [
        &[][..],
        &[
            ("DATA_AT_REST_ENCRYPTION_KEYS_JSON", "  "),
            ("DATA_AT_REST_ENCRYPTION_PRIVATE_KEY", " "),
        ],
        // Another scope's keys are not this scope's.
        &[("USER_KV_ENCRYPTION_KEYS_JSON", r#"{"k1":"PEM"}"#)],
    ] {
        for args in [
            &["registry", "rotate"][..],
            &["registry", "rotate", "--env"],
        ] {
            let out = sealkit(args, env, b"");
            assert_fails_with(&out, "registry_not_configured");
            assert!(stderr(&out).contains("DATA_AT_REST_ENCRYPTION_KEYS_JSON"));
        }
    }

    // Registry JSON that parses as an object but yields no usable key, from a file or from the
    // environment: keys under a mistyped `Keys`, in an array, as objects, or blank.
    let pem = "-----BEGIN PRIVATE KEY-----\nMIIEnotreallyakey\n-----END PRIVATE KEY-----";
    let keyless = [
        serde_json::json!({"activeKeyId": "k1", "Keys": {"k1": pem}}),
        serde_json::json!({"keys": [pem]}),
        serde_json::json!({"activeKeyId": "k1", "keys": {"k1": {"pem": pem}}}),
        serde_json::json!({"k1": {"privateKeyPem": pem}, "k2": null, "k3": "  "}),
        serde_json::json!({}),
    ];
    for (i, json) in keyless.iter().enumerate() {
        let registry = write(
            dir.path(),
            &format!("r{i}.json"),
            json.to_string().as_bytes(),
        );
        let before = std::fs::read(&registry).unwrap();
        let listing_before = listing(dir.path());
        let out = sealkit(
            &[
                "registry",
                "rotate",
                "--registry",
                &registry,
                "--public-key-out",
                &at("new.pub"),
            ],
            &[],
            b"",
        );
        assert_fails_with(&out, "registry_no_usable_keys");
        assert!(!stderr(&out).contains("MIIE"), "{}", stderr(&out));
        assert_eq!(std::fs::read(&registry).unwrap(), before, "{json}");
        assert_eq!(listing(dir.path()), listing_before, "nothing else written");

        let out = sealkit(
            &["registry", "rotate", "--env"],
            &[("DATA_AT_REST_ENCRYPTION_KEYS_JSON", &json.to_string())],
            b"",
        );
        assert_fails_with(&out, "registry_no_usable_keys");
    }

    // A registry file that does not exist yet: the first key starts it.
    let first = at("first.json");
    let out = sealkit(&["registry", "rotate", "--registry", &first], &[], b"");
    let key_id = String::from_utf8(ok(&out).stdout.clone()).unwrap();
    let stored: Value = serde_json::from_slice(&std::fs::read(&first).unwrap()).unwrap();
    assert_eq!(stored["activeKeyId"], key_id.trim());
    assert_eq!(stored["keys"].as_object().unwrap().len(), 1);

    // A registry with a usable key and members rotation would drop (a note beside `keys`, a key
    // stored as an object) is refused too, naming only how many, and left as it was.
    let mut annotated = stored.clone();
    annotated["note"] = Value::from("rotated by ops");
    annotated["keys"]["k9"] = serde_json::json!({"pem": pem});
    let annotated_file = write(
        dir.path(),
        "annotated.json",
        annotated.to_string().as_bytes(),
    );
    let before = std::fs::read(&annotated_file).unwrap();
    let out = sealkit(
        &["registry", "rotate", "--registry", &annotated_file],
        &[],
        b"",
    );
    assert_fails_with(&out, "registry_members_skipped");
    assert!(stderr(&out).contains("2 member(s)"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("MIIE") && !stderr(&out).contains("k9"));
    assert_eq!(std::fs::read(&annotated_file).unwrap(), before);
    let out = sealkit(
        &["registry", "rotate", "--env"],
        &[("DATA_AT_REST_ENCRYPTION_KEYS_JSON", &annotated.to_string())],
        b"",
    );
    assert_fails_with(&out, "registry_members_skipped");
    // The registry as rotate wrote it rotates again.
    let out = sealkit(&["registry", "rotate", "--registry", &first], &[], b"");
    ok(&out);
    let stored: Value = serde_json::from_slice(&std::fs::read(&first).unwrap()).unwrap();
    assert_eq!(stored["keys"].as_object().unwrap().len(), 2);
}

#[test]
fn helpful_errors() {
    let nothing = sealkit(&["open", "--scope", "data-at-rest", "--kv"], &[], b"{}");
    assert_fails_with(&nothing, "registry_not_configured");
    assert!(stderr(&nothing).contains("--registry FILE"));

    let bad_scope = sealkit(&["open", "--scope", "everything", "--kv"], &[], b"");
    assert_fails_with(&bad_scope, "usage");
    assert_eq!(bad_scope.status.code(), Some(2));
    assert!(
        stderr(&bad_scope).contains("--scope"),
        "{}",
        stderr(&bad_scope)
    );
    // A key pasted into the flag by mistake is not repeated, by any command that takes it.
    let pasted =
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    let scope = format!("--scope={pasted}");
    for command in [
        &["open", "--kv"][..],
        &["rewrap", "--kv"],
        &["registry", "rotate"],
        &["registry", "validate"],
    ] {
        let out = sealkit(&[command, &[scope.as_str()]].concat(), &[], b"");
        assert_fails_with(&out, "usage");
        assert!(
            !stderr(&out).contains("MIIEvQIB"),
            "{command:?}: {}",
            stderr(&out)
        );
    }

    let invalid = sealkit(
        &["open", "--scope", "data-at-rest", "--kv"],
        &[("DATA_AT_REST_ENCRYPTION_KEYS_JSON", "{not json")],
        b"",
    );
    assert_fails_with(&invalid, "registry_json_invalid");
    assert!(stderr(&invalid).contains("data-at-rest key registry: JSON is invalid"));

    let small = sealkit(&["keygen", "--bits", "1024"], &[], b"");
    assert!(!small.status.success());

    let dir = tempfile::tempdir().unwrap();
    let pair = generated_pair();
    let secret = pair["privateKeyPem"].as_str().unwrap();
    let reg = write(
        dir.path(),
        "r.json",
        serde_json::json!({"only": secret}).to_string().as_bytes(),
    );
    let not_envelope = sealkit(
        &[
            "open",
            "--scope",
            "data-at-rest",
            "--registry",
            &reg,
            "--kv",
        ],
        &[],
        b"{\"name\":\"plain user\"}",
    );
    assert_fails_with(&not_envelope, "not_an_envelope");
    // The private key never shows in an error line.
    let bad_pub = write(dir.path(), "bad.pem", secret.as_bytes());
    let wrong = sealkit(
        &["seal", "--public-key", &bad_pub, "--key-id", "k", "--kv"],
        &[],
        b"x",
    );
    assert_fails_with(&wrong, "invalid_public_key");
    let body_line = secret.lines().nth(2).unwrap();
    assert!(!stderr(&wrong).contains(body_line));
    // It names the flag and file, and the likely slip.
    assert!(
        stderr(&wrong).contains(&format!(
            "--public-key {bad_pub}: not an SPKI PEM RSA public key: it holds a private key"
        )),
        "{}",
        stderr(&wrong)
    );
}

/// Runs `sealkit envelope <args>` with stdout going to a full disk (`/dev/full`).
#[cfg(target_os = "linux")]
fn sealkit_to_full_disk(args: &[&str], stdin_file: Option<&Path>) -> Output {
    let stdin = match stdin_file {
        Some(path) => std::process::Stdio::from(std::fs::File::open(path).unwrap()),
        None => std::process::Stdio::null(),
    };
    std::process::Command::new(env!("CARGO_BIN_EXE_sealkit"))
        .arg("envelope")
        .args(args)
        .env_clear()
        .stdin(stdin)
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap()
}

/// The names in `dir`, sorted: what a command left behind (temporary files included).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A command that fails leaves no file it made and changes no file it would have replaced; an
/// existing key file is never replaced at all. (Linux: a full disk is `/dev/full`.)
#[cfg(target_os = "linux")]
#[test]
fn failed_commands_leave_nothing_behind_and_keys_are_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let existing = at("existing.pem");
    std::fs::write(&existing, "an operator's key\n").unwrap();

    // keygen: an existing file is refused, and neither file is written.
    let out = sealkit(
        &[
            "keygen",
            "--private-key-out",
            &existing,
            "--public-key-out",
            &at("new.pub"),
        ],
        &[],
        b"",
    );
    assert_fails_with(&out, "output_exists");
    let out = sealkit(
        &[
            "keygen",
            "--private-key-out",
            &at("new.pem"),
            "--public-key-out",
            &existing,
        ],
        &[],
        b"",
    );
    assert_fails_with(&out, "output_exists");
    let out = sealkit(
        &[
            "keygen",
            "--private-key-out",
            &at("same.pem"),
            "--public-key-out",
            &format!("{}/./same.pem", dir.path().display()),
        ],
        &[],
        b"",
    );
    assert_fails_with(&out, "usage");
    // A public key that cannot be written, or a key id that cannot be printed: no private key is
    // left behind whose id nobody saw.
    let out = sealkit(
        &[
            "keygen",
            "--private-key-out",
            &at("new.pem"),
            "--public-key-out",
            &at("no/dir.pub"),
        ],
        &[],
        b"",
    );
    assert_fails_with(&out, "io");
    let out = sealkit_to_full_disk(
        &[
            "keygen",
            "--private-key-out",
            &at("new.pem"),
            "--public-key-out",
            &at("new.pub"),
        ],
        None,
    );
    assert!(!out.status.success());
    assert_eq!(listing(dir.path()), ["existing.pem"]);
    assert_eq!(std::fs::read(&existing).unwrap(), b"an operator's key\n");

    // rotate: the registry changes only when everything else worked.
    let registry = at("registry.json");
    ok(&sealkit(
        &["registry", "rotate", "--registry", &registry],
        &[],
        b"",
    ));
    let before = std::fs::read(&registry).unwrap();
    // The same file under another spelling: refused, not written twice.
    let out = sealkit(
        &[
            "registry",
            "rotate",
            "--registry",
            &registry,
            "--public-key-out",
            &format!("{}/./registry.json", dir.path().display()),
        ],
        &[],
        b"",
    );
    assert_fails_with(&out, "usage");
    assert_eq!(std::fs::read(&registry).unwrap(), before);
    for public_out in [at("no/dir.pub"), existing.clone()] {
        let out = sealkit(
            &[
                "registry",
                "rotate",
                "--registry",
                &registry,
                "--public-key-out",
                &public_out,
            ],
            &[],
            b"",
        );
        assert!(!out.status.success());
        assert_eq!(std::fs::read(&registry).unwrap(), before, "{public_out}");
    }
    let out = sealkit_to_full_disk(
        &[
            "registry",
            "rotate",
            "--registry",
            &registry,
            "--public-key-out",
            &at("r.pub"),
        ],
        None,
    );
    assert!(!out.status.success());
    assert_eq!(std::fs::read(&registry).unwrap(), before);
    // `--json` prints no private key, so without a registry file to hold the new key it is
    // refused rather than silently printing the `.env` form.
    let out = sealkit(&["registry", "rotate", "--json"], &[], b"");
    assert_fails_with(&out, "usage");
    assert!(out.stdout.is_empty());
    assert_eq!(listing(dir.path()), ["existing.pem", "registry.json"]);

    // seal: an old body is replaced only once the metadata that opens the new one is out.
    let pair = generated_pair();
    let public = public_key_file(dir.path(), &pair);
    let key_id = pair["keyId"].as_str().unwrap();
    let body = at("body.bin");
    std::fs::write(&body, "the old body").unwrap();
    let payload = write(dir.path(), "payload.txt", b"new contents");
    let seal = [
        "seal",
        "--public-key",
        &public,
        "--key-id",
        key_id,
        "--body-out",
        &body,
    ];
    let out = sealkit_to_full_disk(&seal, Some(Path::new(&payload)));
    assert!(!out.status.success());
    assert_eq!(std::fs::read(&body).unwrap(), b"the old body");
    // When it succeeds, the new body replaces the old one (sealing an object again).
    let metadata = ok(&sealkit(&seal, &[], b"new contents")).stdout.clone();
    assert_ne!(std::fs::read(&body).unwrap(), b"the old body");
    let metadata_file = write(dir.path(), "metadata.json", &metadata);
    let env = legacy_env(
        [
            "DATA_AT_REST_ENCRYPTION_PRIVATE_KEY",
            "DATA_AT_REST_ENCRYPTION_KEY_ID",
        ],
        &pair,
    );
    let opened = sealkit(
        &[
            "open",
            "--scope",
            "data-at-rest",
            "--metadata",
            &metadata_file,
        ],
        &env,
        &std::fs::read(&body).unwrap(),
    );
    assert_eq!(ok(&opened).stdout, b"new contents");
    assert_eq!(
        listing(dir.path()),
        [
            "body.bin",
            "existing.pem",
            "metadata.json",
            "payload.txt",
            "pub.pem",
            "registry.json"
        ]
    );
    // A body written to something that is not a regular file (a device, a pipe, `/dev/stdout`)
    // is written into it, never replaced by a file; a link to one is followed and kept.
    use std::os::unix::fs::FileTypeExt as _;
    let is_device = || {
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    };
    let link = at("null-link");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    for target in ["/dev/null", link.as_str()] {
        let seal = [
            "seal",
            "--public-key",
            &public,
            "--key-id",
            key_id,
            "--body-out",
            target,
        ];
        ok(&sealkit(&seal, &[], b"contents"));
        assert!(is_device(), "{target}");
    }
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// A newline in anything an error names (here a file name) cannot add a second, forged line.
#[test]
fn errors_stay_one_line_whatever_they_name() {
    let out = sealkit(
        &[
            "open",
            "--scope",
            "data-at-rest",
            "--kv",
            "--registry",
            "/nowhere\nsealkit: error[ok]: forged",
        ],
        &[],
        b"{}",
    );
    assert_fails_with(&out, "io");
    assert!(
        stderr(&out).contains("/nowhere\\nsealkit"),
        "{}",
        stderr(&out)
    );
}

/// The commands that read a scope's keys from the environment name its variables under `--help`.
#[test]
fn help_names_the_registry_environment() {
    harness::assert_help_names(
        &[
            &["envelope", "open"][..],
            &["envelope", "rewrap"],
            &["envelope", "registry", "validate"],
            &["envelope", "registry", "rotate"],
        ],
        &[
            "DATA_AT_REST_ENCRYPTION",
            "USER_KV_ENCRYPTION",
            "EXPORT_ENCRYPTION",
            "PREFIX_KEYS_JSON",
            "PREFIX_ACTIVE_KEY_ID",
            "PREFIX_PRIVATE_KEY",
            "PREFIX_PUBLIC_KEY",
        ],
    );
}

/// A JSON array holding an envelope's fields in order is not an envelope (docs/formats.md: a
/// record is a JSON object), from stdin (`--kv`) or from a `--metadata` file, for `open` and
/// `rewrap` alike; the same fields as an object open.
#[test]
fn an_array_of_envelope_fields_is_not_an_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let pair = generated_pair();
    let key_id = pair["keyId"].as_str().unwrap();
    let public = public_key_file(dir.path(), &pair);
    let env = legacy_env(
        [
            "DATA_AT_REST_ENCRYPTION_PRIVATE_KEY",
            "DATA_AT_REST_ENCRYPTION_KEY_ID",
        ],
        &pair,
    );
    let fields = |object: &Value, names: &[&str]| -> Vec<u8> {
        let values: Vec<&Value> = names.iter().map(|name| &object[*name]).collect();
        assert!(values.iter().all(|v| v.is_string()), "{object}");
        serde_json::to_vec(&values).unwrap()
    };
    let five = [
        "algorithm",
        "encryptionVersion",
        "keyId",
        "dataIv",
        "wrappedKey",
    ];
    let six = [&five[..], &["ciphertext"]].concat();

    let record = sealkit(
        &["seal", "--public-key", &public, "--key-id", key_id, "--kv"],
        &[],
        b"payload",
    );
    let record = ok(&record).stdout.clone();
    let kv: Value = serde_json::from_slice(&record).unwrap();
    ok(&sealkit(
        &["open", "--scope", "data-at-rest", "--kv"],
        &env,
        &record,
    ));
    let array = fields(&kv, &six);
    assert!(array.starts_with(b"[\"RSA-OAEP-AES-256-GCM\",\"1.0\","));
    for command in ["open", "rewrap"] {
        let out = sealkit(&[command, "--scope", "data-at-rest", "--kv"], &env, &array);
        assert_fails_with(&out, "not_an_envelope");
    }

    let body = dir.path().join("body.bin");
    let meta = sealkit(
        &[
            "seal",
            "--public-key",
            &public,
            "--key-id",
            key_id,
            "--body-out",
            body.to_str().unwrap(),
        ],
        &[],
        b"payload",
    );
    let metadata: Value = serde_json::from_slice(&ok(&meta).stdout).unwrap();
    let body = std::fs::read(&body).unwrap();
    let as_object = write(dir.path(), "meta.json", &ok(&meta).stdout);
    ok(&sealkit(
        &["open", "--scope", "data-at-rest", "--metadata", &as_object],
        &env,
        &body,
    ));
    let as_array = write(dir.path(), "meta-array.json", &fields(&metadata, &five));
    for command in ["open", "rewrap"] {
        let out = sealkit(
            &[command, "--scope", "data-at-rest", "--metadata", &as_array],
            &env,
            &body,
        );
        assert_fails_with(&out, "not_an_envelope");
    }
}

/// SPEC: keys are generated RSA-2048 with e = 65537, private PKCS#8 PEM, public SPKI PEM.
#[test]
fn keygen_makes_rsa_2048_keys_with_exponent_65537() {
    use sealkit::envelope::keys;
    use sealkit::envelope::rsa::traits::PublicKeyParts;

    let pair = generated_pair();
    let private_pem = pair["privateKeyPem"].as_str().unwrap();
    let public_pem = pair["publicKeyPem"].as_str().unwrap();
    assert!(private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let private = keys::parse_private_key_pem(private_pem).unwrap();
    let public = keys::parse_public_key_pem(public_pem).unwrap();
    assert_eq!(private.to_public_key(), public);
    assert_eq!(keys::public_key_bits(&public), 2048);
    assert_eq!(&public.e_bytes()[..], [0x01, 0x00, 0x01]);
}

/// A private key pasted into `{SCOPE}_KEY_ID` is refused at startup and never printed: before,
/// it became the registered id and every successful open printed it as `selectedKeyId`.
#[test]
fn a_private_key_pasted_as_the_key_id_is_refused_unprinted() {
    let pair = generated_pair();
    let private_pem = pair["privateKeyPem"].as_str().unwrap();
    let out = sealkit(
        &["open", "--scope", "user-kv", "--kv"],
        &[
            ("USER_KV_ENCRYPTION_PRIVATE_KEY", private_pem),
            ("USER_KV_ENCRYPTION_KEY_ID", private_pem),
        ],
        b"{}",
    );
    assert_fails_with(&out, "registry_key_id_invalid");
    let err = stderr(&out);
    for line in private_pem.lines().filter(|line| !line.is_empty()) {
        assert!(!err.contains(line), "{err}");
    }
    assert!(err.contains("that is not shown"), "{err}");
}
