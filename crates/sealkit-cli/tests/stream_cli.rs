//! End-to-end tests of `sealkit keygen` and `sealkit stream …`, driving the built binary.

mod harness;

use std::path::Path;
use std::process::Output;

use harness::{assert_fails_silently_with as assert_fails_with, stderr};

const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_B: &str = "HxwdHhsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";

/// Runs `sealkit` with `S2_ENCRYPTION_KEY` set to `key`, if any.
fn sealkit(args: &[&str], key: Option<&str>, stdin: &[u8]) -> Output {
    let env: Vec<(&str, &str)> = key.map(|k| ("S2_ENCRYPTION_KEY", k)).into_iter().collect();
    harness::sealkit(args, &env, stdin)
}

fn stream_args<'a>(op: &'a str, cipher: &'a str, stream: &'a str) -> Vec<&'a str> {
    vec![
        "stream",
        op,
        "--cipher",
        cipher,
        "--basin",
        "secure-events",
        "--stream",
        stream,
    ]
}

#[test]
fn keygen_prints_32_random_bytes_as_padded_base64() {
    let a = sealkit(&["keygen"], None, b"");
    let b = sealkit(&["keygen", "--base64"], None, b"");
    for out in [&a, &b] {
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout.clone()).unwrap();
        let line = text.strip_suffix('\n').expect("one line");
        assert_eq!(line.len(), 44);
        assert!(line.ends_with('=') && !line.ends_with("=="));
        assert!(sealkit::stream::EncryptionKey::parse(line).is_ok());
    }
    assert_ne!(a.stdout, b.stdout, "two keys must differ");
}

#[test]
fn seal_then_open_round_trips_exact_bytes_for_both_ciphers() {
    let plaintext = b"top secret\n\x00\xffbinary";
    for cipher in ["aegis-256", "aes-256-gcm", "AEGIS-256"] {
        let sealed = sealkit(
            &stream_args("seal", cipher, "audit-log"),
            Some(KEY_A),
            plaintext,
        );
        assert!(sealed.status.success(), "{}", stderr(&sealed));
        assert_ne!(&sealed.stdout[..], &plaintext[..]);
        let opened = sealkit(
            &stream_args("open", cipher, "audit-log"),
            Some(KEY_A),
            &sealed.stdout,
        );
        assert!(opened.status.success(), "{}", stderr(&opened));
        assert_eq!(
            opened.stdout, plaintext,
            "stdout carries the plaintext exactly"
        );
    }
}

#[test]
fn record_sealed_for_stream_a_does_not_open_for_stream_b() {
    let sealed = sealkit(
        &stream_args("seal", "aegis-256", "a"),
        Some(KEY_A),
        b"payload",
    );
    assert!(sealed.status.success());
    let opened = sealkit(
        &stream_args("open", "aegis-256", "b"),
        Some(KEY_A),
        &sealed.stdout,
    );
    assert_fails_with(&opened, "decryption_failed");
}

#[test]
fn record_from_another_incarnation_does_not_open() {
    let mut seal = stream_args("seal", "aes-256-gcm", "s");
    seal.extend(["--incarnation", "first"]);
    let sealed = sealkit(&seal, Some(KEY_A), b"payload");
    assert!(sealed.status.success());
    let mut open = stream_args("open", "aes-256-gcm", "s");
    open.extend(["--incarnation", "second"]);
    assert_fails_with(
        &sealkit(&open, Some(KEY_A), &sealed.stdout),
        "decryption_failed",
    );
}

#[test]
fn seal_with_key_a_then_open_with_key_b_fails_with_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let check = dir.path().join("audit-log.keycheck");
    let check = check.to_str().unwrap();
    let mut seal = stream_args("seal", "aegis-256", "audit-log");
    seal.extend(["--key-check-file", check]);
    let sealed = sealkit(&seal, Some(KEY_A), b"payload");
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    assert!(
        Path::new(check).exists(),
        "first append stores the key-check value"
    );

    let mut open = stream_args("open", "aegis-256", "audit-log");
    open.extend(["--key-check-file", check]);
    assert_fails_with(&sealkit(&open, Some(KEY_B), &sealed.stdout), "wrong_key");
    // A second append with the wrong key is refused too: the stream is not poisoned.
    assert_fails_with(&sealkit(&seal, Some(KEY_B), b"more"), "wrong_key");
    // The right key still opens it.
    let opened = sealkit(&open, Some(KEY_A), &sealed.stdout);
    assert!(opened.status.success());
    assert_eq!(opened.stdout, b"payload");
}

#[test]
fn only_a_successful_seal_creates_the_key_check_file() {
    let dir = tempfile::tempdir().unwrap();
    let check = dir.path().join("audit-log.keycheck");
    let check = check.to_str().unwrap();
    let sealed = sealkit(
        &stream_args("seal", "aegis-256", "audit-log"),
        Some(KEY_A),
        b"payload",
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));

    // Reading never starts a stream's key check: with the wrong key it would lock the right one out.
    let mut open = stream_args("open", "aegis-256", "audit-log");
    open.extend(["--key-check-file", check]);
    assert_fails_with(
        &sealkit(&open, Some(KEY_B), &sealed.stdout),
        "key_check_missing",
    );
    assert_fails_with(
        &sealkit(&open, Some(KEY_A), &sealed.stdout),
        "key_check_missing",
    );
    assert!(!Path::new(check).exists());

    // A seal that fails (sequence number past AES-256-GCM's bound) stores nothing either.
    let mut seal = stream_args("seal", "aes-256-gcm", "audit-log");
    seal.extend(["--seq-num", "4294967296", "--key-check-file", check]);
    let refused = sealkit(&seal, Some(KEY_B), b"x");
    assert_fails_with(&refused, "invalid");
    assert!(
        stderr(&refused).contains("max assignable sequence number is 4294967295"),
        "{}",
        stderr(&refused)
    );
    assert!(!Path::new(check).exists());

    // The first successful seal stores its key's value, and only that key passes from then on.
    let mut seal = stream_args("seal", "aegis-256", "audit-log");
    seal.extend(["--key-check-file", check]);
    assert!(sealkit(&seal, Some(KEY_A), b"first").status.success());
    assert!(Path::new(check).exists());
    let stored = std::fs::read(check).unwrap();
    assert_fails_with(&sealkit(&seal, Some(KEY_B), b"x"), "wrong_key");
    assert_eq!(
        std::fs::read(check).unwrap(),
        stored,
        "the stored value is kept"
    );
    let opened = sealkit(&open, Some(KEY_A), &sealed.stdout);
    assert!(opened.status.success(), "{}", stderr(&opened));
    assert_eq!(opened.stdout, b"payload");
}

#[test]
fn concurrent_first_seals_never_see_a_half_written_key_check_file() {
    // Racing first appends with the same key all succeed (the losers find the winner's value
    // complete); with different keys exactly the first to store its value wins.
    let dir = tempfile::tempdir().unwrap();
    for round in 0..15 {
        let check = dir.path().join(format!("race-{round}.keycheck"));
        let check = check.to_str().unwrap().to_owned();
        let keys = if round % 3 == 2 {
            [KEY_A, KEY_B, KEY_A]
        } else {
            [KEY_A; 3]
        };
        let outcomes: Vec<Output> = std::thread::scope(|scope| {
            let handles: Vec<_> = keys
                .iter()
                .map(|key| {
                    let check = check.clone();
                    scope.spawn(move || {
                        let mut seal = stream_args("seal", "aegis-256", "audit-log");
                        seal.extend(["--key-check-file", &check]);
                        sealkit(&seal, Some(key), b"x")
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let stored = std::fs::read_to_string(&check).unwrap();
        assert_eq!(stored.trim().len(), 64, "a complete value is stored");
        for (key, out) in keys.iter().zip(&outcomes) {
            let key_check = sealkit(
                &stream_args("key-check", "aegis-256", "audit-log"),
                Some(key),
                b"",
            );
            if String::from_utf8_lossy(&key_check.stdout) == stored {
                assert!(out.status.success(), "{}", stderr(out));
            } else {
                assert_fails_with(out, "wrong_key");
            }
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn bad_arguments_fail_with_one_usage_line() {
    for args in [
        &[
            "stream", "seal", "--cipher", "des", "--basin", "b", "--stream", "s",
        ][..],
        &["stream", "seal", "--cipher", "aegis-256"],
        &[
            "stream",
            "seal",
            "--cipher",
            "aegis-256",
            "--basin",
            "b",
            "--stream",
            "s",
            "--bogus",
        ],
        &["stream"],
        &["strem"],
        &[],
    ] {
        let out = sealkit(args, Some(KEY_A), b"x");
        assert_fails_with(&out, "usage");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    harness::assert_help_names(
        &[&["stream", "seal"], &["stream", "open"]],
        &["--key-check-file", "S2_ENCRYPTION_KEY"],
    );
    harness::assert_help_names(&[&["stream", "key-check"]], &["S2_ENCRYPTION_KEY"]);
}

/// A usage error points at the help of the command that was typed, and a missing subcommand lists
/// the ones there are; a path that merely shares a word with the command (`/etc/sealkit/…`) is not
/// taken for a secret.
#[test]
fn usage_errors_name_the_command_and_its_subcommands() {
    let out = sealkit(&["stream"], None, b"");
    assert_fails_with(&out, "usage");
    assert!(
        stderr(&out).contains(
            "`sealkit stream` needs a subcommand: seal, open, key-check, inspect \
             (see `sealkit stream --help`)"
        ),
        "{}",
        stderr(&out)
    );
    let mut args = stream_args("seal", "aegis-256", "s");
    args.extend([
        "--key-check-file",
        "/etc/sealkit/streams/s.keycheck",
        "--bogus",
    ]);
    let out = sealkit(&args, Some(KEY_A), b"x");
    assert_fails_with(&out, "usage");
    assert!(
        stderr(&out)
            .contains("unexpected argument '--bogus' found (see `sealkit stream seal --help`)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn key_check_command_prints_a_value_that_verifies_only_the_same_key() {
    let args = stream_args("key-check", "aegis-256", "audit-log");
    let a = sealkit(&args, Some(KEY_A), b"");
    assert!(a.status.success());
    let check = String::from_utf8(a.stdout).unwrap();
    let check = check.trim();
    assert_eq!(check.len(), 64);
    let b = sealkit(&args, Some(KEY_B), b"");
    assert!(b.status.success(), "{}", stderr(&b));
    assert_eq!(b.stdout.len(), 65, "64 hex digits and a newline");
    assert_ne!(String::from_utf8(b.stdout).unwrap().trim(), check);

    let mut seal = stream_args("seal", "aegis-256", "audit-log");
    seal.extend(["--key-check", check]);
    assert!(sealkit(&seal, Some(KEY_A), b"x").status.success());
    assert_fails_with(&sealkit(&seal, Some(KEY_B), b"x"), "wrong_key");
}

#[test]
fn without_a_key_check_a_wrong_key_is_a_decryption_failure() {
    let sealed = sealkit(
        &stream_args("seal", "aegis-256", "s"),
        Some(KEY_A),
        b"payload",
    );
    let opened = sealkit(
        &stream_args("open", "aegis-256", "s"),
        Some(KEY_B),
        &sealed.stdout,
    );
    assert_fails_with(&opened, "decryption_failed");
}

#[test]
fn sequence_number_binds_the_record_to_its_position() {
    let mut seal = stream_args("seal", "aes-256-gcm", "s");
    seal.extend(["--seq-num", "7"]);
    let sealed = sealkit(&seal, Some(KEY_A), b"seventh");
    assert!(sealed.status.success());
    let mut open = stream_args("open", "aes-256-gcm", "s");
    open.extend(["--seq-num", "8"]);
    assert_fails_with(
        &sealkit(&open, Some(KEY_A), &sealed.stdout),
        "decryption_failed",
    );
    let last = open.len() - 1;
    open[last] = "7";
    assert_eq!(
        sealkit(&open, Some(KEY_A), &sealed.stdout).stdout,
        b"seventh"
    );
}

#[test]
fn aes_gcm_refuses_sequence_numbers_past_its_limit() {
    let mut seal = stream_args("seal", "aes-256-gcm", "s");
    seal.extend(["--seq-num", "4294967296"]);
    let out = sealkit(&seal, Some(KEY_A), b"x");
    assert_fails_with(&out, "invalid");
    assert!(
        stderr(&out).contains("max assignable sequence number is 4294967295; attempted 4294967296")
    );
    let last = seal.len() - 1;
    seal[last] = "4294967295";
    assert!(sealkit(&seal, Some(KEY_A), b"x").status.success());
}

#[test]
fn key_errors_use_the_reference_messages_and_never_echo_the_key() {
    let seal = stream_args("seal", "aegis-256", "s");
    let missing = sealkit(&seal, None, b"x");
    assert_fails_with(&missing, "invalid");
    assert!(stderr(&missing).contains("missing encryption key for stream cipher 'aegis-256'"));
    // Then, for the person at the terminal, where the key comes from.
    assert!(
        stderr(&missing).contains("(set S2_ENCRYPTION_KEY or pass --encryption-key-file;"),
        "{}",
        stderr(&missing)
    );

    let url_safe = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-_";
    let bad = sealkit(
        &stream_args("seal", "aes-256-gcm", "s"),
        Some(url_safe),
        b"x",
    );
    assert_fails_with(&bad, "invalid");
    assert!(
        stderr(&bad)
            .contains("invalid encryption key for stream cipher 'aes-256-gcm': invalid base64")
    );
    assert!(!stderr(&bad).contains(url_safe));

    let thirty_three = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g";
    let long = sealkit(&seal, Some(thirty_three), b"x");
    assert_fails_with(&long, "invalid");
    assert!(
        stderr(&long).contains("invalid encryption key length for stream cipher 'aegis-256': 33")
    );
    assert!(!stderr(&long).contains(thirty_three));
    assert!(stderr(&long).contains("32 bytes in padded standard base64"));
}

#[test]
fn key_file_is_trimmed_and_takes_precedence_over_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stream-key.b64");
    std::fs::write(&file, format!("  {KEY_A}\n")).unwrap();
    let mut seal = stream_args("seal", "aegis-256", "s");
    seal.extend(["--encryption-key-file", file.to_str().unwrap()]);
    let sealed = sealkit(&seal, Some(KEY_B), b"from file");
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let opened = sealkit(
        &stream_args("open", "aegis-256", "s"),
        Some(KEY_A),
        &sealed.stdout,
    );
    assert_eq!(opened.stdout, b"from file");
}

/// A key-check value broken in storage is the operator's problem, not the client's:
/// `malformed_key_check`, and nothing sealed or opened. A malformed value on the command line is a
/// usage error.
#[test]
fn malformed_key_check_values_are_refused_before_any_record() {
    let dir = tempfile::tempdir().unwrap();
    let check = dir.path().join("s.keycheck");
    std::fs::write(&check, "not a key-check value\n").unwrap();
    let sealed = sealkit(&stream_args("seal", "aegis-256", "s"), Some(KEY_A), b"x");
    for op in ["seal", "open"] {
        let mut args = stream_args(op, "aegis-256", "s");
        args.extend(["--key-check-file", check.to_str().unwrap()]);
        assert_fails_with(
            &sealkit(&args, Some(KEY_A), &sealed.stdout),
            "malformed_key_check",
        );
        let mut args = stream_args(op, "aegis-256", "s");
        args.extend(["--key-check", "abc123"]);
        let out = sealkit(&args, Some(KEY_A), &sealed.stdout);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        std::fs::read_to_string(&check).unwrap(),
        "not a key-check value\n",
        "a broken value is never overwritten"
    );
}

/// A key file that never ends (`/dev/zero`) or is far too large is one error line, not a process
/// that reads until memory runs out.
#[cfg(unix)]
#[test]
fn an_endless_key_file_is_refused_with_one_error_line() {
    let mut seal = stream_args("seal", "aegis-256", "s");
    seal.extend(["--encryption-key-file", "/dev/zero"]);
    let out = sealkit(&seal, None, b"x");
    assert_fails_with(&out, "io");
    assert!(
        stderr(&out).contains("more than 16 MiB"),
        "{}",
        stderr(&out)
    );
}

/// A key-check file is tiny, yet its path comes from the command line: one far too large is one
/// `io` error line under the same 16 MiB cap as secret files, not a read until memory runs out —
/// even when what it holds would parse (a valid value padded with whitespace past the cap).
#[test]
fn an_oversized_key_check_file_is_refused_with_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let check = dir.path().join("s.keycheck");
    let value = sealkit(
        &stream_args("key-check", "aegis-256", "s"),
        Some(KEY_A),
        b"",
    );
    assert!(value.status.success(), "{}", stderr(&value));
    let mut padded = value.stdout.clone();
    padded.resize((16 << 20) + 1, b' ');
    std::fs::write(&check, &padded).unwrap();
    let sealed = sealkit(&stream_args("seal", "aegis-256", "s"), Some(KEY_A), b"x");
    assert!(sealed.status.success(), "{}", stderr(&sealed));

    let mut paths = vec![check.to_str().unwrap()];
    if cfg!(unix) {
        paths.push("/dev/zero");
    }
    for path in paths {
        for op in ["seal", "open"] {
            let mut args = stream_args(op, "aegis-256", "s");
            args.extend(["--key-check-file", path]);
            let out = sealkit(&args, Some(KEY_A), &sealed.stdout);
            assert_fails_with(&out, "io");
            assert!(
                stderr(&out).contains("more than 16 MiB"),
                "{op} {path}: {}",
                stderr(&out)
            );
        }
    }
    assert!(
        std::fs::read(&check).unwrap() == padded,
        "the file is left as it was"
    );
    // Within the cap the same value, padded less, is read and verified as before.
    padded.truncate(1 << 20);
    std::fs::write(&check, &padded).unwrap();
    let mut open = stream_args("open", "aegis-256", "s");
    open.extend(["--key-check-file", check.to_str().unwrap()]);
    let opened = sealkit(&open, Some(KEY_A), &sealed.stdout);
    assert!(opened.status.success(), "{}", stderr(&opened));
    assert_eq!(opened.stdout, b"x");
}

/// The key-check file is written like a public key, readable by a reader running as another user,
/// unlike private keys and registries (0600). Run under umask 022, so the mode says which it was.
#[cfg(unix)]
#[test]
fn the_key_check_file_is_not_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let check = dir.path().join("s.keycheck");
    let mut args = stream_args("seal", "aegis-256", "s");
    args.extend(["--key-check-file", check.to_str().unwrap()]);
    let out = std::process::Command::new("sh")
        .args(["-c", "umask 022 && exec \"$0\" \"$@\" </dev/null"])
        .arg(env!("CARGO_BIN_EXE_sealkit"))
        .args(&args)
        .env_clear()
        .env("S2_ENCRYPTION_KEY", KEY_A)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(&check).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "mode {mode:o}");
}

#[test]
fn open_refuses_a_record_of_the_other_cipher_before_decrypting() {
    let sealed = sealkit(&stream_args("seal", "aes-256-gcm", "s"), Some(KEY_A), b"x");
    let opened = sealkit(
        &stream_args("open", "aegis-256", "s"),
        Some(KEY_A),
        &sealed.stdout,
    );
    assert_fails_with(&opened, "cipher_mismatch");
}

#[test]
fn garbage_records_are_typed_errors() {
    let open = stream_args("open", "aegis-256", "s");
    assert_fails_with(&sealkit(&open, Some(KEY_A), b""), "malformed_record");
    assert_fails_with(
        &sealkit(&open, Some(KEY_A), b"\x07abc"),
        "unknown_record_format",
    );
    assert_fails_with(
        &sealkit(&open, Some(KEY_A), b"\x01short"),
        "malformed_record",
    );
}

#[test]
fn inspect_reveals_only_cipher_and_length() {
    let sealed = sealkit(
        &stream_args("seal", "aegis-256", "s"),
        Some(KEY_A),
        b"12345",
    );
    let out = sealkit(&["stream", "inspect"], None, &sealed.stdout);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["cipher"], "aegis-256");
    assert_eq!(json["plaintextLen"], 5);
    assert_eq!(json["formatByte"], 1);
    let mut fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["cipher", "formatByte", "plaintextLen"],
        "nothing else"
    );
}
