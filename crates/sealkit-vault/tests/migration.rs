//! The migration against real databases: SQLite (a temp file) always, PostgreSQL when
//! `SEALKIT_TEST_POSTGRES_URL` is set (`source .ci/postgres.sh`; required under `CI`).
//! Every test uses its own tables, so they run in parallel.
#![cfg(all(feature = "sqlite", feature = "postgres"))]

mod legacy;

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use legacy::legacy_encrypt;
use sealkit_vault::migrate::postgres::{PostgresStore, PostgresTls};
use sealkit_vault::migrate::store::{
    CasUpdate, SettingsStore, StoredRow, TableName, UnreadableKeys,
};
use sealkit_vault::migrate::{MigrationReport, Migrator, WRITE_REFUSED};
use sealkit_vault::{EncryptionKey, SettingsVault, VaultError};

const KEY: &str = "q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=";
const OLD_KEY: &str = "an-old-production-key-from-2024!!";
const UNKNOWN_KEY: &str = "a-key-nobody-configured-0123456789";

// ---------- databases ----------

trait Db: Send + Sync {
    fn store(&self) -> Box<dyn SettingsStore>;
    fn create_table(&self, table: &str);
    fn insert(&self, table: &str, key: &str, value: &str, encrypted: bool);
    /// An admin write through its own connection.
    fn set_value(&self, table: &str, key: &str, value: &str);
    fn rows(&self, table: &str) -> Vec<(String, String, bool)>;
    /// Runs SQL that returns nothing.
    fn execute(&self, sql: &str);
    /// The one integer that `sql` selects.
    fn count(&self, sql: &str) -> i64;
}

struct Sqlite {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Sqlite {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode=WAL;")
            .unwrap();
        Self { path, _dir: dir }
    }
    fn conn(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(&self.path).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
        c
    }
}

impl Db for Sqlite {
    fn store(&self) -> Box<dyn SettingsStore> {
        Box::new(sealkit_vault::migrate::sqlite::SqliteStore::open(&self.path).unwrap())
    }
    fn create_table(&self, table: &str) {
        self.conn()
            .execute_batch(&format!(
                "CREATE TABLE {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL, \
                 encrypted BOOLEAN NOT NULL DEFAULT FALSE, category TEXT NOT NULL DEFAULT 'general', \
                 updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            ))
            .unwrap();
    }
    fn insert(&self, table: &str, key: &str, value: &str, encrypted: bool) {
        self.conn()
            .execute(
                &format!("INSERT INTO {table} (key, value, encrypted) VALUES (?1, ?2, ?3)"),
                rusqlite::params![key, value, encrypted],
            )
            .unwrap();
    }
    fn set_value(&self, table: &str, key: &str, value: &str) {
        self.conn()
            .execute(
                &format!("UPDATE {table} SET value = ?1 WHERE key = ?2"),
                [value, key],
            )
            .unwrap();
    }
    fn rows(&self, table: &str) -> Vec<(String, String, bool)> {
        let c = self.conn();
        let mut stmt = c
            .prepare(&format!(
                "SELECT key, value, encrypted FROM {table} ORDER BY key"
            ))
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
    fn execute(&self, sql: &str) {
        self.conn().execute_batch(sql).unwrap();
    }
    fn count(&self, sql: &str) -> i64 {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

struct Postgres {
    url: String,
}

impl Postgres {
    fn new(test: &str) -> Option<Self> {
        match std::env::var("SEALKIT_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(Self { url }),
            _ => {
                assert!(
                    !sealkit_vectors::required_under_ci(),
                    "{test}: SEALKIT_TEST_POSTGRES_URL is not set; CI must run the PostgreSQL tests \
                     (source .ci/postgres.sh)"
                );
                println!("skipped {test} on PostgreSQL: SEALKIT_TEST_POSTGRES_URL is not set");
                None
            }
        }
    }
    /// The test server's CA when .ci/postgres.sh set one up (its URL then requires TLS).
    fn tls() -> PostgresTls {
        match std::env::var_os("SEALKIT_TEST_POSTGRES_CA") {
            Some(ca) => PostgresTls::with_root_certificates_file(Path::new(&ca)).unwrap(),
            None => PostgresTls::system_roots().unwrap(),
        }
    }
    fn client(&self) -> postgres::Client {
        Self::tls().connect(&self.url).unwrap()
    }
    /// Drops the tables a scenario created: every table whose name starts with `name`.
    fn drop_tables_named(&self, name: &str) {
        let mut client = self.client();
        let tables = client
            .query(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() \
                 AND starts_with(tablename, $1)",
                &[&name.to_lowercase()],
            )
            .unwrap();
        for table in &tables {
            let table: String = table.get(0);
            client
                .batch_execute(&format!("DROP TABLE \"{table}\""))
                .unwrap();
        }
    }
}

impl Db for Postgres {
    fn store(&self) -> Box<dyn SettingsStore> {
        Box::new(PostgresStore::connect_with(&self.url, &Self::tls()).unwrap())
    }
    fn create_table(&self, table: &str) {
        self.client()
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (key TEXT PRIMARY KEY, \
                 value TEXT NOT NULL, encrypted BOOLEAN NOT NULL DEFAULT FALSE, \
                 category TEXT NOT NULL DEFAULT 'general', updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW())"
            ))
            .unwrap();
    }
    fn insert(&self, table: &str, key: &str, value: &str, encrypted: bool) {
        self.client()
            .execute(
                &format!("INSERT INTO {table} (key, value, encrypted) VALUES ($1, $2, $3)"),
                &[&key, &value, &encrypted],
            )
            .unwrap();
    }
    fn set_value(&self, table: &str, key: &str, value: &str) {
        self.client()
            .execute(
                &format!("UPDATE {table} SET value = $1 WHERE key = $2"),
                &[&value, &key],
            )
            .unwrap();
    }
    fn rows(&self, table: &str) -> Vec<(String, String, bool)> {
        self.client()
            .query(
                &format!("SELECT key, value, encrypted FROM {table} ORDER BY key"),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }
    fn execute(&self, sql: &str) {
        self.client().batch_execute(sql).unwrap();
    }
    fn count(&self, sql: &str) -> i64 {
        self.client().query_one(sql, &[]).unwrap().get(0)
    }
}

/// Runs a scenario on SQLite, then on PostgreSQL when available.
fn on_each_db(test: &str, scenario: impl Fn(&dyn Db, &str)) {
    scenario(&Sqlite::new(), test);
    if let Some(pg) = Postgres::new(test) {
        let name = format!("{test}_{}", std::process::id());
        scenario(&pg, &name);
        // Left in place when the scenario fails, to look at.
        pg.drop_tables_named(&name);
    }
}

// ---------- values ----------

fn vault(key: &str) -> SettingsVault {
    SettingsVault::new(&EncryptionKey::new(key)).unwrap()
}

/// A realistic mix: legacy (both IVs) under the current key, legacy and v2 under the old key,
/// already-current v2. Returns `(key, plaintext)`.
fn seed_mixed(db: &dyn Db, table: &str, n: usize) -> Vec<(String, String)> {
    db.create_table(table);
    let old = vault(OLD_KEY);
    let current = vault(KEY);
    let mut expected = Vec::new();
    for i in 0..n {
        let key = format!("setting_{i:03}");
        let plain = format!("secret value {i} for {table}: https://x.example:8443/p");
        let value = match i % 5 {
            0 => legacy_encrypt(KEY, &plain, 12, i as u8),
            1 => legacy_encrypt(KEY, &plain, 16, i as u8),
            2 => legacy_encrypt(OLD_KEY, &plain, 12, i as u8),
            3 => old.encrypt(&plain).unwrap(),
            _ => current.encrypt(&plain).unwrap(),
        };
        db.insert(table, &key, &value, true);
        expected.push((key, plain));
    }
    // An unencrypted row is never touched.
    db.insert(table, "zz_plain_unencrypted", "a:b:c", false);
    expected
}

fn rotating_vault() -> SettingsVault {
    vault(KEY)
        .with_previous_key(&EncryptionKey::new(OLD_KEY))
        .unwrap()
}

fn run(db: &dyn Db, vault: &SettingsVault, tables: &[&str], batch: usize) -> MigrationReport {
    let mut store = db.store();
    Migrator::new(vault)
        .tables(tables)
        .unwrap()
        .batch_size(batch)
        .run(store.as_mut(), |_| ControlFlow::Continue(()))
        .unwrap()
}

/// Every encrypted row is `v2` and decrypts under the current key alone to its original plaintext.
fn assert_all_current(db: &dyn Db, table: &str, expected: &[(String, String)]) {
    let current_only = vault(KEY);
    let rows = db.rows(table);
    for (key, plain) in expected {
        let (_, value, encrypted) = rows.iter().find(|r| &r.0 == key).expect(key);
        assert!(*encrypted);
        assert!(value.starts_with("v2:"), "{key} not migrated");
        assert_eq!(
            current_only.decrypt(value).unwrap().as_str(),
            plain.as_str(),
            "{key}"
        );
    }
    let untouched = rows.iter().find(|r| r.0 == "zz_plain_unencrypted").unwrap();
    assert_eq!(untouched.1, "a:b:c");
}

// ---------- scenarios ----------

#[test]
fn migrates_legacy_and_rotates_old_key_then_is_idempotent() {
    on_each_db("migrate_mixed", |db, name| {
        let (a, b) = (format!("{name}_ciam"), format!("{name}_iam"));
        let ea = seed_mixed(db, &a, 23);
        let eb = seed_mixed(db, &b, 7);
        let v = rotating_vault();
        let report = run(db, &v, &[&a, &b], 5);
        let total = report.total();
        assert!(!report.interrupted && !report.dry_run);
        assert_eq!(total.processed, 30);
        assert_eq!(total.migrated, 30 - total.already_current);
        assert_eq!(total.already_current, 4 + 1);
        assert_eq!(total.failed, 0);
        assert_eq!(total.remaining_not_v2, Some(0));
        assert_all_current(db, &a, &ea);
        assert_all_current(db, &b, &eb);

        let again = run(db, &v, &[&a, &b], 5).total();
        assert_eq!(
            (again.processed, again.migrated, again.already_current),
            (30, 0, 30)
        );
        assert_eq!(again.remaining_not_v2, Some(0));
    });
}

#[test]
fn dry_run_writes_nothing() {
    on_each_db("migrate_dry_run", |db, name| {
        let table = format!("{name}_t");
        seed_mixed(db, &table, 10);
        let before = db.rows(&table);
        let mut store = db.store();
        let report = Migrator::new(&rotating_vault())
            .tables(&[&table])
            .unwrap()
            .dry_run(true)
            .run(store.as_mut(), |_| ControlFlow::Continue(()))
            .unwrap();
        assert!(report.dry_run);
        assert_eq!(report.total().migrated, 8);
        assert_eq!(db.rows(&table), before);
    });
}

#[test]
fn empty_plain_and_undecryptable_rows_are_reported_not_retried_forever() {
    on_each_db("migrate_odd_rows", |db, name| {
        let table = format!("{name}_t");
        let expected = seed_mixed(db, &table, 5);
        db.insert(&table, "empty_row", "", true);
        db.insert(&table, "plain_row", "http://localhost:3000", true);
        let foreign = vault(UNKNOWN_KEY).encrypt("nobody can read this").unwrap();
        db.insert(&table, "foreign_row", &foreign, true);
        db.insert(&table, "bad_v2_row", "v2:a:b", true);

        let report = run(db, &rotating_vault(), &[&table], 3);
        let t = &report.tables[0];
        assert_eq!(t.processed, 9);
        assert_eq!(t.empty, 1);
        assert_eq!(t.plain, 1);
        assert_eq!(t.failed, 2);
        assert!(report.has_failures());
        let mut failed: Vec<_> = t.failed_keys.clone();
        failed.sort();
        assert_eq!(
            failed,
            [
                ("bad_v2_row".to_owned(), "format"),
                ("foreign_row".to_owned(), "decrypt")
            ]
        );
        let mut unencrypted = t.unencrypted_keys.clone();
        unencrypted.sort();
        assert_eq!(unencrypted, ["empty_row", "plain_row"]);
        // The report never carries a value.
        let shown = format!("{report:?}");
        assert!(
            !shown.contains("localhost") && !shown.contains(&foreign[3..15]),
            "{shown}"
        );
        // Failed and unencrypted rows are left exactly as they were.
        let rows = db.rows(&table);
        let get = |k: &str| rows.iter().find(|r| r.0 == k).unwrap().1.clone();
        assert_eq!(get("foreign_row"), foreign);
        assert_eq!(get("bad_v2_row"), "v2:a:b");
        assert_eq!(get("plain_row"), "http://localhost:3000");
        assert_eq!(get("empty_row"), "");
        assert_all_current(db, &table, &expected);
        // Verification counts the rows not starting with `v2:`: the empty and the plain one. The
        // malformed `v2:a:b` starts with the prefix, so the reference's query passes it too; only
        // the failure count above shows it.
        assert_eq!(t.remaining_not_v2, Some(2));
    });
}

#[test]
fn unreadable_values_fail_by_key_stay_untouched_and_the_run_goes_on() {
    on_each_db("migrate_unreadable", |db, name| {
        let table = format!("{name}_t");
        // A hand-made schema whose value column takes NULL.
        db.execute(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (key TEXT PRIMARY KEY, value TEXT, \
             encrypted BOOLEAN NOT NULL DEFAULT FALSE, updated_at TIMESTAMP)"
        ));
        let current = vault(KEY);
        let mut expected = Vec::new();
        for i in 0..6 {
            let key = format!("setting_{i:03}");
            let plain = format!("secret {i}");
            let value = if i == 0 {
                current.encrypt(&plain).unwrap()
            } else {
                legacy_encrypt(OLD_KEY, &plain, 12, i as u8)
            };
            db.insert(&table, &key, &value, true);
            expected.push((key, plain));
        }
        db.insert(&table, "zz_plain_unencrypted", "a:b:c", false);
        // Each unreadable row, with a query that finds it exactly as it was stored.
        let mut unreadable = vec![(
            "u_null",
            format!("INSERT INTO {table} (key, value, encrypted) VALUES ('u_null', NULL, true)"),
            format!("SELECT COUNT(*) FROM {table} WHERE key = 'u_null' AND value IS NULL"),
        )];
        if db.store().backend() == "sqlite" {
            // SQLite also keeps binary and non-UTF-8 bytes in a TEXT column.
            unreadable.push((
                "u_binary",
                format!(
                    "INSERT INTO {table} (key, value, encrypted) VALUES ('u_binary', X'00ff', true)"
                ),
                format!(
                    "SELECT COUNT(*) FROM {table} WHERE key = 'u_binary' \
                     AND typeof(value) = 'blob' AND value = X'00ff'"
                ),
            ));
            unreadable.push((
                "u_not_utf8",
                format!(
                    "INSERT INTO {table} (key, value, encrypted) \
                     VALUES ('u_not_utf8', CAST(X'c328' AS TEXT), true)"
                ),
                format!(
                    "SELECT COUNT(*) FROM {table} WHERE key = 'u_not_utf8' \
                     AND value = CAST(X'c328' AS TEXT)"
                ),
            ));
        }
        for (_, insert, _) in &unreadable {
            db.execute(insert);
        }
        let n = unreadable.len() as u64;

        for pass in 0..2 {
            let t = run(db, &rotating_vault(), &[&table], 2).tables.remove(0);
            assert_eq!(t.processed, 6 + n, "pass {pass}");
            assert_eq!(t.migrated, if pass == 0 { 5 } else { 0 }, "pass {pass}");
            assert_eq!(t.failed, n, "pass {pass}");
            for (key, _, _) in &unreadable {
                assert!(
                    t.failed_keys
                        .iter()
                        .any(|(k, code)| k == key && *code == "unreadable_value"),
                    "{key}: {:?}",
                    t.failed_keys
                );
            }
            // The verification count sees them too (the reference's query misses NULL).
            assert_eq!(t.remaining_not_v2, Some(n), "pass {pass}");
            for (key, _, stored_as_was) in &unreadable {
                assert_eq!(db.count(stored_as_was), 1, "{key} was changed");
            }
        }
        // Without the unreadable rows (the only keys starting with `u`), the rest is migrated.
        db.execute(&format!("DELETE FROM {table} WHERE key LIKE 'u%'"));
        assert_all_current(db, &table, &expected);
    });
}

#[test]
fn a_null_key_row_fails_by_itself_and_the_legacy_row_beside_it_migrates() {
    on_each_db("migrate_null_key", |db, name| {
        let table = format!("{name}_t");
        // SQLite takes NULL even in a TEXT PRIMARY KEY; PostgreSQL only without the primary key.
        let key_column = if db.store().backend() == "sqlite" {
            "key TEXT PRIMARY KEY"
        } else {
            "key TEXT UNIQUE"
        };
        db.execute(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({key_column}, \
             value TEXT NOT NULL, encrypted BOOLEAN NOT NULL DEFAULT FALSE, updated_at TIMESTAMP)"
        ));
        db.insert(&table, "setting_a", &legacy_encrypt(KEY, "a", 12, 1), true);
        let orphan = legacy_encrypt(KEY, "orphan", 16, 2);
        db.execute(&format!(
            "INSERT INTO {table} (key, value, encrypted) VALUES (NULL, '{orphan}', TRUE)"
        ));
        for pass in 0..2 {
            let t = run(db, &vault(KEY), &[&table], 100).tables.remove(0);
            assert_eq!(t.processed, 2, "pass {pass}");
            assert_eq!(t.migrated, 1 - pass, "pass {pass}");
            assert_eq!(t.failed, 1, "pass {pass}");
            assert_eq!(
                t.failed_keys,
                [("NULL".to_owned(), "unreadable_key")],
                "pass {pass}"
            );
            assert_eq!(t.remaining_not_v2, Some(1), "pass {pass}");
        }
        assert_eq!(
            db.count(&format!(
                "SELECT COUNT(*) FROM {table} WHERE key IS NULL AND value = '{orphan}'"
            )),
            1,
            "the NULL-key row was changed"
        );
        assert_eq!(
            db.count(&format!(
                "SELECT COUNT(*) FROM {table} WHERE key = 'setting_a' AND value LIKE 'v2:%'"
            )),
            1
        );
    });
}

/// Without a unique key, two encrypted rows can share a key; paging by key would skip one of
/// them at a batch boundary (and report success). Such a table is refused before anything is
/// written, and so is a run naming a table that does not exist, even after tables that do.
#[test]
fn duplicate_keys_and_missing_tables_stop_the_run_before_any_write() {
    on_each_db("migrate_dup_keys", |db, name| {
        let (good, dup) = (format!("{name}_good"), format!("{name}_dup"));
        let expected = seed_mixed(db, &good, 6);
        db.execute(&format!(
            "DROP TABLE IF EXISTS {dup}; CREATE TABLE {dup} (key TEXT, value TEXT NOT NULL, \
             encrypted BOOLEAN NOT NULL DEFAULT FALSE, updated_at TIMESTAMP)"
        ));
        db.insert(&dup, "a", &legacy_encrypt(KEY, "first", 12, 1), true);
        db.insert(&dup, "b", &legacy_encrypt(KEY, "second", 12, 2), true);
        db.insert(&dup, "b", &legacy_encrypt(KEY, "third", 12, 3), true);
        // Not encrypted: the migration never touches it, so it is no obstacle.
        db.insert(&dup, "a", "plain", false);
        // Sorted whole: rows sharing a key come back in no fixed order.
        let snapshot = || {
            let (mut a, mut b) = (db.rows(&good), db.rows(&dup));
            a.sort();
            b.sort();
            (a, b)
        };
        let before = snapshot();
        let missing = format!("{name}_missing");
        for tables in [
            vec![good.as_str(), dup.as_str()],
            vec![good.as_str(), missing.as_str()],
        ] {
            let err = Migrator::new(&rotating_vault())
                .tables(&tables)
                .unwrap()
                .run(db.store().as_mut(), |_| ControlFlow::Continue(()))
                .unwrap_err();
            if tables[1] == dup {
                assert_eq!(err.code(), "duplicate_keys");
                assert!(err.to_string().contains("1 key(s)"), "{err}");
            } else {
                assert_eq!(err.code(), "store");
                match err {
                    VaultError::TableUnreadable { ref table, .. } => assert_eq!(*table, missing),
                    other => panic!("expected TableUnreadable, got {other:?}"),
                }
                assert!(
                    err.to_string()
                        .contains(&format!("error: cannot read table {missing}: ")),
                    "{err}"
                );
            }
            assert_eq!(snapshot(), before, "written before the error");
        }
        // With the duplicate gone, everything migrates.
        db.execute(&format!("DELETE FROM {dup} WHERE key = 'b'"));
        db.insert(&dup, "b", &legacy_encrypt(KEY, "second", 12, 2), true);
        let report = run(db, &rotating_vault(), &[&good, &dup], 1);
        assert_eq!(report.total().failed, 0);
        assert_eq!(report.total().remaining_not_v2, Some(0));
        assert_all_current(db, &good, &expected);
    });
}

/// A table lacking a column the migration reads or writes (`value`, `updated_at`) used to be found
/// only at its first batch, after the tables before it had been migrated. It is now found with the
/// other up-front checks, named, and nothing is written; a dry run finds it too.
#[test]
fn missing_columns_stop_the_run_before_any_write() {
    on_each_db("migrate_missing_columns", |db, name| {
        let good = format!("{name}_good");
        let expected = seed_mixed(db, &good, 6);
        for (missing, columns) in [
            (
                "updated_at",
                "key TEXT PRIMARY KEY, value TEXT, encrypted BOOLEAN",
            ),
            (
                "value",
                "key TEXT PRIMARY KEY, encrypted BOOLEAN, updated_at TIMESTAMP",
            ),
        ] {
            let bad = format!("{name}_no_{missing}");
            db.execute(&format!(
                "DROP TABLE IF EXISTS {bad}; CREATE TABLE {bad} ({columns}); \
                 INSERT INTO {bad} (key, encrypted) VALUES ('setting', TRUE)"
            ));
            let before = (
                db.rows(&good),
                db.count(&format!("SELECT COUNT(*) FROM {bad}")),
            );
            for dry_run in [false, true] {
                let err = Migrator::new(&rotating_vault())
                    .tables(&[&good, &bad])
                    .unwrap()
                    .dry_run(dry_run)
                    .run(db.store().as_mut(), |_| ControlFlow::Continue(()))
                    .unwrap_err();
                assert_eq!(err.code(), "store");
                match err {
                    VaultError::TableUnreadable {
                        ref table,
                        ref message,
                        ..
                    } => {
                        assert_eq!(*table, bad);
                        assert!(message.contains(missing), "{message}");
                    }
                    ref other => panic!("expected TableUnreadable, got {other:?}"),
                }
                assert_eq!(
                    (
                        db.rows(&good),
                        db.count(&format!("SELECT COUNT(*) FROM {bad}"))
                    ),
                    before,
                    "written before the error"
                );
            }
        }
        // The good table alone migrates.
        let report = run(db, &rotating_vault(), &[&good], 2);
        assert_eq!(report.total().failed, 0);
        assert_all_current(db, &good, &expected);
    });
}

/// Runs a migration of `table` through `store` and expects it refused as not writable, saying
/// `why`, with nothing written; then a dry run through a fresh `store`, which needs no write and
/// reads every row.
fn refused_as_not_writable_but_dry_runs(
    db: &dyn Db,
    table: &str,
    store: impl Fn() -> Box<dyn SettingsStore>,
    why: &str,
) {
    let before = db.rows(table);
    let err = Migrator::new(&rotating_vault())
        .tables(&[table])
        .unwrap()
        .run(store().as_mut(), |_| ControlFlow::Continue(()))
        .unwrap_err();
    assert_eq!(err.code(), "store");
    assert!(
        matches!(err, VaultError::TableNotWritable { table: ref t, .. } if t == table),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!("cannot write table {table}: ")) && text.contains(why),
        "{text}"
    );
    assert_eq!(db.rows(table), before, "written before the error");
    let report = Migrator::new(&rotating_vault())
        .tables(&[table])
        .unwrap()
        .dry_run(true)
        .run(store().as_mut(), |_| ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(report.total().failed, 0);
    assert_eq!(report.total().migrated, 5, "{report:?}");
    assert_eq!(db.rows(table), before);
}

/// A table the connection may read but not write stops a real run before anything is written,
/// with the database's reason; a dry run, which writes nothing, still reads it all. SQLite: a
/// read-only connection, `PRAGMA query_only`, a read-only attached database reached by an
/// unqualified name, a view. PostgreSQL: a read-only session (as on a standby), a view that cannot
/// be updated, a user without the `UPDATE` privilege at table level and then on one of the two
/// columns written. A user allowed exactly what the run needs (reading `key`, `value` and
/// `encrypted`, updating `value` and `updated_at`) migrates; schema-qualified names work.
#[test]
fn a_table_the_connection_cannot_write_stops_the_run_before_any_write() {
    let sqlite = Sqlite::new();
    let expected = seed_mixed(&sqlite, "t", 6);
    sqlite.execute("CREATE VIEW t_view AS SELECT * FROM t");
    let open = |flags: rusqlite::OpenFlags, setup: &str| -> Box<dyn SettingsStore> {
        let conn = rusqlite::Connection::open_with_flags(&sqlite.path, flags).unwrap();
        conn.execute_batch(setup).unwrap();
        Box::new(sealkit_vault::migrate::sqlite::SqliteStore::from_connection(conn).unwrap())
    };
    let read_only = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let read_write = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
        | rusqlite::OpenFlags::SQLITE_OPEN_URI
        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let readonly_database = "attempt to write a readonly database";
    refused_as_not_writable_but_dry_runs(&sqlite, "t", || open(read_only, ""), readonly_database);
    refused_as_not_writable_but_dry_runs(
        &sqlite,
        "main.t",
        || open(read_write, "PRAGMA query_only = ON"),
        readonly_database,
    );
    refused_as_not_writable_but_dry_runs(
        &sqlite,
        "t_view",
        || open(read_write, ""),
        "cannot modify t_view because it is a view",
    );
    // The settings table in a second file, attached read-only and named without its schema.
    let attached = sqlite.path.with_file_name("attached.db");
    rusqlite::Connection::open(&attached)
        .unwrap()
        .execute_batch("CREATE TABLE elsewhere (key TEXT PRIMARY KEY, value TEXT, encrypted BOOLEAN, updated_at TEXT)")
        .unwrap();
    let attach = format!("ATTACH 'file:{}?mode=ro' AS cfg", attached.display());
    let err = Migrator::new(&rotating_vault())
        .tables(&["elsewhere"])
        .unwrap()
        .run(open(read_write, &attach).as_mut(), |_| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
    assert!(err.to_string().contains(readonly_database), "{err}");
    run(&sqlite, &rotating_vault(), &["main.t"], 2);
    assert_all_current(&sqlite, "t", &expected);

    let test = "migrate_not_writable";
    let Some(pg) = Postgres::new(test) else {
        return;
    };
    let table = format!("{test}_{}", std::process::id());
    let expected = seed_mixed(&pg, &table, 6);
    let read_only_session = || -> Box<dyn SettingsStore> {
        let mut client = pg.client();
        client
            .batch_execute("SET default_transaction_read_only = on")
            .unwrap();
        Box::new(PostgresStore::from_client(client))
    };
    refused_as_not_writable_but_dry_runs(
        &pg,
        &table,
        read_only_session,
        "cannot execute UPDATE in a read-only transaction",
    );
    let store = || pg.store();
    let view = format!("{table}_view");
    pg.execute(&format!(
        "CREATE VIEW {view} AS SELECT DISTINCT * FROM {table}"
    ));
    refused_as_not_writable_but_dry_runs(&pg, &view, store, "cannot update view");
    // The owner gives up its own UPDATE privilege, then takes back one column, then the other.
    let denied = "permission denied for table";
    pg.execute(&format!("REVOKE UPDATE ON {table} FROM CURRENT_USER"));
    refused_as_not_writable_but_dry_runs(&pg, &table, store, denied);
    pg.execute(&format!("GRANT UPDATE (value) ON {table} TO CURRENT_USER"));
    refused_as_not_writable_but_dry_runs(&pg, &table, store, denied);
    pg.execute(&format!(
        "GRANT UPDATE (updated_at) ON {table} TO CURRENT_USER; \
         REVOKE SELECT ON {table} FROM CURRENT_USER; \
         GRANT SELECT (key, value, encrypted) ON {table} TO CURRENT_USER"
    ));
    let schema: String = pg
        .client()
        .query_one("SELECT current_schema()", &[])
        .unwrap()
        .get(0);
    run(&pg, &rotating_vault(), &[&format!("{schema}.{table}")], 2);
    pg.execute(&format!("GRANT SELECT ON {table} TO CURRENT_USER"));
    assert_all_current(&pg, &table, &expected);
    pg.execute(&format!("DROP VIEW {view}"));
    pg.drop_tables_named(&table);
}

/// A row the database will not let the migration write, although nobody changes it (SQLite: a
/// trigger that cancels updates; PostgreSQL: row-level security that lets the user read the rows
/// but update none), fails by key as `write_refused`, instead of being counted as changed by a
/// concurrent writer that does not exist.
#[test]
fn rows_the_database_refuses_to_update_fail_as_write_refused() {
    let check = |db: &dyn Db, table: &str| {
        let before = db.rows(table);
        let report = run(db, &rotating_vault(), &[table], 2);
        let t = &report.tables[0];
        assert_eq!((t.failed, t.concurrent, t.migrated), (5, 0, 0), "{t:?}");
        assert!(
            t.failed_keys.iter().all(|(_, code)| *code == WRITE_REFUSED),
            "{:?}",
            t.failed_keys
        );
        assert_eq!(db.rows(table), before);
    };
    let sqlite = Sqlite::new();
    seed_mixed(&sqlite, "t", 6);
    sqlite.execute("CREATE TRIGGER t_frozen BEFORE UPDATE ON t BEGIN SELECT RAISE(IGNORE); END");
    check(&sqlite, "t");

    let test = "migrate_write_refused";
    let Some(pg) = Postgres::new(test) else {
        return;
    };
    let table = format!("{test}_{}", std::process::id());
    seed_mixed(&pg, &table, 6);
    pg.execute(&format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; \
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY; \
         CREATE POLICY read_only ON {table} FOR SELECT USING (true)"
    ));
    check(&pg, &table);
    pg.drop_tables_named(&table);
}

/// SQLite keeps NULL, binary and non-UTF-8 keys in a TEXT PRIMARY KEY. They sort before, after
/// and among the readable keys; whatever the batch size, and however many of them follow one
/// another, the readable rows around them are all migrated and each unreadable one is reported
/// once per run.
/// In a UTF-16 database, rusqlite hands out keys converted to UTF-8; a key holding a lone
/// surrogate converts to bytes that are not UTF-8 and do not convert back to that key. Paging past
/// such keys must still end, and visit every row.
#[test]
fn unreadable_keys_in_a_utf16_database_neither_stall_nor_hide_rows() {
    for batch in [1, 2, 100] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("utf16.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA encoding = 'UTF-16le'; CREATE TABLE t (key TEXT PRIMARY KEY, value TEXT NOT \
             NULL, encrypted BOOLEAN NOT NULL DEFAULT FALSE, updated_at TEXT)",
        )
        .unwrap();
        // `a`, `a` + a lone surrogate, `aĀ`, `ÿ` + a lone surrogate (UTF-16LE bytes).
        let keys = ["X'6100'", "X'610000D8'", "X'61000001'", "X'FF0000D8'"];
        for (i, key) in keys.iter().enumerate() {
            let value = legacy_encrypt(KEY, &format!("secret {i}"), 12, i as u8);
            conn.execute(
                &format!(
                    "INSERT INTO t (key, value, encrypted) VALUES (CAST({key} AS TEXT), ?1, 1)"
                ),
                [&value],
            )
            .unwrap();
        }
        drop(conn);
        let mut store = sealkit_vault::migrate::sqlite::SqliteStore::open(&path).unwrap();
        let v = vault(KEY);
        let mut batches = 0;
        let report = Migrator::new(&v)
            .tables(&["t"])
            .unwrap()
            .batch_size(batch)
            .run(&mut store, |_| {
                batches += 1;
                if batches > 20 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert!(!report.interrupted, "batch {batch}: paging did not end");
        let t = report.total();
        assert_eq!(
            (t.processed, t.migrated, t.failed),
            (4, 2, 2),
            "batch {batch}"
        );
        assert_eq!(t.remaining_not_v2, Some(2));
        let listed: Vec<&str> = report.tables[0]
            .failed_keys
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(
            listed,
            ["CAST(X'610000D8' AS TEXT)", "CAST(X'FF0000D8' AS TEXT)"],
            "batch {batch}"
        );
        // Each listed expression finds its row, by hand.
        drop(store);
        let conn = rusqlite::Connection::open(&path).unwrap();
        for key in listed {
            let n: i64 = conn
                .query_row(
                    &format!("SELECT COUNT(*) FROM t WHERE key = {key}"),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 1, "{key}");
        }
    }
}

#[test]
fn unreadable_keys_anywhere_in_the_key_order_fail_and_paging_goes_on() {
    let setting = |i: usize| format!("setting_{i:03}");
    // 'setting_003' followed by a byte that is not UTF-8: sorts between setting_003 and _004.
    let after_3 = |tail: &str| {
        format!(
            "CAST(X'{}{tail}' AS TEXT)",
            hex::encode_upper("setting_003")
        )
    };
    let unreadable: Vec<String> = vec![
        "NULL".to_owned(),
        "X'00FF'".to_owned(),
        after_3("FF"),
        after_3("FF01"),
        after_3("FF02"),
        after_3("FF03"),
        after_3("FE"),
        "CAST(X'FF' AS TEXT)".to_owned(),
    ];
    let n = unreadable.len() as u64;
    for batch in [1, 2, 3, 4, 5, 7, 100] {
        let db = Sqlite::new();
        db.create_table("t");
        let mut expected = Vec::new();
        for i in 0..10 {
            let plain = format!("secret {i}");
            db.insert(
                "t",
                &setting(i),
                &legacy_encrypt(KEY, &plain, 12 + 4 * (i % 2), i as u8),
                true,
            );
            expected.push((setting(i), plain));
        }
        for (i, key) in unreadable.iter().enumerate() {
            let value = legacy_encrypt(KEY, "unreachable", 12, 100 + i as u8);
            db.execute(&format!(
                "INSERT INTO t (key, value, encrypted) VALUES ({key}, '{value}', 1)"
            ));
        }
        for pass in 0..2 {
            let t = run(&db, &vault(KEY), &["t"], batch).tables.remove(0);
            let context = format!("batch {batch} pass {pass}: {t:?}");
            assert_eq!(t.processed, 10 + n, "{context}");
            assert_eq!(t.migrated, if pass == 0 { 10 } else { 0 }, "{context}");
            assert_eq!(
                t.already_current,
                if pass == 0 { 0 } else { 10 },
                "{context}"
            );
            assert_eq!(t.failed, n, "{context}");
            let mut listed = t.failed_keys.clone();
            listed.sort();
            let mut want: Vec<_> = unreadable
                .iter()
                .map(|k| (k.clone(), "unreadable_key"))
                .collect();
            want.sort();
            assert_eq!(listed, want, "{context}");
            assert_eq!(t.remaining_not_v2, Some(n), "{context}");
        }
        let conn = db.conn();
        let current = vault(KEY);
        for (key, plain) in &expected {
            let value: String = conn
                .query_row("SELECT value FROM t WHERE key = ?1", [key], |r| r.get(0))
                .unwrap();
            assert_eq!(current.decrypt(&value).unwrap().as_str(), plain, "{key}");
        }
        for key in &unreadable {
            let untouched: i64 = conn
                .query_row(
                    &format!("SELECT COUNT(*) FROM t WHERE key IS {key} AND value NOT LIKE 'v2:%'"),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(
                untouched, 1,
                "{key} changed or not found by its listed expression"
            );
        }
    }
}

#[test]
fn stopped_midway_and_rerun_ends_correct() {
    on_each_db("migrate_resume", |db, name| {
        let (a, b) = (format!("{name}_a"), format!("{name}_b"));
        let ea = seed_mixed(db, &a, 17);
        let eb = seed_mixed(db, &b, 9);
        let v = rotating_vault();
        // Stop after 2 batches of 4 via the option, and once more through the progress callback.
        let mut store = db.store();
        let first = Migrator::new(&v)
            .tables(&[&a, &b])
            .unwrap()
            .batch_size(4)
            .stop_after_batches(Some(2))
            .run(store.as_mut(), |_| ControlFlow::Continue(()))
            .unwrap();
        assert!(first.interrupted);
        assert_eq!(first.total().processed, 8);
        let mut calls = 0;
        let second = Migrator::new(&v)
            .tables(&[&a, &b])
            .unwrap()
            .batch_size(4)
            .run(store.as_mut(), |_| {
                calls += 1;
                if calls == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert!(second.interrupted);
        drop(store);
        let last = run(db, &v, &[&a, &b], 4);
        assert!(!last.interrupted);
        assert_eq!(last.total().remaining_not_v2, Some(0));
        assert_eq!(last.total().processed, 26);
        assert_all_current(db, &a, &ea);
        assert_all_current(db, &b, &eb);
    });
}

#[test]
fn bounded_reruns_each_get_further_until_done() {
    on_each_db("migrate_bounded", |db, name| {
        // Ten rows, eight to rewrite (legacy, and v2 under the previous key), two already current.
        let expected = seed_mixed(db, name, 10);
        let v = rotating_vault();
        let mut runs = 0;
        loop {
            runs += 1;
            assert!(
                runs <= 9,
                "each bounded rerun must get further than the last"
            );
            let mut store = db.store();
            let report = Migrator::new(&v)
                .tables(&[name])
                .unwrap()
                .batch_size(1)
                .stop_after_batches(Some(1))
                .run(store.as_mut(), |_| ControlFlow::Continue(()))
                .unwrap();
            if !report.interrupted {
                assert_eq!(report.total().remaining_not_v2, Some(0));
                break;
            }
            assert_eq!(report.total().migrated, 1, "run {runs}");
        }
        assert_eq!(
            runs, 9,
            "eight bounded runs, one per row to rewrite, then one that finishes"
        );
        assert_all_current(db, name, &expected);
    });
}

/// A row that fails only on the compare-and-swap retry (a concurrent writer stored something no
/// key decrypts) is listed like any other failure: within the report's cap of 100 keys.
#[test]
fn failures_found_on_a_swap_retry_are_listed_within_the_cap() {
    let db = Sqlite::new();
    db.create_table("t");
    let old = vault(OLD_KEY);
    for i in 0..120 {
        let value = old.encrypt(&format!("secret {i}")).unwrap();
        db.insert("t", &format!("setting_{i:03}"), &value, true);
    }
    // Between the read and the swap, every row is overwritten with a malformed `v2:` value.
    let mut store = SwapHook {
        inner: db.store(),
        swap: Box::new(|inner, t, u| {
            db.execute("UPDATE t SET value = 'v2:a:b'");
            inner.compare_and_swap(t, u)
        }),
    };
    let report = Migrator::new(&rotating_vault())
        .tables(&["t"])
        .unwrap()
        .batch_size(200)
        .run(&mut store, |_| ControlFlow::Continue(()))
        .unwrap();
    let t = &report.tables[0];
    assert_eq!((t.processed, t.migrated, t.concurrent), (120, 0, 0));
    assert_eq!(t.failed, 120, "the count stays complete");
    assert_eq!(t.failed_keys.len(), 100, "the list is capped");
    assert!(t.failed_keys.iter().all(|(_, code)| *code == "format"));
}

/// The answers of the wrapped store's compare-and-swap.
type SwapResult = Result<Vec<bool>, VaultError>;
/// What a [`SwapHook`] does for each compare-and-swap, given the wrapped store.
type SwapFn<'a> = dyn FnMut(&mut dyn SettingsStore, &TableName, &[CasUpdate]) -> SwapResult + 'a;

/// A store that passes everything through, except that each compare-and-swap goes through `swap`
/// (given the wrapped store): to let an "admin" write in between, or to answer wrongly.
struct SwapHook<'a> {
    inner: Box<dyn SettingsStore>,
    swap: Box<SwapFn<'a>>,
}

impl SettingsStore for SwapHook<'_> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn check_table(&mut self, t: &TableName, write: bool) -> Result<(), VaultError> {
        self.inner.check_table(t, write)
    }
    fn count_encrypted(&mut self, t: &TableName) -> Result<u64, VaultError> {
        self.inner.count_encrypted(t)
    }
    fn fetch_encrypted(
        &mut self,
        t: &TableName,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredRow>, VaultError> {
        self.inner.fetch_encrypted(t, after, limit)
    }
    fn fetch_one(&mut self, t: &TableName, key: &str) -> Result<Option<StoredRow>, VaultError> {
        self.inner.fetch_one(t, key)
    }
    fn compare_and_swap(&mut self, t: &TableName, u: &[CasUpdate]) -> SwapResult {
        (self.swap)(self.inner.as_mut(), t, u)
    }
    fn unreadable_keys(
        &mut self,
        t: &TableName,
        list: usize,
    ) -> Result<UnreadableKeys, VaultError> {
        self.inner.unreadable_keys(t, list)
    }
    fn duplicate_keys(&mut self, t: &TableName) -> Result<u64, VaultError> {
        self.inner.duplicate_keys(t)
    }
    fn count_not_v2(&mut self, t: &TableName) -> Result<u64, VaultError> {
        self.inner.count_not_v2(t)
    }
}

#[test]
fn a_store_that_answers_short_stops_the_run_with_a_store_error() {
    let db = Sqlite::new();
    seed_mixed(&db, "t", 5);
    // Answers for one row fewer than it was given.
    let mut store = SwapHook {
        inner: db.store(),
        swap: Box::new(|inner, t, u| {
            let mut answers = inner.compare_and_swap(t, u)?;
            answers.pop();
            Ok(answers)
        }),
    };
    let err = Migrator::new(&rotating_vault())
        .tables(&["t"])
        .unwrap()
        .run(&mut store, |_| ControlFlow::Continue(()))
        .unwrap_err();
    // A failure after the tables were read is a plain store error, not one about the table.
    assert!(matches!(err, VaultError::Store { .. }), "{err:?}");
    assert!(err.to_string().contains("answered 3 of 4 updates"), "{err}");
}

#[test]
fn concurrent_admin_write_between_read_and_swap_is_never_overwritten() {
    on_each_db("migrate_cas", |db, name| {
        let table = format!("{name}_t");
        let mut expected = seed_mixed(db, &table, 10);
        let current = vault(KEY);
        // setting_000 gets a new value from an up-to-date admin (v2, current key);
        // setting_001 from an old SDK still writing legacy values; setting_002 is switched to
        // unencrypted by the admin.
        let admin_v2 = current.encrypt("admin wrote this").unwrap();
        let admin_legacy = legacy_encrypt(KEY, "old sdk wrote this", 12, 99);
        // The admin writes once, between the migration's read and its first compare-and-swap.
        let mut admin_wrote = false;
        let mut store = SwapHook {
            inner: db.store(),
            swap: Box::new(|inner, t, u| {
                if !std::mem::replace(&mut admin_wrote, true) {
                    db.set_value(&table, "setting_000", &admin_v2);
                    db.set_value(&table, "setting_001", &admin_legacy);
                    db.set_value(&table, "setting_002", "now plain");
                }
                inner.compare_and_swap(t, u)
            }),
        };
        let report = Migrator::new(&rotating_vault())
            .tables(&[&table])
            .unwrap()
            .batch_size(100)
            .run(&mut store, |_| ControlFlow::Continue(()))
            .unwrap();
        let t = &report.tables[0];
        assert_eq!(t.failed, 0);
        // 000: kept the admin's value; 002: plain now (left alone) → both concurrent.
        // 001: re-read and migrated from the admin's legacy value.
        assert_eq!(t.concurrent, 2, "{t:?}");
        expected[0].1 = "admin wrote this".to_owned();
        expected[1].1 = "old sdk wrote this".to_owned();
        let rows = db.rows(&table);
        assert_eq!(
            rows.iter().find(|r| r.0 == "setting_000").unwrap().1,
            admin_v2
        );
        assert_eq!(
            rows.iter().find(|r| r.0 == "setting_002").unwrap().1,
            "now plain"
        );
        expected.remove(2);
        assert_all_current(db, &table, &expected);
    });
}

#[test]
fn concurrent_writer_thread_loses_nothing() {
    on_each_db("migrate_concurrent", |db, name| {
        let table = format!("{name}_t");
        let expected = seed_mixed(db, &table, 60);
        let hot: Vec<String> = (0..60)
            .step_by(3)
            .map(|i| format!("setting_{i:03}"))
            .collect();
        let done = AtomicBool::new(false);
        let start = Arc::new(Barrier::new(2));
        let last_written = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let current = vault(KEY);
                let mut last = std::collections::HashMap::new();
                start.wait();
                let mut round = 0;
                while !done.load(Ordering::SeqCst) || round < 3 {
                    for key in &hot {
                        let plain = format!("admin round {round} for {key}");
                        // Half the admin writes come from an old SDK (legacy format).
                        let value = if round % 2 == 0 {
                            current.encrypt(&plain).unwrap()
                        } else {
                            legacy_encrypt(KEY, &plain, 16, round as u8)
                        };
                        db.set_value(&table, key, &value);
                        last.insert(key.clone(), plain);
                    }
                    round += 1;
                }
                last
            });
            start.wait();
            let report = run(db, &rotating_vault(), &[&table], 2);
            done.store(true, Ordering::SeqCst);
            assert_eq!(report.total().failed, 0);
            writer.join().unwrap()
        });
        // Whatever the admin wrote last is what the row holds (possibly rewrapped); the rows it
        // never touched hold their original plaintext.
        let either = rotating_vault();
        let rows = db.rows(&table);
        for (key, plain) in &expected {
            let value = &rows.iter().find(|r| &r.0 == key).unwrap().1;
            let want = last_written.get(key).unwrap_or(plain);
            assert_eq!(
                either.decrypt(value).unwrap().as_str(),
                want.as_str(),
                "{key}"
            );
        }
        // A final pass leaves everything current.
        let fin = run(db, &rotating_vault(), &[&table], 50);
        assert_eq!(fin.total().remaining_not_v2, Some(0));
    });
}
