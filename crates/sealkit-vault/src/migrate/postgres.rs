//! [`SettingsStore`] on a PostgreSQL server (synchronous client).
//!
//! TLS goes through the system OpenSSL, as `psql`'s does. Whenever a connection uses TLS, the
//! server's certificate chain and host name (or IP address) are checked, against the system's
//! trust store plus any CA certificates the caller adds; there is no mode that skips the check.
//! Whether TLS is used follows the URL's `sslmode`, with libpq's meanings: `disable`, `prefer`
//! (the default: TLS when the server offers it) or `require` (use this beyond a trusted network:
//! under `prefer` an attacker on the path can answer "no TLS here").

use std::path::Path;

use openssl::ssl::{SslConnector, SslMethod, SslVersion};
use openssl::x509::X509;
use postgres::Client;
use postgres_openssl::MakeTlsConnector;

use super::store::{CasUpdate, SettingsStore, StoredRow, StoredValue, TableName, UnreadableKeys};
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
    store_message(error_text(&e))
}

/// The client's error with its cause: its own text stops at its layer ("error performing TLS
/// handshake", "db error"), while the reason (a certificate that did not verify, a missing table)
/// is in what it wraps.
fn error_text(e: &postgres::Error) -> String {
    let mut message = e.to_string();
    if let Some(db) = e.as_db_error() {
        // The server's words, but never its DETAIL line, which can quote a row's values.
        message = format!(
            "{message}: {} {}: {}",
            db.severity(),
            db.code().code(),
            db.message()
        );
    } else {
        let mut cause = std::error::Error::source(&e);
        while let Some(inner) = cause {
            // OpenSSL's layers each repeat the one below: keep what is new.
            let text = inner.to_string();
            if !message.contains(&text) {
                message = format!("{message}: {text}");
            }
            cause = inner.source();
        }
    }
    message
}

/// Which server a connection was for: the client's own error ("Connection refused", "password
/// authentication failed") says what went wrong but not where, and an operator with several
/// databases needs both. Host, port, user and database are named, as `psql` names the server in
/// its errors; the password never is. A URL whose `@` the client would split in the wrong place,
/// spilling a piece of the password into these fields, never gets this far
/// ([`misplaced_at_sign`]).
fn server_description(config: &postgres::Config) -> String {
    use postgres::config::Host;

    let (hosts, addrs, ports) = (
        config.get_hosts(),
        config.get_hostaddrs(),
        config.get_ports(),
    );
    // The client tries each host in turn (`host=a,b`), with the port at the same position or the
    // only one given; a `hostaddr` is dialled instead of the name beside it, which still names
    // the server (and is what its certificate must match).
    let servers: Vec<String> = (0..hosts.len().max(addrs.len()))
        .map(|i| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match (hosts.get(i), addrs.get(i)) {
                (Some(Host::Tcp(name)), Some(addr)) => {
                    format!("at {name:?} ({addr}) port {port}")
                }
                (_, Some(addr)) => format!("at {:?} port {port}", addr.to_string()),
                (Some(Host::Tcp(name)), None) => format!("at {name:?} port {port}"),
                #[cfg(unix)]
                (Some(Host::Unix(dir)), None) => {
                    format!("on socket {:?}", dir.join(format!(".s.PGSQL.{port}")))
                }
                (None, None) => "with no host".to_owned(),
            }
        })
        .collect();
    let mut description = format!("server {}", servers.join(" or "));
    if let Some(user) = config.get_user() {
        description.push_str(&format!(" as user {user:?}"));
    }
    // Without a database name the server uses the user's name, as libpq does.
    if let Some(database) = config.get_dbname() {
        description.push_str(&format!(", database {database:?}"));
    }
    description
}

/// True for a `postgres://` URL with an `@` anywhere but once before the host. The client splits
/// the user and password from the host at the first `@` in the whole string, so a password's own
/// `@` (`postgres://bob:p@ss@db/app`), or one in the path or query (`?password=p@ss`), moves part
/// of the password into the host or user name, which would then be looked up in DNS, sent to the
/// server and named in errors. Key=value connection strings give `@` no meaning.
fn misplaced_at_sign(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return false;
    };
    let (authority, after) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    authority.matches('@').count() > 1 || after.contains('@')
}

fn store_message(message: String) -> VaultError {
    VaultError::Store {
        backend: "postgres",
        message,
    }
}

/// The certificates a PostgreSQL server's TLS certificate is checked against: the system's trust
/// store, plus the CA certificates added here (a private CA, or a cloud provider's bundle).
pub struct PostgresTls {
    connector: MakeTlsConnector,
}

impl std::fmt::Debug for PostgresTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresTls")
    }
}

impl PostgresTls {
    /// The system's trust store only.
    ///
    /// # Errors
    /// [`VaultError::Store`] when OpenSSL cannot be set up.
    pub fn system_roots() -> Result<Self, VaultError> {
        Self::with_extra_roots(&[])
    }

    /// The system's trust store plus every certificate in `pem` (one or more PEM
    /// `CERTIFICATE` blocks).
    ///
    /// # Errors
    /// [`VaultError::Store`] when `pem` holds no certificate or one that does not parse.
    pub fn with_root_certificates_pem(pem: &[u8]) -> Result<Self, VaultError> {
        let roots = X509::stack_from_pem(pem).map_err(|e| {
            store_message(format!(
                "CA certificates are not valid PEM certificates: {e}"
            ))
        })?;
        if roots.is_empty() {
            return Err(store_message(
                "no PEM certificate found among the CA certificates".into(),
            ));
        }
        Self::with_extra_roots(&roots)
    }

    /// [`PostgresTls::with_root_certificates_pem`] with the certificates read from a file.
    ///
    /// # Errors
    /// [`VaultError::Store`] when the file cannot be read or holds no valid certificate.
    pub fn with_root_certificates_file(path: &Path) -> Result<Self, VaultError> {
        let pem = std::fs::read(path).map_err(|e| {
            store_message(format!(
                "cannot read the CA certificate file {}: {e}",
                path.display()
            ))
        })?;
        Self::with_root_certificates_pem(&pem)
    }

    fn with_extra_roots(roots: &[X509]) -> Result<Self, VaultError> {
        let setup = |e: openssl::error::ErrorStack| {
            store_message(format!("cannot set up TLS for PostgreSQL: {e}"))
        };
        // The builder starts from OpenSSL's secure defaults: peer verification on, the system's
        // trust store loaded. MakeTlsConnector adds the host-name check on every connection.
        let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(setup)?;
        builder
            .set_min_proto_version(Some(SslVersion::TLS1_2))
            .map_err(setup)?;
        for root in roots {
            builder
                .cert_store_mut()
                .add_cert(root.clone())
                .map_err(setup)?;
        }
        Ok(Self {
            connector: MakeTlsConnector::new(builder.build()),
        })
    }

    /// Opens a client connection with a `postgres://` URL (for callers that need the client
    /// itself; [`PostgresStore::connect_with`] wraps one).
    ///
    /// # Errors
    /// [`VaultError::Store`]; a libpq-only URL option gets a message saying what to use instead.
    pub fn connect(&self, url: &str) -> Result<Client, VaultError> {
        if misplaced_at_sign(url) {
            // Nothing of the URL is repeated: the text around the stray `@` is the password.
            return Err(store_message(
                "the database URL has an `@` other than the one before the host; an `@` in a \
                 user name or password must be written %40"
                    .to_owned(),
            ));
        }
        let config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            store_message(match libpq_only_option(url) {
                Some(hint) => format!("{e}: {hint}"),
                None => e.to_string(),
            })
        })?;
        config.connect(self.connector.clone()).map_err(|e| {
            store_message(format!(
                "connecting to {}: {}",
                server_description(&config),
                error_text(&e)
            ))
        })
    }
}

impl PostgresStore {
    /// Connects with a `postgres://` URL, checking the server's certificate against the system's
    /// trust store when TLS is used (see the module documentation for `sslmode`).
    ///
    /// # Errors
    /// [`VaultError::Store`].
    pub fn connect(url: &str) -> Result<Self, VaultError> {
        Self::connect_with(url, &PostgresTls::system_roots()?)
    }

    /// Connects with a `postgres://` URL, checking the server's certificate against `tls` when
    /// TLS is used.
    ///
    /// # Errors
    /// [`VaultError::Store`]; a libpq-only URL option gets a message saying what to use instead.
    pub fn connect_with(url: &str, tls: &PostgresTls) -> Result<Self, VaultError> {
        tls.connect(url).map(Self::from_client)
    }

    /// Wraps a connected client.
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }
}

/// What to write instead of a libpq connection option the Rust client does not know, so that a
/// URL copied from a `psql` setup gets an answer rather than only "unknown option".
fn libpq_only_option(url: &str) -> Option<&'static str> {
    if url.contains("sslmode=verify-full") || url.contains("sslmode=verify-ca") {
        Some(
            "use sslmode=require: sealkit always checks the server certificate and host name \
             when TLS is used",
        )
    } else if url.contains("?ssl=") || url.contains("&ssl=") {
        Some(
            "`ssl=` is node-postgres's option, not libpq's: use sslmode=require (sealkit then \
             checks the server certificate and host name)",
        )
    } else if url.contains("sslrootcert=") {
        Some(
            "pass the CA certificate file with --database-ca-file (PostgresTls in the library) \
             instead of sslrootcert",
        )
    } else {
        None
    }
}

/// Whether the write probe's error says the table cannot be written: a read-only transaction
/// (25006: a standby, `default_transaction_read_only`), no privilege (42501), or a view that cannot
/// be updated (0A000 feature not supported, 55000 object not in prerequisite state).
fn refuses_writing(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|code| {
        [
            SqlState::READ_ONLY_SQL_TRANSACTION,
            SqlState::INSUFFICIENT_PRIVILEGE,
            SqlState::FEATURE_NOT_SUPPORTED,
            SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE,
        ]
        .contains(code)
    })
}

fn count(client: &mut Client, sql: &str) -> Result<u64, VaultError> {
    let n: i64 = client.query_one(sql, &[]).map_err(store_err)?.get(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A row of `SELECT key, value`. A `NULL` value becomes [`StoredValue::Unreadable`], one failed
/// row; a column that is not text at all is a schema the migration does not know, so the run
/// stops with a store error (`Row::get` would panic on either). Keys, unlike in SQLite, are
/// always readable here: the fetches leave out `NULL` keys (possible only without the primary
/// key), and text is valid in the server's encoding and arrives converted to UTF-8 (except in a
/// `SQL_ASCII` database, which stores bytes unchecked: a non-UTF-8 key or value there is a store
/// error).
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

    fn check_table(&mut self, table: &TableName, write: bool) -> Result<(), VaultError> {
        // Prepared only: the server resolves every name when it parses, but checks privileges
        // when a statement runs, and `updated_at` is only ever written, never read.
        let columns = format!(
            "SELECT key, value, encrypted, updated_at FROM {}",
            table.quoted()
        );
        self.client.prepare(&columns).map_err(store_err)?;
        // Run: the connection must be allowed to read what the fetches read. `LIMIT 0`: no row.
        let read = format!(
            "SELECT key, value, encrypted FROM {} LIMIT 0",
            table.quoted()
        );
        self.client.execute(&read, &[]).map_err(store_err)?;
        if !write {
            return Ok(());
        }
        // The migration's own update, matching no row, in a transaction that is rolled back. It
        // fails as the real one would: in a read-only session (a standby server,
        // `default_transaction_read_only`), on a view that cannot be updated, without the
        // `UPDATE` privilege on `value` and `updated_at`. A statement-level trigger on the table
        // does run, and whatever it writes is rolled back with the transaction.
        let probe = format!(
            "UPDATE {} SET value = value, updated_at = NOW() WHERE false",
            table.quoted()
        );
        let mut tx = self.client.transaction().map_err(store_err)?;
        tx.execute(&probe, &[]).map_err(|e| {
            if refuses_writing(&e) {
                VaultError::TableNotWritable {
                    table: table.as_str().to_owned(),
                    backend: "postgres",
                    message: error_text(&e),
                }
            } else {
                // A lock or statement timeout, a dropped connection, …: a database failure, not
                // an answer about the table.
                store_err(e)
            }
        })?;
        tx.rollback().map_err(store_err)
    }

    fn count_encrypted(&mut self, table: &TableName) -> Result<u64, VaultError> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE encrypted = true",
            table.quoted()
        );
        count(&mut self.client, &sql)
    }

    fn duplicate_keys(&mut self, table: &TableName) -> Result<u64, VaultError> {
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT key FROM {} WHERE encrypted = true \
             AND key IS NOT NULL GROUP BY key HAVING COUNT(*) > 1) AS duplicated",
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
            "SELECT key, value FROM {} WHERE encrypted = true AND key IS NOT NULL \
             AND ($1::text IS NULL OR key > $1) ORDER BY key LIMIT $2",
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

    fn unreadable_keys(
        &mut self,
        table: &TableName,
        list: usize,
    ) -> Result<UnreadableKeys, VaultError> {
        // Only a `NULL` key (a table whose key is not the primary key) is unreadable here.
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE encrypted = true AND key IS NULL",
            table.quoted()
        );
        let count = count(&mut self.client, &sql)?;
        let listed = usize::try_from(count).unwrap_or(usize::MAX).min(list);
        Ok(UnreadableKeys {
            count,
            listed: vec!["NULL".to_owned(); listed],
        })
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
