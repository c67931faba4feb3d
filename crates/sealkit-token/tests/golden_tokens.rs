//! The token wire format, pinned: a token built by hand from `docs/formats.md` (HKDF sealing key,
//! associated data, claims layout, AEGIS-256, base64url) must verify to the claims it was built
//! from, and the claims codec must produce exactly those bytes. A change to any of them would
//! invalidate every token in circulation; here it fails a test first. And expiry is checked
//! against the real system clock, which every other test replaces with a fixed one.

use std::sync::Arc;

use aegis::aegis256::Aegis256;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealkit_token::claims::{IssuerKey, TokenClaims};
use sealkit_token::{
    AccessTokenScope, FixedClock, IssueRequest, IssuedToken, Issuer, OpSet, Operation, ResourceSet,
    ServerKey, TokenAuthority, TokenError, TokenKeyring,
};

const SERVER_KEY: [u8; 32] = [0x42; 32];
const KEY_ID: &str = "k7";
const NONCE: [u8; 32] = [0x24; 32];
const ISSUED_AT: i64 = 1_700_000_000;
const EXPIRES_AT: i64 = 1_800_000_000;

/// The token below, as the documented format gives it for [`NONCE`] (the same string every time:
/// nothing in it is random but the nonce, fixed here).
const GOLDEN: &str = "sktok1_k7_JCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQUC7OAsmIW1TOeCSnMzzuJ_f2TTv9RhgRS5iYd7PY1pCxknsQTgy61ePR_lWIwMY9wqCzCPZ9PhA5kAZkDG2mKWAtc";

fn expected_claims() -> TokenClaims {
    TokenClaims {
        id: "golden".into(),
        scope: AccessTokenScope {
            basins: ResourceSet::Exact("b1".into()),
            streams: ResourceSet::Prefix("ns/".into()),
            access_tokens: ResourceSet::None,
            op_groups: Default::default(),
            ops: OpSet::empty().with(Operation::Append).with(Operation::Read),
        },
        auto_prefix_streams: true,
        issued_at: ISSUED_AT,
        expires_at: Some(EXPIRES_AT),
        chain: vec!["root-1".into()],
        issuer_keys: Vec::new(),
    }
}

/// Claims v1 for [`expected_claims`], field by field from `docs/formats.md`.
fn claims_by_hand() -> Vec<u8> {
    let bit = |op: Operation| 1u32 << Operation::ALL.iter().position(|o| *o == op).unwrap();
    let mut out = Vec::new();
    // Text: id ‖ chain ids ‖ basins name ‖ streams name ‖ access_tokens name.
    out.extend_from_slice(b"golden");
    out.extend_from_slice(b"root-1");
    out.extend_from_slice(b"b1");
    out.extend_from_slice(b"ns/");
    // Chain lengths, root-most first.
    out.push(6);
    // The 33-byte header.
    out.push(0b11); // auto-prefix, has expiry
    out.extend_from_slice(&(bit(Operation::Append) | bit(Operation::Read)).to_be_bytes());
    out.push(0); // no op groups
    out.extend_from_slice(&ISSUED_AT.to_be_bytes());
    out.extend_from_slice(&EXPIRES_AT.to_be_bytes());
    out.push(6); // id length
    out.push(1); // chain depth
    out.extend_from_slice(&[1, 0, 2]); // basins: exact, 2 bytes
    out.extend_from_slice(&[2, 0, 3]); // streams: prefix, 3 bytes
    out.extend_from_slice(&[0, 0, 0]); // access tokens: none
    out
}

/// The AEGIS-256 sealing key for [`KEY_ID`], derived as `docs/formats.md` says.
fn sealing_key_by_hand() -> [u8; 32] {
    let mut info = b"sealkit-token aegis-256 sealing key ".to_vec();
    info.extend_from_slice(KEY_ID.as_bytes());
    let mut key = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(b"sealkit-token v1"), &SERVER_KEY)
        .expand(&info, &mut key)
        .unwrap();
    key
}

/// The associated data for [`KEY_ID`]: format tag, version, then the length-prefixed key id.
fn associated_data_by_hand() -> Vec<u8> {
    let mut ad = b"sealkit-token\x01".to_vec();
    ad.push(u8::try_from(KEY_ID.len()).unwrap());
    ad.extend_from_slice(KEY_ID.as_bytes());
    ad
}

/// Seals `claims` as the documented format says, with no code of the crate.
fn seal_by_hand(claims: &[u8]) -> String {
    let mut sealed = NONCE.to_vec();
    let mut ciphertext = claims.to_vec();
    let tag = Aegis256::<16>::new(&sealing_key_by_hand(), &NONCE)
        .encrypt_in_place(&mut ciphertext, &associated_data_by_hand());
    sealed.extend_from_slice(&ciphertext);
    sealed.extend_from_slice(&tag);
    format!("sktok1_{KEY_ID}_{}", URL_SAFE_NO_PAD.encode(sealed))
}

fn authority_at(now: i64) -> TokenAuthority {
    let keyring = TokenKeyring::new(KEY_ID, &ServerKey::from_bytes(SERVER_KEY)).unwrap();
    TokenAuthority::new(keyring).with_clock(Arc::new(FixedClock::new(now)))
}

#[test]
fn the_claims_codec_writes_the_documented_bytes() {
    let by_hand = claims_by_hand();
    assert_eq!(expected_claims().encode().unwrap(), by_hand);
    assert_eq!(TokenClaims::decode(&by_hand).unwrap(), expected_claims());
}

/// Claims v1 for [`expected_claims`] issued along `chain` across key rotations, by hand: the text
/// with `issuer_keys` last, then their length, the chain's lengths, and the header with flag bit 2.
fn rotated_claims_by_hand(chain: &[&str], issuer_keys: &str) -> Vec<u8> {
    let bit = |op: Operation| 1u32 << Operation::ALL.iter().position(|o| *o == op).unwrap();
    let mut out = Vec::new();
    out.extend_from_slice(b"golden");
    for id in chain {
        out.extend_from_slice(id.as_bytes());
    }
    out.extend_from_slice(b"b1ns/");
    out.extend_from_slice(issuer_keys.as_bytes());
    out.push(u8::try_from(issuer_keys.len()).unwrap());
    out.extend(chain.iter().map(|id| u8::try_from(id.len()).unwrap()));
    out.push(0b111); // auto-prefix, has expiry, has issuer keys
    out.extend_from_slice(&(bit(Operation::Append) | bit(Operation::Read)).to_be_bytes());
    out.push(0);
    out.extend_from_slice(&ISSUED_AT.to_be_bytes());
    out.extend_from_slice(&EXPIRES_AT.to_be_bytes());
    out.push(6);
    out.push(u8::try_from(chain.len()).unwrap());
    out.extend_from_slice(&[1, 0, 2, 2, 0, 3, 0, 0, 0]);
    out
}

/// The issuer keys are written as documented; any other spelling of them (out of order, an id
/// twice, empty, more than the chain is deep, not key ids, a fingerprint missing, short, long or
/// not base64url, the flag without them) is refused both ways.
#[test]
fn issuer_keys_are_written_as_documented_and_only_so() {
    let key = |id: &str, fingerprint: [u8; 6]| IssuerKey {
        id: id.into(),
        fingerprint,
    };
    let mut claims = expected_claims();
    claims.chain.push("mid".into());
    claims.issuer_keys = vec![key("k5", [1, 2, 3, 4, 5, 6]), key("k6", [0xff; 6])];
    let by_hand = rotated_claims_by_hand(&["root-1", "mid"], "k5:AQIDBAUG,k6:________");
    assert_eq!(claims.encode().unwrap(), by_hand);
    assert_eq!(TokenClaims::decode(&by_hand).unwrap(), claims);

    let two: &[&str] = &["root-1", "mid"];
    for (chain, keys) in [
        (two, "k6:AQIDBAUG,k5:AQIDBAUG"),
        (two, "k5:AQIDBAUG,k5:________"),
        (two, "k5:AQIDBAUG,"),
        (two, ",k5:AQIDBAUG"),
        (two, ""),
        (two, "k5"),
        (two, "k5:"),
        (two, "k5:AQIDBAU"),
        (two, "k5:AQIDBAUGA"),
        (two, "k5:AQIDBA=="),
        (two, "k5:AQIDBAU+"),
        (two, "k5-1:AQIDBAUG"),
        (two, "k1234567890123456:AQIDBAUG"),
        (&["root-1"], "k5:AQIDBAUG,k6:AQIDBAUG"),
        (&[], "k5:AQIDBAUG"),
    ] {
        let bytes = rotated_claims_by_hand(chain, keys);
        assert_eq!(
            TokenClaims::decode(&bytes),
            Err(TokenError::Malformed),
            "{chain:?} {keys}"
        );
    }
    // The length byte and text without the flag.
    let mut no_flag = by_hand.clone();
    let flags_at = no_flag.len() - 33;
    no_flag[flags_at] = 0b011;
    assert_eq!(TokenClaims::decode(&no_flag), Err(TokenError::Malformed));

    for ids in [
        &["k6", "k5"][..],
        &["k5", "k5"],
        &[""],
        &["k5,k6"],
        &["k5:AQIDBAUG"],
        &["k1", "k2", "k3"],
        &["k_1"],
    ] {
        let mut claims = claims.clone();
        claims.issuer_keys = ids.iter().map(|id| key(id, [7; 6])).collect();
        assert_eq!(claims.encode().unwrap_err().code(), "invalid", "{ids:?}");
    }
}

#[test]
fn a_token_sealed_by_hand_verifies_to_its_claims() {
    let token = seal_by_hand(&claims_by_hand());
    assert_eq!(token, GOLDEN, "the documented format gives another string");
    let verified = authority_at(1_750_000_000).verify(GOLDEN).unwrap();
    assert_eq!(verified.claims(), &expected_claims());
    // Under another key id (whose derivation and associated data differ) it is not a token.
    let relabelled = GOLDEN.replacen("_k7_", "_k8_", 1);
    let keyring = TokenKeyring::new("k8", &ServerKey::from_bytes(SERVER_KEY)).unwrap();
    assert_eq!(
        TokenAuthority::new(keyring)
            .verify(&relabelled)
            .unwrap_err(),
        TokenError::Unauthentic
    );
}

#[test]
fn tokens_the_crate_seals_open_by_hand() {
    let authority = authority_at(ISSUED_AT);
    let request = IssueRequest::from_json(
        br#"{"id": "golden", "auto_prefix_streams": true, "expires_at": "2027-01-15T08:00:00Z",
             "scope": {"basins": {"exact": "b1"}, "streams": {"prefix": "ns/"}, "ops": ["read"]}}"#,
    )
    .unwrap();
    let issued = authority.issue(Issuer::Root, &request).unwrap();
    let token = issued.token.expose_secret();
    let payload = token.strip_prefix("sktok1_k7_").unwrap();
    let sealed = URL_SAFE_NO_PAD.decode(payload).unwrap();
    let (nonce, rest) = sealed.split_at(32);
    let (ciphertext, tag) = rest.split_at(rest.len() - 16);
    let mut plaintext = ciphertext.to_vec();
    Aegis256::<16>::new(&sealing_key_by_hand(), nonce.try_into().unwrap())
        .decrypt_in_place(
            &mut plaintext,
            tag.try_into().unwrap(),
            &associated_data_by_hand(),
        )
        .expect("opens under the documented key and associated data");
    let claims = TokenClaims::decode(&plaintext).unwrap();
    assert_eq!(claims.id, "golden");
    assert_eq!(claims.issued_at, ISSUED_AT);
    assert_eq!(claims.expires_at, Some(1_800_000_000));
}

/// The default authority reads the system clock: a token that expired long ago, or that claims to
/// be issued far in the future, is refused by it, while a current one is accepted.
#[test]
fn the_system_clock_decides_expiry_by_default() {
    let system = || {
        TokenAuthority::new(TokenKeyring::new(KEY_ID, &ServerKey::from_bytes(SERVER_KEY)).unwrap())
    };
    let refused_by_system_clock = |issued: &IssuedToken| {
        system()
            .verify(issued.token.expose_secret())
            .unwrap_err()
            .is_authn()
    };
    let request = |expires: &str| {
        IssueRequest::from_json(
            format!(
                r#"{{"id": "t", "expires_at": "{expires}", "scope": {{"basins": {{"prefix": ""}}, "ops": ["list-streams"]}}}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    };
    // Issued in 2001, expired two hours later.
    let past = authority_at(1_000_000_000)
        .issue(Issuer::Root, &request("2001-09-09T03:46:40Z"))
        .unwrap();
    assert!(refused_by_system_clock(&past));
    // Issued "in 2999": not yet valid.
    let future = authority_at(32_000_000_000)
        .issue(Issuer::Root, &request("2999-12-31T00:00:00Z"))
        .unwrap();
    assert!(refused_by_system_clock(&future));
    // Issued now by the default authority, valid until 2999.
    let current = system()
        .issue(Issuer::Root, &request("2999-12-31T00:00:00Z"))
        .unwrap();
    system().verify(current.token.expose_secret()).unwrap();
}
