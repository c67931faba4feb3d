//! [`SettingsStore`] on a PostgreSQL server (synchronous client).

use postgres::{Client, NoTls};

use super::store::{CasUpdate, SettingsStore, StoredRow, StoredValue, TableName};
use crate::error::VaultError;

/// A PostgreSQL settings database.
pub struct PostgresStore {
    client: Client,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold a password: never shown.
        f.write_str("PostgresStore")
    }
}

fn store_err(e: postgres::Error) -> VaultError {
    VaultError::Store {
        backend: "postgres",
        message: e.to_string(),
    }
}

impl PostgresStore {
    /// Connects with a `postgres://` URL. TLS is not negotiated: use it on loopback, a private
    /// network or through a TLS-terminating proxy.
    ///
    /// # Errors
    /// [`VaultError::Store`].
    pub fn connect(url: &str) -> Result<Self, VaultError> {
        Client::connect(url, NoTls)
            .map(Self::from_client)
            .map_err(store_err)
    }

    /// Wraps a connected client.
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }
}

fn count(client: &mut Client, sql: &str) -> Result<u64, VaultError> {
    let n: i64 = client.query_one(sql, &[]).map_err(store_err)?.get(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A row of `SELECT key, value`. A `NULL` value becomes [`StoredValue::Unreadable`], one failed
/// row; a column that is not text at all is a schema the migration does not know, so the run
/// stops with a store error (`Row::get` would panic on either).
fn stored_row(r: &postgres::Row) -> Result<StoredRow, VaultError> {
    Ok(StoredRow {
        key: r.try_get(0).map_err(store_err)?,
        value: r
            .try_get::<_, Option<String>>(1)
            .map_err(store_err)?
            .map_or(StoredValue::Unreadable, StoredValue::Text),
    })
}

impl SettingsStore for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn count_encrypted(&mut self, table: &TableName) -> Result<u64, VaultError> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE encrypted = true",
            table.quoted()
        );
        count(&mut self.client, &sql)
    }

    fn fetch_encrypted(
        &mut self,
        table: &TableName,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredRow>, VaultError> {
        let sql = format!(
            "SELECT key, value FROM {} WHERE encrypted = true AND ($1::text IS NULL OR key > $1) \
             ORDER BY key LIMIT $2",
            table.quoted()
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client
            .query(&sql, &[&after, &limit])
            .map_err(store_err)?;
        rows.iter().map(stored_row).collect()
    }

    fn fetch_one(&mut self, table: &TableName, key: &str) -> Result<Option<StoredRow>, VaultError> {
        let sql = format!(
            "SELECT key, value FROM {} WHERE key = $1 AND encrypted = true",
            table.quoted()
        );
        let row = self.client.query_opt(&sql, &[&key]).map_err(store_err)?;
        row.as_ref().map(stored_row).transpose()
    }

    fn compare_and_swap(
        &mut self,
        table: &TableName,
        updates: &[CasUpdate],
    ) -> Result<Vec<bool>, VaultError> {
        let sql = format!(
            "UPDATE {} SET value = $1, updated_at = NOW() \
             WHERE key = $2 AND value = $3 AND encrypted = true",
            table.quoted()
        );
        let mut tx = self.client.transaction().map_err(store_err)?;
        let stmt = tx.prepare(&sql).map_err(store_err)?;
        let mut matched = Vec::with_capacity(updates.len());
        for u in updates {
            let n = tx
                .execute(&stmt, &[&u.new, &u.key, &u.old])
                .map_err(store_err)?;
            matched.push(n == 1);
        }
        tx.commit().map_err(store_err)?;
        Ok(matched)
    }

    fn count_not_v2(&mut self, table: &TableName) -> Result<u64, VaultError> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE encrypted = true \
             AND (value IS NULL OR value NOT LIKE 'v2:%')",
            table.quoted()
        );
        count(&mut self.client, &sql)
    }
}
