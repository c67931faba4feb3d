//! [`SettingsStore`] on an SQLite file: the embedded default.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, TransactionBehavior, params};

use super::store::{CasUpdate, SettingsStore, StoredRow, StoredValue, TableName};
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

/// The single `COUNT(*)` that `sql` selects.
fn count(conn: &Connection, sql: &str) -> Result<u64, VaultError> {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0)).map_err(store_err)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A row of `SELECT key, value`. A value that is not UTF-8 text becomes
/// [`StoredValue::Unreadable`], one failed row, instead of an error that would stop the run.
fn stored_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
    let value = match r.get_ref(1)? {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map_or(StoredValue::Unreadable, |text| {
                StoredValue::Text(text.to_owned())
            }),
        ValueRef::Null | ValueRef::Integer(_) | ValueRef::Real(_) | ValueRef::Blob(_) => {
            StoredValue::Unreadable
        }
    };
    Ok(StoredRow {
        key: r.get(0)?,
        value,
    })
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
        let conn = Connection::open_with_flags(path, flags).map_err(store_err)?;
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
        let sql = format!(
            "SELECT key, value FROM {} WHERE encrypted = 1 AND (?1 IS NULL OR key > ?1) \
             ORDER BY key LIMIT ?2",
            table.quoted()
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(store_err)?;
        let rows = stmt
            .query_map(params![after, limit], stored_row)
            .map_err(store_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(store_err)
    }

    fn fetch_one(&mut self, table: &TableName, key: &str) -> Result<Option<StoredRow>, VaultError> {
        let sql = format!(
            "SELECT key, value FROM {} WHERE key = ?1 AND encrypted = 1",
            table.quoted()
        );
        self.conn
            .query_row(&sql, [key], stored_row)
            .optional()
            .map_err(store_err)
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
