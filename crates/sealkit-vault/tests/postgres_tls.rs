//! TLS to PostgreSQL: every TLS connection checks the server's certificate chain and host name,
//! whatever the URL's sslmode; libpq-only URL options, unusable CA files and failed connections
//! get clear errors.
//!
//! The server tests need the TLS test server of `.ci/postgres.sh` (SEALKIT_TEST_POSTGRES_URL, with
//! sslmode=require, and SEALKIT_TEST_POSTGRES_CA); they print a skip line without it and fail
//! under CI.
#![cfg(feature = "postgres")]

use std::path::Path;

use sealkit_vault::VaultError;
use sealkit_vault::migrate::postgres::{PostgresStore, PostgresTls};
use sealkit_vault::migrate::store::{StoreOptions, TableName, open_store_with};

const PASSWORD: &str = "sealkit-test-only";

/// The test server's URL and CA file, or `None` (after a skip line) when there is none.
fn tls_server(test: &str) -> Option<(String, String)> {
    match (
        std::env::var("SEALKIT_TEST_POSTGRES_URL"),
        std::env::var("SEALKIT_TEST_POSTGRES_CA"),
    ) {
        (Ok(url), Ok(ca)) if !url.is_empty() && !ca.is_empty() => Some((url, ca)),
        _ => {
            assert!(
                !sealkit_vectors::required_under_ci(),
                "{test}: SEALKIT_TEST_POSTGRES_URL and SEALKIT_TEST_POSTGRES_CA must be set under \
                 CI (source .ci/postgres.sh)"
            );
            println!("skipped {test}: no TLS test server (source .ci/postgres.sh)");
            None
        }
    }
}

fn store_message(result: Result<impl Sized, VaultError>) -> String {
    match result {
        Err(VaultError::Store { backend, message }) => {
            assert_eq!(backend, "postgres");
            assert!(
                !message.contains(PASSWORD),
                "the password leaked: {message}"
            );
            message
        }
        Err(other) => panic!("expected a store error, got {other:?}"),
        Ok(_) => panic!("expected a store error, got a connection"),
    }
}

#[test]
fn with_the_servers_ca_the_connection_is_tls() {
    let Some((url, ca)) = tls_server("with_the_servers_ca_the_connection_is_tls") else {
        return;
    };
    let tls = PostgresTls::with_root_certificates_file(Path::new(&ca)).unwrap();
    let mut client = tls.connect(&url).unwrap();
    let row = client
        .query_one(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap();
    assert!(row.get::<_, bool>(0), "the connection is not TLS");
    let version: String = row.get(1);
    assert!(
        matches!(version.as_str(), "TLSv1.2" | "TLSv1.3"),
        "{version}"
    );

    // The store, opened the way the CLI opens it, works over the same kind of connection.
    let table = format!("tls_probe_{}", std::process::id());
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (key TEXT PRIMARY KEY, \
             value TEXT, encrypted BOOLEAN NOT NULL DEFAULT FALSE)"
        ))
        .unwrap();
    let mut store = open_store_with(&url, &StoreOptions::default().ca_file(&ca)).unwrap();
    assert_eq!(
        store
            .count_encrypted(&TableName::new(&table).unwrap())
            .unwrap(),
        0
    );
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();
}

#[test]
fn an_unknown_ca_is_refused() {
    let Some((url, _)) = tls_server("an_unknown_ca_is_refused") else {
        return;
    };
    let message = store_message(PostgresStore::connect(&url));
    assert!(message.contains("certificate verify failed"), "{message}");
}

/// Under sslmode=prefer a server that offers TLS gets a verified handshake or none: a certificate
/// that does not verify never falls back to an unchecked or plain connection.
#[test]
fn prefer_never_skips_the_certificate_check() {
    let Some((url, _)) = tls_server("prefer_never_skips_the_certificate_check") else {
        return;
    };
    let prefer = url.replace("sslmode=require", "sslmode=prefer");
    assert_ne!(prefer, url, "the test URL should say sslmode=require");
    let message = store_message(PostgresStore::connect(&prefer));
    assert!(message.contains("certificate verify failed"), "{message}");
}

/// The certificate names 127.0.0.1 and localhost; reaching the same server under another name is
/// refused even though the chain verifies.
#[test]
fn a_certificate_for_another_host_is_refused() {
    let Some((url, ca)) = tls_server("a_certificate_for_another_host_is_refused") else {
        return;
    };
    let elsewhere = format!(
        "{}&hostaddr=127.0.0.1",
        url.replace("@127.0.0.1:", "@db.example.invalid:")
    );
    let tls = PostgresTls::with_root_certificates_file(Path::new(&ca)).unwrap();
    let message = store_message(PostgresStore::connect_with(&elsewhere, &tls));
    assert!(message.contains("hostname mismatch"), "{message}");
}

#[test]
fn libpq_only_options_say_what_to_write_instead() {
    let tls = PostgresTls::system_roots().unwrap();
    for (url, hint) in [
        (
            "postgres://u:sealkit-test-only@h/db?sslmode=verify-full",
            "use sslmode=require",
        ),
        (
            "postgres://u:sealkit-test-only@h/db?sslmode=verify-ca",
            "use sslmode=require",
        ),
        (
            "postgres://u:sealkit-test-only@h/db?sslrootcert=ca.pem",
            "--database-ca-file",
        ),
        // node-postgres's spelling, common in services moving from the reference.
        (
            "postgres://u:sealkit-test-only@h/db?ssl=true",
            "node-postgres's option, not libpq's: use sslmode=require",
        ),
        (
            "postgres://u:sealkit-test-only@h/db?application_name=x&ssl=1",
            "use sslmode=require",
        ),
    ] {
        let message = store_message(PostgresStore::connect_with(url, &tls));
        assert!(message.contains(hint), "{url}: {message}");
    }
    // Other parse errors are passed on without a hint.
    let message = store_message(PostgresStore::connect_with(
        "postgres://u@h/db?sslmode=sometimes",
        &tls,
    ));
    assert!(message.contains("invalid"), "{message}");
    assert!(!message.contains("use sslmode=require"), "{message}");
}

#[test]
fn a_failed_connection_names_the_server_user_and_database_but_not_the_password() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tls = PostgresTls::system_roots().unwrap();
    let url = format!("postgres://bob:{PASSWORD}@127.0.0.1:{port}/appdb?sslmode=disable");
    let message = store_message(PostgresStore::connect_with(&url, &tls));
    assert!(
        message.contains(&format!(
            "connecting to server at \"127.0.0.1\" port {port} as user \"bob\", database \"appdb\": "
        )),
        "{message}"
    );
    // The client's own reason follows.
    assert!(message.contains("error connecting to server"), "{message}");

    // Every host the client tried, each with its port, and a socket directory as psql names it.
    let url = format!(
        "postgres://bob:{PASSWORD}@127.0.0.1:{port},127.0.0.1:{port}/appdb?sslmode=disable"
    );
    let message = store_message(PostgresStore::connect_with(&url, &tls));
    assert!(
        message.contains(&format!(
            "server at \"127.0.0.1\" port {port} or at \"127.0.0.1\" port {port} as user"
        )),
        "{message}"
    );
    let message = store_message(PostgresStore::connect_with(
        &format!("postgres:///appdb?host=/nonexistent&port=5&password={PASSWORD}"),
        &tls,
    ));
    assert!(
        message.contains("connecting to server on socket \"/nonexistent/.s.PGSQL.5\""),
        "{message}"
    );
    // An IPv6 address holds `:` and is still shown.
    let message = store_message(PostgresStore::connect_with(
        &format!("postgres://bob:{PASSWORD}@[::1]:{port}/appdb?sslmode=disable"),
        &tls,
    ));
    assert!(
        message.contains(&format!("at \"::1\" port {port}")),
        "{message}"
    );
}

/// The client splits a URL at its first `@`, so a password's own `@`, or one in the path or query,
/// would move a piece of the password into the host or user name (looked up in DNS, sent to the
/// server, named in errors). Such a URL is refused before it is parsed, repeating none of it.
#[test]
fn a_url_with_a_stray_at_sign_is_refused_without_repeating_it() {
    let tls = PostgresTls::system_roots().unwrap();
    let (head, tail) = PASSWORD.split_at(8);
    for url in [
        format!("postgres://bob:{head}@{tail}@127.0.0.1:1/appdb"),
        format!("postgresql://bob:{head}@{tail}/2@db/app"),
        format!("postgres://bob:{head}/{tail}@db/app"),
        format!("postgres://localhost/appdb?password={head}@{tail}"),
        format!("postgres://bob@localhost/appdb?password={head}@{tail}"),
    ] {
        let message = store_message(PostgresStore::connect_with(&url, &tls));
        assert_eq!(
            message,
            "the database URL has an `@` other than the one before the host; an `@` in a user \
             name or password must be written %40",
            "{url}"
        );
        assert!(
            !message.contains(tail) && !message.contains(head),
            "{message}"
        );
    }
    // Written as %40 it is an ordinary password (the connection then fails only for want of a
    // server), and key=value strings give `@` no meaning.
    for url in [
        format!("postgres://bob:{head}%40{tail}@127.0.0.1:1/appdb?sslmode=disable"),
        format!("host=127.0.0.1 port=1 user=bob password={head}@{tail} sslmode=disable"),
    ] {
        let message = store_message(PostgresStore::connect_with(&url, &tls));
        assert!(
            message.starts_with("connecting to server at \"127.0.0.1\" port 1 as user \"bob\""),
            "{message}"
        );
    }
}

#[test]
fn unusable_ca_certificates_are_refused() {
    let no_pem = store_message(PostgresTls::with_root_certificates_pem(
        b"not a certificate",
    ));
    assert!(no_pem.contains("no PEM certificate"), "{no_pem}");
    let broken = store_message(PostgresTls::with_root_certificates_pem(
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ));
    assert!(broken.contains("not valid PEM certificates"), "{broken}");
    let missing = store_message(PostgresTls::with_root_certificates_file(Path::new(
        "/nonexistent/sealkit-ca.pem",
    )));
    assert!(
        missing.contains("cannot read the CA certificate file /nonexistent/sealkit-ca.pem"),
        "{missing}"
    );
}
