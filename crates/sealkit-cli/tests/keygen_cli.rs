//! `sealkit keygen`: the format is a contract (what `openssl rand -base64 32` prints), whichever
//! base64 codec writes it.

mod harness;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use harness::sealkit;

#[test]
fn keygen_prints_exactly_44_characters_of_padded_standard_base64_and_a_newline() {
    let mut keys = Vec::new();
    for args in [&["keygen"][..], &["keygen", "--base64"]] {
        for _ in 0..4 {
            let out = sealkit(args, &[], b"");
            assert!(out.status.success(), "{args:?}: {out:?}");
            assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
            // 44 characters and one `\n`, nothing else (no `\r`, no second line).
            assert_eq!(out.stdout.len(), 45, "{args:?}");
            let (line, newline) = out.stdout.split_at(44);
            assert_eq!(newline, b"\n");
            assert!(
                line[..43]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/'),
                "{line:?}"
            );
            assert_eq!(line[43], b'=');
            // Canonical: the strict decoder of the other codec reads it back to 32 bytes.
            assert_eq!(STANDARD.decode(line).unwrap().len(), 32);
            keys.push(line.to_vec());
        }
    }
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 8, "every key is fresh");
}
