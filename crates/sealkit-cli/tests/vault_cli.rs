//! End-to-end tests of `sealkit vault encrypt|decrypt|check|migrate`, driving the built binary.

mod harness;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use harness::{assert_fails_silently_with, assert_fails_with, sealkit};

use sealkit::vault::migrate::postgres::PostgresTls;
use sealkit::vault::{EncryptionKey, SettingsVault, VaultError};

const KEY: &str = "vkPfuKp+yOBXQkxpi2sGPyYagpPyCZhOJDfW6dOlXuc=";
/// The example key of the crate documentation: public, so blocked in production.
const DOC_KEY: &str = "q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=";
/// The vectors' key: the old key the stored values below were written under.
const OLD_KEY: &str = "test-encryption-key-exactly-32b!";
/// Known-answer values under `OLD_KEY`, all with plaintext "my-secret-value" (legacy 12-byte IV,
/// legacy 16-byte IV, v2).
const OLD_VALUES: &[&str] = &[
    "1X0XULmDyRGmmCBZ:PLxpsykmRaWlV2YEwD8e3A==:HhbYarnBeosvBuVEKPyI",
    "/P+iXYZH4HNtBLLb//R7jw==:MBsZwhiobZVI7GcW3kt23w==:/6w7N4k66P3MdO56w9ru",
    "v2:qojIPkeFLRGb1kwu:5kVqZqhbRFZmgGEnGugLPg==:c2QOEI5OW3cD/rP5YpRu",
];

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn encrypt_then_decrypt_round_trips_exact_bytes() {
    let plain = "line one\nline two with trailing newline\n";
    let enc = sealkit(
        &["vault", "encrypt"],
        &[("ENCRYPTION_KEY", KEY)],
        plain.as_bytes(),
    );
    assert!(enc.status.success(), "{enc:?}");
    let value = stdout(&enc);
    assert!(value.starts_with("v2:") && value.ends_with('\n'));
    let dec = sealkit(
        &["vault", "decrypt"],
        &[("ENCRYPTION_KEY", KEY)],
        value.as_bytes(),
    );
    assert!(dec.status.success());
    assert_eq!(dec.stdout, plain.as_bytes());
}

#[test]
fn decrypt_reads_vectors_and_passes_plain_text_through() {
    let env = [("ENCRYPTION_KEY", OLD_KEY)];
    for value in OLD_VALUES {
        let out = sealkit(&["vault", "decrypt"], &env, format!("{value}\n").as_bytes());
        assert_eq!(stdout(&out), "my-secret-value");
    }
    let out = sealkit(&["vault", "decrypt"], &env, b"http://localhost:3000\n");
    assert_eq!(stdout(&out), "http://localhost:3000");
    let out = sealkit(&["vault", "decrypt"], &env, b"");
    assert!(out.status.success() && out.stdout.is_empty());
}

#[test]
fn decrypt_failures_name_their_code_and_print_nothing() {
    let tampered = "v2:qojIPkeFLRGb1kwu:5kVqZqhbRFZmgGEnGugLPg==:cmQOEI5OW3cD/rP5YpRu";
    let out = sealkit(
        &["vault", "decrypt"],
        &[("ENCRYPTION_KEY", OLD_KEY)],
        tampered.as_bytes(),
    );
    // Silently: neither the tampered value nor the malformed one may come back on stdout as if it
    // were plain text (some reference versions failed open like that).
    assert_fails_silently_with(&out, "decrypt");
    let out = sealkit(
        &["vault", "decrypt"],
        &[("ENCRYPTION_KEY", OLD_KEY)],
        b"v2:abc",
    );
    assert_fails_silently_with(&out, "format");
    let out = sealkit(&["vault", "encrypt"], &[], b"x");
    assert_fails_silently_with(&out, "ENCRYPTION_KEY_ABSENT");
}

#[test]
fn check_tiers_exit_codes_and_analytics_lines() {
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Env, bool, &str)] = &[
        (
            &[("ENCRYPTION_KEY", KEY), ("NODE_ENV", "production")],
            true,
            "sdk.startup.succeeded",
        ),
        (&[], false, "ENCRYPTION_KEY_ABSENT"),
        (
            &[("ENCRYPTION_KEY", "too-short")],
            false,
            "ENCRYPTION_KEY_WEAK",
        ),
        (
            &[("ENCRYPTION_KEY", OLD_KEY), ("NODE_ENV", "Production")],
            false,
            "ENCRYPTION_KEY_BLOCKLISTED",
        ),
        (
            &[
                ("ENCRYPTION_KEY", "test-encryption-key-exactly-32b! "),
                ("NODE_ENV", "production"),
            ],
            false,
            "ENCRYPTION_KEY_BLOCKLISTED",
        ),
        (
            &[("ENCRYPTION_KEY", DOC_KEY), ("NODE_ENV", "production")],
            false,
            "ENCRYPTION_KEY_BLOCKLISTED",
        ),
        (
            &[("ENCRYPTION_KEY", OLD_KEY), ("NODE_ENV", "development")],
            true,
            "sdk.startup.succeeded",
        ),
    ];
    for (env, ok, what) in cases {
        let out = sealkit(&["vault", "check"], env, b"");
        let lines: Vec<serde_json::Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(lines.iter().all(|l| l["type"] == "analytics"));
        if *ok {
            assert!(out.status.success(), "{env:?}");
            assert_eq!(lines.len(), 1);
            assert_eq!(lines[0]["event"], *what);
        } else {
            assert_fails_with(&out, what);
            assert_eq!(out.status.code(), Some(1));
            assert_eq!(lines[0]["event"], "sdk.startup.failed");
        }
        // Never any key material on either stream.
        for (name, value) in env.iter() {
            if *name == "ENCRYPTION_KEY" {
                let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
                assert!(!all.contains(&value[..8]), "{all}");
            }
        }
    }
    // The environment variable is configurable.
    let out = sealkit(
        &["vault", "check", "--environment-var", "APP_ENV"],
        &[("ENCRYPTION_KEY", OLD_KEY), ("APP_ENV", "PRODUCTION")],
        b"",
    );
    assert_fails_with(&out, "ENCRYPTION_KEY_BLOCKLISTED");
}

/// The environment name goes into the analytics line, so `check` will not read it from a variable
/// whose name says it holds a secret.
#[test]
fn check_refuses_to_print_a_secret_as_the_environment_name() {
    let secrets = [
        "ENCRYPTION_KEY",
        "SESSION_SIGNING_KEY",
        "db_password",
        "API_TOKEN",
        "DATABASE_URL",
        // The library's rule splits at any separator, not only `_`.
        "db-password",
    ];
    for var in secrets {
        let env = [("ENCRYPTION_KEY", KEY), (var, KEY)];
        let out = sealkit(&["vault", "check", "--environment-var", var], &env, b"");
        assert_fails_silently_with(&out, "usage");
        assert_eq!(out.status.code(), Some(2));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(&KEY[..8]));
    }
    // A secret pasted into the flag by mistake, holding such a word, is not repeated either.
    let pasted = "hunter2-secret-7f3a9c";
    let env = [("ENCRYPTION_KEY", KEY)];
    let out = sealkit(&["vault", "check", "--environment-var", pasted], &env, b"");
    assert_fails_silently_with(&out, "usage");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--environment-var"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    // Names that merely contain such a word are environment names like any other.
    for var in ["APP_ENV", "KEYCLOAK_ENV", "TURNKEY_ENV"] {
        let env = [("ENCRYPTION_KEY", KEY), (var, "staging")];
        let out = sealkit(&["vault", "check", "--environment-var", var], &env, b"");
        assert!(
            stdout(&out).contains(r#""env":"staging""#),
            "{var}: {}",
            stdout(&out)
        );
    }
}

/// With `SESSION_SIGNING_KEY` set, `check` also refuses what `sealkit session` would refuse at
/// startup (SPEC §2): the same secret as `ENCRYPTION_KEY`, raw or decoded, or a short key.
#[test]
fn check_enforces_key_separation_when_a_signing_key_is_set() {
    const SIGNING_KEY: &str = "3q2+7/7K0x1N8m4Pq9rS5tUvWxYz0A1B2C3D4E5F6G8=";
    /// A text `ENCRYPTION_KEY` and the signing key that is its base64 encoding.
    const TEXT_KEY: &str = "a-separate-32-byte-production-key";
    const TEXT_KEY_B64: &str = "YS1zZXBhcmF0ZS0zMi1ieXRlLXByb2R1Y3Rpb24ta2V5";
    let cases: &[(&str, &str, Option<&str>)] = &[
        (KEY, KEY, Some("session_key_reused")),
        (TEXT_KEY, TEXT_KEY_B64, Some("session_key_reused")),
        (KEY, "AAEC", Some("session_key_too_short")),
        (KEY, "not base64!", Some("session_key_invalid")),
        (KEY, SIGNING_KEY, None),
        // Blank is what `sealkit session` calls absent: no signing key to check.
        (KEY, "", None),
        (KEY, "  ", None),
    ];
    for (encryption, signing, failure) in cases {
        let env = [
            ("ENCRYPTION_KEY", *encryption),
            ("SESSION_SIGNING_KEY", *signing),
            ("NODE_ENV", "production"),
        ];
        let out = sealkit(&["vault", "check"], &env, b"");
        // The analytics line reports the three ENCRYPTION_KEY tiers, which passed, in its fixed
        // schema; a separation failure shows in the exit status and on stderr.
        let lines: Vec<serde_json::Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{signing:?}");
        assert_eq!(lines[0]["event"], "sdk.startup.succeeded");
        match failure {
            Some(code) => {
                assert_fails_with(&out, code);
                assert_eq!(out.status.code(), Some(1), "{signing:?}");
            }
            None => assert!(out.status.success(), "{signing:?}: {out:?}"),
        }
        let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        for secret in [encryption, signing] {
            if secret.len() >= 8 {
                assert!(!all.contains(&secret[..8]), "{all}");
            }
        }
    }
    // Unset: the startup validation alone, as before.
    let out = sealkit(&["vault", "check"], &[("ENCRYPTION_KEY", KEY)], b"");
    assert!(out.status.success(), "{out:?}");
    // A failing tier is reported first, even beside a reused signing key.
    let out = sealkit(
        &["vault", "check"],
        &[
            ("ENCRYPTION_KEY", "too-short"),
            ("SESSION_SIGNING_KEY", "too-short"),
        ],
        b"",
    );
    assert_fails_with(&out, "ENCRYPTION_KEY_WEAK");
}

// ---------- migrate ----------

fn create_db(path: &Path, rows: &[(&str, &str, &str, bool)]) {
    let conn = rusqlite::Connection::open(path).unwrap();
    for table in ["ciam_settings", "iam_settings"] {
        conn.execute_batch(&format!(
            "CREATE TABLE {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL, \
             encrypted BOOLEAN NOT NULL DEFAULT FALSE, category TEXT NOT NULL DEFAULT 'general', \
             updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        ))
        .unwrap();
    }
    for (table, key, value, encrypted) in rows {
        conn.execute(
            &format!("INSERT INTO {table} (key, value, encrypted) VALUES (?1, ?2, ?3)"),
            rusqlite::params![key, value, encrypted],
        )
        .unwrap();
    }
}

fn db_rows(path: &Path) -> Vec<(String, String, bool)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut all = Vec::new();
    for table in ["ciam_settings", "iam_settings"] {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT key, value, encrypted FROM {table} ORDER BY key"
            ))
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        all.extend(rows.map(Result::unwrap));
    }
    all
}

/// A seeded SQLite database in its own temporary directory, with the old key written beside it.
struct Seeded {
    /// Keeps the directory (and the database in it) alive: bind it for the whole test.
    _dir: tempfile::TempDir,
    db: PathBuf,
    /// The `sqlite://` URL of `db`.
    url: String,
    /// The old key, as a file path for `--previous-key-file`.
    key_file: String,
}

/// 3 × 10 old values in ciam_settings, 3 in iam_settings, one unencrypted row.
fn seeded() -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("olympus.db");
    let keys: Vec<String> = (0..33).map(|i| format!("key_{i:02}")).collect();
    let mut rows: Vec<(&str, &str, &str, bool)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let table = if i < 30 {
                "ciam_settings"
            } else {
                "iam_settings"
            };
            (table, k.as_str(), OLD_VALUES[i % 3], true)
        })
        .collect();
    rows.push(("iam_settings", "site_url", "http://localhost:3000", false));
    create_db(&db, &rows);
    let key_file = dir.path().join("old.key");
    // Written as `echo` would: with a trailing newline.
    std::fs::write(&key_file, format!("{OLD_KEY}\n")).unwrap();
    Seeded {
        url: format!("sqlite://{}", db.display()),
        key_file: key_file.display().to_string(),
        db,
        _dir: dir,
    }
}

fn assert_migrated(db: &Path) {
    let vault = SettingsVault::new(&EncryptionKey::new(KEY)).unwrap();
    for (key, value, encrypted) in db_rows(db) {
        if !encrypted {
            assert_eq!(value, "http://localhost:3000");
            continue;
        }
        assert!(value.starts_with("v2:"), "{key}");
        assert_eq!(
            vault.decrypt(&value).unwrap().as_str(),
            "my-secret-value",
            "{key}"
        );
    }
}

fn no_values_in(out: &Output) {
    let all = format!("{}{}", stdout(out), String::from_utf8_lossy(&out.stderr));
    for value in OLD_VALUES {
        assert!(!all.contains(&value[3..12]), "a stored value leaked: {all}");
    }
    assert!(!all.contains("my-secret") && !all.contains(&KEY[..8]) && !all.contains(&OLD_KEY[..8]));
}

#[test]
fn migrate_sqlite_with_previous_key_file_dry_run_then_real_then_idempotent() {
    let Seeded {
        _dir,
        db,
        url,
        key_file,
    } = seeded();
    let before = db_rows(&db);

    let dry = sealkit(
        &[
            "vault",
            "migrate",
            "--database-url",
            &url,
            "--dry-run",
            "--previous-key-file",
            &key_file,
        ],
        &[("ENCRYPTION_KEY", KEY)],
        b"",
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(stdout(&dry).contains("dry run"));
    assert_eq!(db_rows(&db), before);
    no_values_in(&dry);

    // A plain path names the SQLite file as well as its URL does.
    let run = sealkit(
        &[
            "vault",
            "migrate",
            "--database-url",
            db.to_str().unwrap(),
            "--previous-key-file",
            &key_file,
            "--batch-size",
            "7",
        ],
        &[("ENCRYPTION_KEY", KEY)],
        b"",
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = stdout(&run);
    assert!(
        text.contains("total: processed 33, migrated 33, skipped 0"),
        "{text}"
    );
    assert!(
        text.contains("verification: 0 encrypted row(s) not in v2 format"),
        "{text}"
    );
    // Not a terminal: no progress bar escape sequences anywhere.
    assert!(!text.contains('\r') && run.stderr.is_empty());
    no_values_in(&run);
    assert_migrated(&db);

    // Idempotent; JSON report; DATABASE_URL from the environment.
    let again = sealkit(
        &["vault", "migrate", "--json"],
        &[("ENCRYPTION_KEY", KEY), ("DATABASE_URL", &url)],
        b"",
    );
    assert!(again.status.success());
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report["total"]["migrated"], 0);
    assert_eq!(report["total"]["already_current"], 33);
    assert_eq!(report["total"]["remaining_not_v2"], 0);
}

/// Neither `--database-url` nor `DATABASE_URL`: the embedded default, `sqlite://settings.db` in
/// the current directory.
#[test]
fn migrate_defaults_to_settings_db_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("settings.db");
    create_db(
        &db,
        &[("ciam_settings", "smtp_password", OLD_VALUES[0], true)],
    );
    // Run from the directory, in an environment that has no DATABASE_URL at all.
    let out = Command::new(env!("CARGO_BIN_EXE_sealkit"))
        .args(["vault", "migrate"])
        .current_dir(dir.path())
        .env_clear()
        .env("ENCRYPTION_KEY", OLD_KEY)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(
        text.contains("total: processed 1, migrated 1, skipped 0"),
        "{text}"
    );
    let rows = db_rows(&db);
    assert_eq!(rows.len(), 1);
    let (key, value, encrypted) = &rows[0];
    assert_eq!(key, "smtp_password");
    assert!(*encrypted && value.starts_with("v2:"), "{value}");
    let vault = SettingsVault::new(&EncryptionKey::new(OLD_KEY)).unwrap();
    assert_eq!(vault.decrypt(value).unwrap().as_str(), "my-secret-value");
    // Nothing else was created there: the default named exactly that file.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["settings.db"], "{names:?}");
}

/// A database whose settings live under other names: the error says which tables were looked
/// for and how to name others; once `--table` names them, the hint is not repeated.
#[test]
fn migrate_on_a_database_without_the_default_tables_names_them_and_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("other.db");
    let sql = |batch: &str| {
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch(batch)
            .unwrap()
    };
    let url = format!("sqlite://{}", db.display());
    // Runs `vault migrate` with `extra` arguments, expects a store error, returns its line.
    let migrate_fails = |extra: &[&str]| {
        let mut args = vec!["vault", "migrate", "--database-url", &url];
        args.extend_from_slice(extra);
        let out = sealkit(&args, &[("ENCRYPTION_KEY", OLD_KEY)], b"");
        assert_fails_with(&out, "store");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    const HINT: &str = "(migrating the default tables ciam_settings and iam_settings, each with \
                        columns key, value, encrypted and updated_at; name others with --table)";

    sql("CREATE TABLE app_config (name TEXT PRIMARY KEY, value TEXT)");
    let err = migrate_fails(&[]);
    assert!(
        err.contains("cannot read table ciam_settings: no such table: ciam_settings"),
        "{err}"
    );
    assert!(err.contains(HINT), "{err}");

    let err = migrate_fails(&["--table", "app_config"]);
    assert!(
        err.contains("cannot read table app_config: no such column: key"),
        "{err}"
    );
    assert!(!err.contains("--table"), "{err}");

    // The default tables, the second without `updated_at`: found before the first, which could be
    // migrated, is written.
    sql(&format!(
        "CREATE TABLE ciam_settings (key TEXT PRIMARY KEY, value TEXT, encrypted BOOLEAN, updated_at TEXT);
         CREATE TABLE iam_settings (key TEXT PRIMARY KEY, value TEXT, encrypted BOOLEAN);
         INSERT INTO ciam_settings VALUES ('smtp', '{legacy}', 1, NULL);
         INSERT INTO iam_settings VALUES ('smtp', '{legacy}', 1);",
        legacy = OLD_VALUES[0]
    ));
    let err = migrate_fails(&[]);
    assert!(
        err.contains("cannot read table iam_settings: no such column: updated_at"),
        "{err}"
    );
    assert!(err.contains(HINT), "{err}");
    for table in ["ciam_settings", "iam_settings"] {
        let value: String = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(&format!("SELECT value FROM {table}"), [], |row| row.get(0))
            .unwrap();
        assert_eq!(value, OLD_VALUES[0], "{table} was written");
    }
}

#[test]
fn migrate_without_the_old_key_fails_rows_and_exits_1() {
    let Seeded { _dir, db, url, .. } = seeded();
    let before = db_rows(&db);
    let out = sealkit(
        &["vault", "migrate", "--database-url", &url],
        &[("ENCRYPTION_KEY", KEY)],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_fails_with(&out, "migration_failed");
    assert!(stdout(&out).contains("failed 33"), "{}", stdout(&out));
    assert!(stdout(&out).contains("failed [decrypt]: key_00"));
    no_values_in(&out);
    assert_eq!(db_rows(&db), before, "failed rows must be left untouched");
}

#[test]
fn migrate_stopped_or_killed_midway_then_rerun_ends_correct() {
    let Seeded {
        _dir,
        db,
        url,
        key_file,
    } = seeded();
    let env = [("ENCRYPTION_KEY", KEY)];
    let base = [
        "vault",
        "migrate",
        "--database-url",
        &url,
        "--previous-key-file",
        &key_file,
    ];

    let mut args = base.to_vec();
    args.extend(["--batch-size", "4", "--max-batches", "2"]);
    let partial = sealkit(&args, &env, b"");
    assert!(partial.status.success());
    assert!(
        stdout(&partial).contains("stopped early"),
        "{}",
        stdout(&partial)
    );
    let migrated = db_rows(&db)
        .iter()
        .filter(|r| r.1.starts_with("v2:") && r.2)
        .count();
    // 8 processed, a third of them were already v2 (under the old key, now rewrapped too).
    assert!((8..33).contains(&migrated), "{migrated}");

    // A real kill at an arbitrary point, then a full run.
    let mut args = base.to_vec();
    args.extend(["--batch-size", "1"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealkit"))
        .args(&args)
        .env_clear()
        .env("ENCRYPTION_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(15));
    let _ = child.kill();
    let _ = child.wait();

    let last = sealkit(&base, &env, b"");
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    assert!(stdout(&last).contains("verification: 0 encrypted row(s)"));
    assert_migrated(&db);
}

#[test]
fn migrate_refuses_unknown_urls_missing_files_and_bad_table_names() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("ENCRYPTION_KEY", KEY)];
    let missing = format!("sqlite://{}", dir.path().join("nope.db").display());
    let out = sealkit(&["vault", "migrate", "--database-url", &missing], &env, b"");
    assert_fails_with(&out, "store");
    assert!(
        !dir.path().join("nope.db").exists(),
        "a missing database must not be created"
    );
    let out = sealkit(
        &["vault", "migrate", "--database-url", "mysql://x"],
        &env,
        b"",
    );
    assert_fails_with(&out, "database_url");
    let Seeded { _dir, url, .. } = seeded();
    let out = sealkit(
        &[
            "vault",
            "migrate",
            "--database-url",
            &url,
            "--table",
            "x;drop",
        ],
        &env,
        b"",
    );
    assert_fails_with(&out, "table_name");
    let out = sealkit(&["vault", "migrate", "--database-url", &url], &[], b"");
    assert_fails_with(&out, "ENCRYPTION_KEY_ABSENT");
    // A file name may hold `=`; a libpq keyword string is not a file name, and not supported.
    let odd = dir.path().join("a=b.db");
    create_db(&odd, &[("ciam_settings", "k", "plain", false)]);
    let out = sealkit(
        &[
            "vault",
            "migrate",
            "--dry-run",
            "--database-url",
            odd.to_str().unwrap(),
        ],
        &env,
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sealkit(
        &[
            "vault",
            "migrate",
            "--database-url",
            "host=localhost dbname=settings",
        ],
        &env,
        b"",
    );
    assert_fails_with(&out, "database_url");
    // An empty URL would open SQLite's private temporary database and "migrate" nothing.
    for empty in [&["--database-url", ""][..], &[]] {
        let args = [&["vault", "migrate"][..], empty].concat();
        let out = sealkit(&args, &[("ENCRYPTION_KEY", KEY), ("DATABASE_URL", "")], b"");
        assert_fails_with(&out, "database_url");
    }
    // A URL without its scheme is taken for a file name; opening it fails without repeating it,
    // for it may hold a password.
    let out = sealkit(
        &["vault", "migrate"],
        &[
            ("ENCRYPTION_KEY", KEY),
            ("DATABASE_URL", "admin:S3cretPw@db.internal:5432/settings"),
        ],
        b"",
    );
    assert_fails_with(&out, "store");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("S3cretPw"));
    // Nor does a URL typed without its flag, which clap would have repeated.
    let out = sealkit(
        &[
            "vault",
            "migrate",
            "postgres://admin:S3cretPw@db.internal/settings",
        ],
        &env,
        b"",
    );
    assert_fails_with(&out, "usage");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("S3cretPw"));
}

/// Stored keys are anyone's text: one holding a newline and a terminal escape neither forges a
/// summary line nor hides one. The JSON totals carry counts only (the keys are per table).
#[test]
fn migrate_output_shows_stored_keys_escaped_and_totals_without_key_lists() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let forged = "x\nverification: 0 encrypted row(s) not in v2 format\n\u{1b}[8m";
    create_db(
        &db,
        &[
            ("ciam_settings", forged, "plain text", true),
            ("iam_settings", "bad", "v2:bad:bad:bad", true),
        ],
    );
    let url = format!("sqlite://{}", db.display());
    let env = [("ENCRYPTION_KEY", KEY)];
    let out = sealkit(&["vault", "migrate", "--database-url", &url], &env, b"");
    assert_fails_with(&out, "migration_failed");
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("verification:"))
            .count(),
        1,
        "{text}"
    );
    assert!(text.contains("x\\nverification"), "{text}");
    assert!(text.contains("failed [format]: bad"), "{text}");

    let out = sealkit(
        &["vault", "migrate", "--database-url", &url, "--json"],
        &env,
        b"",
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["total"]["failed"], 1);
    assert!(report["total"].get("failed_keys").is_none());
    assert_eq!(report["tables"][1]["failed_keys"][0]["key"], "bad");
    assert_eq!(report["tables"][0]["unencrypted_keys"][0], forged);
}

#[test]
fn migrate_postgres_through_the_cli() {
    let Ok(url) = std::env::var("SEALKIT_TEST_POSTGRES_URL") else {
        assert!(
            !sealkit_vectors::required_under_ci(),
            "SEALKIT_TEST_POSTGRES_URL must be set under CI"
        );
        println!("skipped migrate_postgres_through_the_cli: SEALKIT_TEST_POSTGRES_URL is not set");
        return;
    };
    let table = format!("cli_pg_{}", std::process::id());
    let ca = std::env::var("SEALKIT_TEST_POSTGRES_CA").ok();
    let tls = match &ca {
        Some(ca) => PostgresTls::with_root_certificates_file(Path::new(ca)).unwrap(),
        None => PostgresTls::system_roots().unwrap(),
    };
    let mut client = tls.connect(&url).unwrap();
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL, \
             encrypted BOOLEAN NOT NULL DEFAULT FALSE, category TEXT NOT NULL DEFAULT 'general', \
             updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW())"
        ))
        .unwrap();
    for i in 0..12 {
        client
            .execute(
                &format!("INSERT INTO {table} (key, value, encrypted) VALUES ($1, $2, true)"),
                &[&format!("k{i:02}"), &OLD_VALUES[i % 3]],
            )
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("old.key");
    std::fs::write(&key_file, OLD_KEY).unwrap();
    let mut args = vec![
        "vault",
        "migrate",
        "--table",
        &table,
        "--batch-size",
        "5",
        "--previous-key-file",
        key_file.to_str().unwrap(),
    ];
    if let Some(ca) = &ca {
        args.extend(["--database-ca-file", ca]);
    }
    let out = sealkit(
        &args,
        &[("ENCRYPTION_KEY", KEY), ("DATABASE_URL", &url)],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("verification: 0 encrypted row(s)"));
    no_values_in(&out);
    assert!(
        !stdout(&out).contains("sealkit-test-only"),
        "the database password leaked"
    );
    let n: i64 = client
        .query_one(
            &format!(
                "SELECT COUNT(*) FROM {table} WHERE encrypted = true AND value NOT LIKE 'v2:%'"
            ),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    let vault = SettingsVault::new(&EncryptionKey::new(KEY)).unwrap();
    for row in client
        .query(&format!("SELECT value FROM {table}"), &[])
        .unwrap()
    {
        assert_eq!(
            vault.decrypt(row.get(0)).unwrap().as_str(),
            "my-secret-value"
        );
    }
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();
}

#[cfg(unix)]
#[test]
fn non_utf8_key_from_the_environment_is_read_lossily_and_never_trimmed() {
    use std::io::Write as _;
    use std::os::unix::ffi::OsStrExt as _;
    let raw: &[u8] = b"key-with-\xff-invalid-utf8-and-newline-0123456789\n";
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealkit"))
        .args(["vault", "encrypt"])
        .env_clear()
        .env("ENCRYPTION_KEY", std::ffi::OsStr::from_bytes(raw))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"value").unwrap();
    let value = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let lossy = SettingsVault::new(&EncryptionKey::from_bytes_lossy(raw)).unwrap();
    assert_eq!(lossy.decrypt(value.trim_end()).unwrap().as_str(), "value");
    let trimmed =
        SettingsVault::new(&EncryptionKey::from_bytes_lossy(raw.trim_ascii_end())).unwrap();
    // The newline is part of the key: without it the value does not authenticate (a decryption
    // failure, not a format error: the value itself is well formed).
    let result = trimmed.decrypt(value.trim_end());
    assert!(matches!(result, Err(VaultError::Decrypt)), "{result:?}");
}

#[test]
fn check_survives_a_closed_stdout_analytics_errors_are_swallowed() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealkit"))
        .args(["vault", "check"])
        .env_clear()
        .env("ENCRYPTION_KEY", KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the child writes its event: the write fails with EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
}

/// Against the TLS test server, without its CA: the certificate cannot be verified, so the run
/// stops before touching anything, says why, and never shows the password.
#[test]
fn migrate_refuses_a_postgres_certificate_it_cannot_verify() {
    let (Ok(url), Ok(_)) = (
        std::env::var("SEALKIT_TEST_POSTGRES_URL"),
        std::env::var("SEALKIT_TEST_POSTGRES_CA"),
    ) else {
        assert!(
            !sealkit_vectors::required_under_ci(),
            "SEALKIT_TEST_POSTGRES_URL and SEALKIT_TEST_POSTGRES_CA must be set under CI"
        );
        println!(
            "skipped migrate_refuses_a_postgres_certificate_it_cannot_verify: no TLS test server"
        );
        return;
    };
    let out = sealkit(
        &["vault", "migrate"],
        &[("ENCRYPTION_KEY", KEY), ("DATABASE_URL", &url)],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("certificate verify failed"), "{stderr}");
    assert!(!stderr.contains("sealkit-test-only"), "the password leaked");
}

/// libpq's sslmode=verify-full and sslrootcert are not options of the Rust client: the error says
/// what to write instead, and never repeats the URL's password.
#[test]
fn migrate_explains_libpq_only_url_options() {
    for (url, hint) in [
        (
            "postgres://u:hunter2pw@127.0.0.1:1/db?sslmode=verify-full",
            "use sslmode=require",
        ),
        (
            "postgres://u:hunter2pw@127.0.0.1:1/db?sslmode=verify-ca",
            "use sslmode=require",
        ),
        (
            "postgres://u:hunter2pw@127.0.0.1:1/db?sslrootcert=/etc/ca.pem",
            "--database-ca-file",
        ),
    ] {
        let out = sealkit(
            &["vault", "migrate", "--database-url", url],
            &[("ENCRYPTION_KEY", KEY)],
            b"",
        );
        assert_eq!(out.status.code(), Some(1), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(hint), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2pw"), "{url}: the password leaked");
    }
}

/// A CA file with a SQLite URL is refused rather than ignored (the URL is most likely not the
/// database meant), and the database is left as it was.
#[test]
fn migrate_refuses_a_ca_file_for_a_sqlite_database() {
    let Seeded {
        _dir: dir, db, url, ..
    } = seeded();
    let before = db_rows(&db);
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "unused").unwrap();
    let out = sealkit(
        &[
            "vault",
            "migrate",
            "--database-url",
            &url,
            "--database-ca-file",
            ca.to_str().unwrap(),
        ],
        &[("ENCRYPTION_KEY", KEY)],
        b"",
    );
    assert_fails_with(&out, "database_option");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--database-ca-file"));
    assert_eq!(db_rows(&db), before, "the database must be untouched");
}

/// A CA file that is missing or holds no certificate is named in a clear error.
#[test]
fn migrate_reports_an_unusable_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let missing = dir.path().join("missing.pem");
    for (path, expected) in [
        (&not_pem, "no PEM certificate"),
        (&missing, "cannot read the CA certificate file"),
    ] {
        let out = sealkit(
            &[
                "vault",
                "migrate",
                "--database-url",
                "postgres://u@127.0.0.1:1/db",
                "--database-ca-file",
                path.to_str().unwrap(),
            ],
            &[("ENCRYPTION_KEY", KEY)],
            b"",
        );
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}

/// Every vault subcommand's help names the environment it reads.
#[test]
fn help_names_the_environment_variables() {
    harness::assert_help_names(
        &[
            &["vault"][..],
            &["vault", "encrypt"],
            &["vault", "decrypt"],
            &["vault", "check"],
            &["vault", "migrate"],
        ],
        &[
            "ENCRYPTION_KEY",
            "NODE_ENV",
            "SESSION_SIGNING_KEY",
            "DATABASE_URL",
        ],
    );
}
