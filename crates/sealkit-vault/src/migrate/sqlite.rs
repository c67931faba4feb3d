//! [`SettingsStore`] on an SQLite file: the embedded default.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, TransactionBehavior, params};

use super::store::{CasUpdate, SettingsStore, StoredRow, StoredValue, TableName, UnreadableKeys};
use crate::error::VaultError;

/// An SQLite settings database.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

fn store_err(e: rusqlite::Error) -> VaultError {
    VaultError::Store {
        backend: "sqlite",
        message: e.to_string(),
    }
}

/// Whether the write probe's error says the table cannot be written: read-only (file, connection,
/// attached database, `query_only`), refused by an authorizer, or SQLite's plain error, which
/// here (a statement of ours, on a table that was just read) is a view.
fn refuses_writing(e: &rusqlite::Error) -> bool {
    let code = match e {
        rusqlite::Error::SqliteFailure(error, _) | rusqlite::Error::SqlInputError { error, .. } => {
            error.code
        }
        _ => return false,
    };
    matches!(
        code,
        rusqlite::ErrorCode::ReadOnly
            | rusqlite::ErrorCode::PermissionDenied
            | rusqlite::ErrorCode::AuthorizationForStatementDenied
            | rusqlite::ErrorCode::Unknown
    )
}

/// The single `COUNT(*)` that `sql` selects.
fn count(conn: &Connection, sql: &str) -> Result<u64, VaultError> {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0)).map_err(store_err)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The value column of a row. A value that is not UTF-8 text becomes
/// [`StoredValue::Unreadable`], one failed row, instead of an error that would stop the run.
fn stored_value(value: ValueRef<'_>) -> StoredValue {
    match value {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map_or(StoredValue::Unreadable, |text| {
                StoredValue::Text(text.to_owned())
            }),
        ValueRef::Null | ValueRef::Integer(_) | ValueRef::Real(_) | ValueRef::Blob(_) => {
            StoredValue::Unreadable
        }
    }
}

/// The key column of a row, when it is UTF-8 text. SQLite keeps `NULL`, numbers, binary and
/// non-UTF-8 bytes even in a `TEXT PRIMARY KEY`; reading such a key as a `String` would be an
/// error that stops the whole run, every run.
fn readable_key(key: ValueRef<'_>) -> Option<&str> {
    match key {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok(),
        ValueRef::Null | ValueRef::Integer(_) | ValueRef::Real(_) | ValueRef::Blob(_) => None,
    }
}

/// Longest key shown in full in a report; past it the hex is cut (with `…`), so one absurd binary
/// key cannot swell the report.
const MAX_SHOWN_KEY_BYTES: usize = 64;

/// An SQL expression for a key that is not readable text, to find the row by hand:
/// `NULL`, `42`, `X'00FF'`, `CAST(X'C328' AS TEXT)`. `stored` is the key as `CAST(key AS BLOB)`
/// gives it: for text, its bytes in the database's own encoding, which is what the cast back reads.
fn key_expression(key: ValueRef<'_>, stored: Option<&[u8]>) -> String {
    let hex = |bytes: &[u8]| {
        let mut out: String = bytes
            .iter()
            .take(MAX_SHOWN_KEY_BYTES)
            .map(|b| format!("{b:02X}"))
            .collect();
        if bytes.len() > MAX_SHOWN_KEY_BYTES {
            out.push('…');
        }
        out
    };
    match key {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => format!("{f:?}"),
        ValueRef::Blob(bytes) => format!("X'{}'", hex(bytes)),
        ValueRef::Text(bytes) => format!("CAST(X'{}' AS TEXT)", hex(stored.unwrap_or(bytes))),
    }
}

impl SqliteStore {
    /// Opens an existing database file (it is never created: a typo in the path must not look
    /// like an empty, fully migrated database).
    ///
    /// # Errors
    /// [`VaultError::Store`].
    pub fn open(path: &Path) -> Result<Self, VaultError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        // An empty path would open a private temporary database and "migrate" nothing.
        if path.as_os_str().is_empty() {
            return Err(VaultError::DatabaseUrl);
        }
        // SQLite's message names the path, which may be a mistyped URL holding a password: only
        // the error code is kept.
        let conn = Connection::open_with_flags(path, flags).map_err(|e| VaultError::Store {
            backend: "sqlite",
            message: match e {
                rusqlite::Error::SqliteFailure(code, _) => {
                    format!("cannot open the database file ({code}); it must exist and be writable")
                }
                _ => "cannot open the database file".to_owned(),
            },
        })?;
        Self::from_connection(conn)
    }

    /// Wraps an open connection (waits up to 30 s for other writers' locks).
    ///
    /// # Errors
    /// [`VaultError::Store`].
    pub fn from_connection(conn: Connection) -> Result<Self, VaultError> {
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(store_err)?;
        Ok(Self { conn })
    }
}

impl SettingsStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn check_table(&mut self, table: &TableName, write: bool) -> Result<(), VaultError> {
        // Preparing resolves every name, so a missing table or column fails here, reading nothing.
        let sql = format!(
            "SELECT key, value, encrypted, updated_at FROM {} LIMIT 0",
            table.quoted()
        );
        self.conn.prepare(&sql).map_err(store_err)?;
        if !write {
            return Ok(());
        }
        // The migration's own update, matching no row, in a transaction that is rolled back. It
        // fails as the real one would: on a view, in a database open read-only (a write-protected
        // file, a read-only connection or attached database, `PRAGMA query_only`). SQLite's
        // triggers run per row, so nothing runs.
        let probe = format!(
            "UPDATE {} SET value = value, updated_at = CURRENT_TIMESTAMP WHERE 0",
            table.quoted()
        );
        let tx = self.conn.transaction().map_err(store_err)?;
        tx.execute(&probe, []).map_err(|e| {
            if refuses_writing(&e) {
                VaultError::TableNotWritable {
                    table: table.as_str().to_owned(),
                    backend: "sqlite",
                    message: e.to_string(),
                }
            } else {
                // Busy past the timeout, I/O, …: a database failure, not an answer about the table.
                store_err(e)
            }
        })?;
        tx.rollback().map_err(store_err)
    }

    fn count_encrypted(&mut self, table: &TableName) -> Result<u64, VaultError> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE encrypted = 1",
            table.quoted()
        );
        count(&self.conn, &sql)
    }

    fn fetch_encrypted(
        &mut self,
        table: &TableName,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredRow>, VaultError> {
        // Only text keys: `NULL` and numbers sort before text, blobs after it. A text key that is
        // not UTF-8 is only found in Rust, so it is skipped there, and the query repeats from the
        // last key it scanned until `limit` rows are found or the table ends: an empty batch must
        // mean the end, never a run of unreadable keys. That scan position may be such a key, so
        // it is kept as the key's bytes in the database's own encoding (`CAST(key AS BLOB)`) and
        // cast back to text, which gives exactly that key again in a UTF-8 or UTF-16 database
        // alike; the bytes rusqlite hands out are converted to UTF-8 and would not.
        let sql = format!(
            "SELECT key, value, CAST(key AS BLOB) FROM {} WHERE encrypted = 1 \
             AND typeof(key) = 'text' AND (?1 IS NULL OR key > CAST(?1 AS TEXT)) \
             ORDER BY key LIMIT ?2",
            table.quoted()
        );
        let mut position: Option<Value> = after.map(|a| Value::Text(a.to_owned()));
        let mut rows = Vec::new();
        let mut stmt = self.conn.prepare_cached(&sql).map_err(store_err)?;
        while rows.len() < limit {
            let want = limit - rows.len();
            let mut scanned = 0usize;
            let mut result = stmt
                .query(params![position, i64::try_from(want).unwrap_or(i64::MAX)])
                .map_err(store_err)?;
            while let Some(r) = result.next().map_err(store_err)? {
                scanned += 1;
                let key = r.get_ref(0).map_err(store_err)?;
                match readable_key(key) {
                    Some(text) => {
                        position = Some(Value::Text(text.to_owned()));
                        rows.push(StoredRow {
                            key: text.to_owned(),
                            value: stored_value(r.get_ref(1).map_err(store_err)?),
                        });
                    }
                    None => {
                        let stored: Vec<u8> = r.get(2).map_err(store_err)?;
                        position = Some(Value::Blob(stored));
                    }
                }
            }
            if scanned < want {
                break; // the end of the table
            }
        }
        Ok(rows)
    }

    fn fetch_one(&mut self, table: &TableName, key: &str) -> Result<Option<StoredRow>, VaultError> {
        let sql = format!(
            "SELECT value FROM {} WHERE key = ?1 AND encrypted = 1",
            table.quoted()
        );
        self.conn
            .query_row(&sql, [key], |r| {
                Ok(StoredRow {
                    key: key.to_owned(),
                    value: stored_value(r.get_ref(0)?),
                })
            })
            .optional()
            .map_err(store_err)
    }

    fn duplicate_keys(&mut self, table: &TableName) -> Result<u64, VaultError> {
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT key FROM {} WHERE encrypted = 1 \
             AND typeof(key) = 'text' GROUP BY key HAVING COUNT(*) > 1)",
            table.quoted()
        );
        count(&self.conn, &sql)
    }

    fn unreadable_keys(
        &mut self,
        table: &TableName,
        list: usize,
    ) -> Result<UnreadableKeys, VaultError> {
        // Whether text is UTF-8 cannot be asked in SQL, so every key is looked at once per run.
        let sql = format!(
            "SELECT key, CAST(key AS BLOB) FROM {} WHERE encrypted = 1",
            table.quoted()
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(store_err)?;
        let mut result = stmt.query([]).map_err(store_err)?;
        let mut found = UnreadableKeys::default();
        while let Some(r) = result.next().map_err(store_err)? {
            let key = r.get_ref(0).map_err(store_err)?;
            if readable_key(key).is_none() {
                found.count += 1;
                if found.listed.len() < list {
                    let stored = r.get_ref(1).map_err(store_err)?;
                    found
                        .listed
                        .push(key_expression(key, stored.as_blob().ok()));
                }
            }
        }
        Ok(found)
    }

    fn compare_and_swap(
        &mut self,
        table: &TableName,
        updates: &[CasUpdate],
    ) -> Result<Vec<bool>, VaultError> {
        let sql = format!(
            "UPDATE {} SET value = ?1, updated_at = CURRENT_TIMESTAMP \
             WHERE key = ?2 AND value = ?3 AND encrypted = 1",
            table.quoted()
        );
        // IMMEDIATE takes the write lock up front, so a concurrent writer waits instead of
        // deadlocking on a read-to-write upgrade.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(store_err)?;
        let mut matched = Vec::with_capacity(updates.len());
        {
            let mut stmt = tx.prepare_cached(&sql).map_err(store_err)?;
            for u in updates {
                let n = stmt
                    .execute(params![u.new, u.key, u.old])
                    .map_err(store_err)?;
                matched.push(n == 1);
            }
        }
        tx.commit().map_err(store_err)?;
        Ok(matched)
    }

    fn count_not_v2(&mut self, table: &TableName) -> Result<u64, VaultError> {
        // SQLite's LIKE ignores ASCII case (`V2:` would count as migrated): compare the prefix.
        // A BLOB never equals text, so binary values count too.
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE encrypted = 1 \
             AND (value IS NULL OR substr(value, 1, 3) <> 'v2:')",
            table.quoted()
        );
        count(&self.conn, &sql)
    }
}
