//! `sealkit`: key generation, the operator jobs (migrate, rotate, validate) and a scriptable face for
//! every sealkit component. The commands and flags are a contract (SPEC.md section 5): secrets come from
//! the environment or a file, never from a flag value; stdout carries exactly the result; a failure is
//! one line on stderr that names the error code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod envelope;
mod failure;
mod io;
mod keygen;
mod session;
mod stream;
mod token;
mod vault;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sealkit",
    version,
    about = "Crypto for services that keep secrets at rest"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print 32 random bytes as padded standard base64 (what `openssl rand -base64 32` gives).
    Keygen(keygen::Args),
    /// Seal and open stream records (AEGIS-256 / AES-256-GCM) under a client-supplied key.
    #[command(subcommand)]
    Stream(stream::Command),
    /// Encrypt and decrypt `v2:` settings values, validate the key, migrate stored ciphertext.
    #[command(subcommand)]
    Vault(vault::Command),
    /// Sign and verify session cookies with `SESSION_SIGNING_KEY`.
    #[command(subcommand)]
    Session(session::Command),
    /// RSA-OAEP + AES-256-GCM envelopes: key generation, seal, open, registry rotation.
    #[command(subcommand)]
    Envelope(envelope::Command),
    /// Issue, verify and authorize scoped access tokens.
    #[command(subcommand)]
    Token(token::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => keygen::run(args),
        Command::Stream(cmd) => stream::run(cmd),
        Command::Vault(cmd) => vault::run(cmd),
        Command::Session(cmd) => session::run(cmd),
        Command::Envelope(cmd) => envelope::run(cmd),
        Command::Token(cmd) => token::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(error) => error.report(),
    }
}
