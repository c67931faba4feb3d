//! Property tests: derived tokens are never broader, single-bit changes never verify, issue requests
//! round-trip through their JSON form, the claims codec round-trips and its decoder is total.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{NOW, fixture};
use proptest::prelude::*;
use sealkit_token::claims::{ClaimsView, IssuerKey, TokenClaims};
use sealkit_token::{
    AccessTokenScope, IssueRequest, Issuer, OpGroups, OpRequest, OpSet, Operation,
    ReadWritePermissions, ResourceSet, Target, TokenError,
};

/// Short names over a tiny alphabet, so prefixes and exact names collide often.
fn name() -> impl Strategy<Value = String> {
    "[ab]{0,3}"
}

fn resource_set() -> impl Strategy<Value = ResourceSet> {
    prop_oneof![
        Just(ResourceSet::None),
        name().prop_map(|n| if n.is_empty() {
            ResourceSet::None
        } else {
            ResourceSet::Exact(n)
        }),
        name().prop_map(ResourceSet::Prefix),
    ]
}

fn rw() -> impl Strategy<Value = ReadWritePermissions> {
    (any::<bool>(), any::<bool>()).prop_map(|(read, write)| ReadWritePermissions { read, write })
}

fn scope() -> impl Strategy<Value = AccessTokenScope> {
    (
        resource_set(),
        resource_set(),
        resource_set(),
        (rw(), rw(), rw()),
        proptest::collection::vec(0..Operation::ALL.len(), 0..6),
    )
        .prop_map(
            |(basins, streams, access_tokens, (account, basin, stream), ops)| AccessTokenScope {
                basins,
                streams,
                access_tokens,
                op_groups: OpGroups {
                    account,
                    basin,
                    stream,
                },
                ops: ops.into_iter().map(|i| Operation::ALL[i]).collect(),
            },
        )
}

fn request(id: &str) -> impl Strategy<Value = IssueRequest> {
    let id = id.to_owned();
    (scope(), any::<bool>(), proptest::option::of(1i64..200_000)).prop_map(
        move |(scope, auto_prefix_streams, expiry)| IssueRequest {
            id: id.clone(),
            expires_at: expiry.map(|s| time::OffsetDateTime::from_unix_timestamp(NOW + s).unwrap()),
            auto_prefix_streams,
            scope,
        },
    )
}

/// Any name at all (escapes, controls, non-ASCII), for the JSON codec.
fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[\"\\\\/\u{0}-\u{1f}é€😀a-z]{0,8}"]
}

fn any_resource_set() -> impl Strategy<Value = ResourceSet> {
    prop_oneof![
        Just(ResourceSet::None),
        any_name().prop_map(|n| if n.is_empty() {
            ResourceSet::None
        } else {
            ResourceSet::Exact(n)
        }),
        any_name().prop_map(ResourceSet::Prefix),
    ]
}

/// Any RFC 3339 instant: years 1970 to 2096, nanoseconds, and whole-minute offsets up to ±23:59.
fn any_expiry() -> impl Strategy<Value = time::OffsetDateTime> {
    (
        0i64..4_000_000_000,
        0u32..1_000_000_000,
        -23i8..=23,
        0i8..60,
    )
        .prop_map(|(secs, nanos, hours, minutes)| {
            let minutes = if hours < 0 { -minutes } else { minutes };
            let offset = time::UtcOffset::from_hms(hours, minutes, 0).unwrap();
            (time::OffsetDateTime::from_unix_timestamp(secs).unwrap()
                + time::Duration::nanoseconds(i64::from(nanos)))
            .to_offset(offset)
        })
}

/// Any issue request the JSON form can carry (not necessarily one an authority would accept).
fn any_request() -> impl Strategy<Value = IssueRequest> {
    (
        any_name(),
        proptest::option::of(any_expiry()),
        any::<bool>(),
        (any_resource_set(), any_resource_set(), any_resource_set()),
        (rw(), rw(), rw()),
        proptest::collection::vec(0..Operation::ALL.len(), 0..8),
    )
        .prop_map(
            |(id, expires_at, auto_prefix_streams, sets, groups, ops)| IssueRequest {
                id,
                expires_at,
                auto_prefix_streams,
                scope: AccessTokenScope {
                    basins: sets.0,
                    streams: sets.1,
                    access_tokens: sets.2,
                    op_groups: OpGroups {
                        account: groups.0,
                        basin: groups.1,
                        stream: groups.2,
                    },
                    ops: ops.into_iter().map(|i| Operation::ALL[i]).collect(),
                },
            },
        )
}

/// How a child request is derived from its parent's: mostly narrower, sometimes not (so the
/// escalation checks are exercised too).
#[derive(Debug, Clone)]
struct Narrowing {
    sets: [(u8, String); 3],
    op_mask: u32,
    groups: Option<OpGroups>,
    auto_prefix: bool,
    expiry: Option<i64>,
}

fn narrowing() -> impl Strategy<Value = Narrowing> {
    (
        [
            (any::<u8>(), name()),
            (any::<u8>(), name()),
            (any::<u8>(), name()),
        ],
        any::<u32>(),
        proptest::option::weighted(0.25, (rw(), rw(), rw())),
        any::<bool>(),
        proptest::option::of(1i64..300_000),
    )
        .prop_map(|(sets, op_mask, groups, auto_prefix, expiry)| Narrowing {
            sets,
            op_mask,
            groups: groups.map(|(account, basin, stream)| OpGroups {
                account,
                basin,
                stream,
            }),
            auto_prefix,
            expiry,
        })
}

fn narrow(base: &ResourceSet, (choice, suffix): &(u8, String)) -> ResourceSet {
    match (choice % 5, base) {
        (0, _) => base.clone(),
        (1, _) => ResourceSet::None,
        (2, ResourceSet::Prefix(p)) => ResourceSet::Prefix(format!("{p}{suffix}")),
        (3, ResourceSet::Prefix(p)) if !format!("{p}{suffix}").is_empty() => {
            ResourceSet::Exact(format!("{p}{suffix}"))
        }
        (2 | 3, _) => base.clone(),
        // Anything at all: usually broader, and must then be refused.
        _ => ResourceSet::Prefix(suffix.clone()),
    }
}

impl Narrowing {
    fn child_of(&self, parent: &IssueRequest) -> IssueRequest {
        // Under an auto-prefixing parent the child's stream scope is relative to its namespace.
        let stream_base = if parent.auto_prefix_streams {
            ResourceSet::all()
        } else {
            parent.scope.streams.clone()
        };
        let ops = parent
            .scope
            .effective_ops()
            .iter()
            .enumerate()
            .filter(|(i, _)| self.op_mask & (1 << i) != 0)
            .map(|(_, op)| op)
            .collect();
        IssueRequest {
            id: "child".into(),
            expires_at: self
                .expiry
                .map(|s| time::OffsetDateTime::from_unix_timestamp(NOW + s).unwrap()),
            auto_prefix_streams: parent.auto_prefix_streams || self.auto_prefix,
            scope: AccessTokenScope {
                basins: narrow(&parent.scope.basins, &self.sets[0]),
                streams: narrow(&stream_base, &self.sets[1]),
                access_tokens: narrow(&parent.scope.access_tokens, &self.sets[2]),
                op_groups: self.groups.unwrap_or_default(),
                ops,
            },
        }
    }
}

/// Probes: (operation, basin, stream as the holder names it, token id).
fn probe() -> impl Strategy<Value = (Operation, String, String, String)> {
    (
        (0..Operation::ALL.len()).prop_map(|i| Operation::ALL[i]),
        name(),
        name(),
        name(),
    )
}

fn request_for<'a>(op: Operation, basin: &'a str, stream: &'a str, id: &'a str) -> OpRequest<'a> {
    let r = OpRequest::new(op);
    match op.target() {
        Target::Account => r,
        Target::Basin => r.basin(basin),
        Target::Stream => r.basin(basin).stream(stream),
        Target::AccessToken => r.access_token(id),
    }
}

proptest! {
    // Rejected cases (`prop_assume!`) do not count towards `cases`; more than `max_global_rejects` of
    // them fail the test, so a strategy that stops producing real cases cannot pass.
    #![proptest_config(ProptestConfig {
        cases: 512,
        max_global_rejects: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_derived_token_is_never_broader(
        mut parent in request("parent"),
        narrowing in narrowing(),
        probes in proptest::collection::vec(probe(), 48),
    ) {
        parent.scope.ops.insert(Operation::IssueAccessToken);
        parent.scope.access_tokens = ResourceSet::all();
        if !matches!(parent.scope.streams, ResourceSet::Prefix(_)) {
            parent.auto_prefix_streams = false;
        }
        let child = narrowing.child_of(&parent);
        let f = fixture();
        // The parent is valid by construction (it may issue tokens, and auto-prefixes only with a
        // prefix stream scope): a refusal is a failure, not a case to skip.
        let parent_token = match f.authority.issue(Issuer::Root, &parent) {
            Ok(issued) => issued.token.expose_secret().to_owned(),
            Err(e) => return Err(TestCaseError::fail(format!("valid parent refused: {e}"))),
        };
        // About three children in four are refused (broader than the parent, or invalid); only an
        // issued child counts as a case, so the configured number of cases derive a token.
        let child_token = f.authority.issue(Issuer::Token(&parent_token), &child);
        prop_assume!(child_token.is_ok());
        let child_token = child_token.unwrap().token.expose_secret().to_owned();
        let p = f.authority.verify(&parent_token).unwrap();
        let c = f.authority.verify(&child_token).unwrap();
        prop_assert!(c.scope().effective_ops().is_subset_of(p.scope().effective_ops()));
        prop_assert!(c.scope().basins.is_subset_of(&p.scope().basins));
        prop_assert!(c.scope().streams.is_subset_of(&p.scope().streams));
        prop_assert!(c.scope().access_tokens.is_subset_of(&p.scope().access_tokens));
        if let Some(limit) = p.claims().expires_at {
            prop_assert!(c.claims().expires_at.is_some_and(|e| e <= limit));
        }
        if p.stream_namespace().is_some() {
            prop_assert!(c.stream_namespace().is_some());
        }
        // Random probes mostly fall outside the child's scope; these fall inside it, one per
        // operation the child holds whose resources it reaches, so every case checks the parent
        // against requests the child is really allowed.
        let inside = |set: &ResourceSet| match set {
            ResourceSet::None => None,
            ResourceSet::Exact(name) => Some(name.clone()),
            ResourceSet::Prefix(prefix) => Some(format!("{prefix}x")),
        };
        let basin_inside = inside(&c.scope().basins);
        // As the holder names it: relative to its namespace when it auto-prefixes.
        let stream_inside = inside(&c.scope().streams).and_then(|abs| match c.stream_namespace() {
            Some(ns) => abs.strip_prefix(ns).map(str::to_owned),
            None => Some(abs),
        });
        let id_inside = inside(&c.scope().access_tokens);
        let mut targeted = Vec::new();
        for op in Operation::ALL {
            if !c.scope().effective_ops().contains(op) {
                continue;
            }
            let (basin, stream, id) = match op.target() {
                Target::Account => (String::new(), String::new(), String::new()),
                Target::Basin => match &basin_inside {
                    Some(b) => (b.clone(), String::new(), String::new()),
                    None => continue,
                },
                Target::Stream => match (&basin_inside, &stream_inside) {
                    (Some(b), Some(st)) if !st.is_empty() => (b.clone(), st.clone(), String::new()),
                    _ => continue,
                },
                Target::AccessToken => match &id_inside {
                    Some(i) => (String::new(), String::new(), i.clone()),
                    None => continue,
                },
            };
            let allowed = c.authorize(&request_for(op, &basin, &stream, &id));
            prop_assert!(allowed.is_ok(), "inside the child's scope yet refused: {op} {basin:?} {stream:?} {id:?}");
            targeted.push((op, basin, stream, id));
        }
        prop_assert!(!targeted.is_empty() || c.scope().effective_ops().iter().all(|op| op.target() != Target::Account));
        for (op, basin, stream, id) in probes.iter().chain(&targeted) {
            let Ok(allowed) = c.authorize(&request_for(*op, basin, stream, id)) else { continue };
            // Whatever the child may touch (in absolute names), the parent may touch too.
            let absolute = allowed.effective_stream().map(str::to_owned);
            // Auto-prefixing skips the stream-scope match as true by construction: hold both ways of
            // authorizing (from a verified token, and straight from the string) to that.
            let request = request_for(*op, basin, stream, id);
            let from_string = f.authority.authorize(&child_token, &request);
            prop_assert!(from_string.is_ok(), "{op} allowed by the verified token only");
            let from_string = from_string.unwrap();
            prop_assert_eq!(from_string.effective_stream(), absolute.as_deref());
            if let Some(abs) = &absolute {
                prop_assert!(c.scope().streams.matches(abs), "{op} allowed {abs:?} outside the stream scope");
            }
            let relative_to_parent = match (&absolute, p.stream_namespace()) {
                (Some(abs), Some(ns)) => abs.strip_prefix(ns).map(str::to_owned),
                (abs, _) => abs.clone(),
            };
            prop_assert!(absolute.is_none() || relative_to_parent.is_some());
            let stream_for_parent = relative_to_parent.as_deref().unwrap_or(stream);
            let parent_request = request_for(*op, basin, stream_for_parent, id);
            let by_parent = p.authorize(&parent_request);
            prop_assert!(by_parent.is_ok(), "{op} {basin:?} {stream:?} {id:?}");
            let by_parent = by_parent.unwrap();
            prop_assert_eq!(by_parent.effective_stream(), absolute.as_deref());
        }
    }

    #[test]
    fn any_single_bit_change_fails_verification(req in request("t"), bit in any::<prop::sample::Index>()) {
        let f = fixture();
        // About one request in three is invalid (auto-prefix without a prefix scope, no operation).
        let issued = f.authority.issue(Issuer::Root, &req);
        prop_assume!(issued.is_ok());
        let issued = issued.unwrap();
        let token = issued.token.expose_secret().as_bytes().to_vec();
        let at = bit.index(token.len() * 8);
        let mut flipped = token.clone();
        flipped[at / 8] ^= 1 << (at % 8);
        if let Ok(s) = String::from_utf8(flipped) {
            let err = f.authority.verify(&s).unwrap_err();
            prop_assert!(err.is_authn());
        }
        // The same bit position within the sealed bytes, re-encoded: it reaches the cipher.
        let text = issued.token.expose_secret();
        // `sktok1_<key id>_<payload>`: the payload's alphabet has `_` too, the key id has none.
        let key_id_end = "sktok1_".len() + text["sktok1_".len()..].find('_').unwrap();
        let (head, payload) = text.split_at(key_id_end + 1);
        let mut sealed = URL_SAFE_NO_PAD.decode(payload).unwrap();
        let at = bit.index(sealed.len() * 8);
        sealed[at / 8] ^= 1 << (at % 8);
        let flipped = format!("{head}{}", URL_SAFE_NO_PAD.encode(&sealed));
        prop_assert_eq!(f.authority.verify(&flipped).unwrap_err(), TokenError::Unauthentic);
    }

    #[test]
    fn claims_round_trip(
        scope in scope(),
        auto in any::<bool>(),
        issued_at in -1_000_000i64..4_000_000_000,
        expires_at in proptest::option::of(-1_000_000i64..4_000_000_000),
        chain in proptest::collection::vec("[a-z/]{1,12}", 0..4),
        keys in proptest::collection::btree_map("[A-Za-z0-9]{1,16}", any::<[u8; 6]>(), 0..4),
    ) {
        // Sorted by id and distinct, as the format wants them, and no more than the chain is deep.
        let issuer_keys: Vec<IssuerKey> = keys
            .into_iter()
            .take(chain.len())
            .map(|(id, fingerprint)| IssuerKey { id, fingerprint })
            .collect();
        let claims = TokenClaims {
            id: "token-id".into(),
            scope,
            auto_prefix_streams: auto,
            issued_at,
            expires_at,
            chain,
            issuer_keys,
        };
        match claims.encode() {
            Ok(bytes) => {
                let decoded = TokenClaims::decode(&bytes).unwrap();
                prop_assert_eq!(decoded.encode().unwrap(), bytes.clone());
                let mut expected = claims.clone();
                if expected.scope.basins == ResourceSet::Exact(String::new()) {
                    expected.scope.basins = ResourceSet::None;
                }
                prop_assert_eq!(decoded, expected);
                let view = ClaimsView::parse(&bytes).unwrap();
                prop_assert_eq!(view.effective_ops, claims.scope.effective_ops());
                prop_assert_eq!(view.chain().collect::<Vec<_>>(), claims.chain.iter().map(String::as_str).collect::<Vec<_>>());
                prop_assert_eq!(view.issuer_keys().collect::<Vec<_>>(), claims.issuer_keys.iter().map(|k| (k.id.as_str(), k.fingerprint)).collect::<Vec<_>>());
            }
            Err(e) => {
                // Only an empty permission set or auto-prefix without a prefix scope is refused.
                prop_assert_eq!(e.code(), "invalid");
                prop_assert!(claims.scope.effective_ops() == OpSet::empty()
                    || (auto && !matches!(claims.scope.streams, ResourceSet::Prefix(_))));
            }
        }
    }

    #[test]
    fn issue_request_json_round_trips(req in any_request()) {
        let json = serde_json::to_vec(&req).unwrap();
        let parsed = IssueRequest::from_json(&json);
        prop_assert!(parsed.is_ok(), "{}: {:?}", String::from_utf8_lossy(&json), parsed.err());
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed, &req);
        // The crate's own serializer gives the same bytes, and they are stable.
        prop_assert_eq!(req.to_json(), json.clone());
        prop_assert_eq!(parsed.to_json(), json);
    }

    #[test]
    fn claims_decoder_is_total(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(claims) = TokenClaims::decode(&bytes) {
            prop_assert_eq!(claims.encode().unwrap(), bytes);
        }
    }

    #[test]
    fn mutated_claims_never_panic_and_stay_canonical(
        scope in scope(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        rotated in any::<bool>(),
    ) {
        let claims = TokenClaims {
            id: "t".into(), scope, auto_prefix_streams: false, issued_at: 0, expires_at: Some(1),
            chain: vec!["p".into(), "q".into()],
            issuer_keys: if rotated {
                vec![IssuerKey { id: "k0".into(), fingerprint: [0; 6] }, IssuerKey { id: "k1".into(), fingerprint: [0xfb; 6] }]
            } else {
                Vec::new()
            },
        };
        let encoded = claims.encode();
        // Only a scope without any operation is refused (rare).
        prop_assume!(encoded.is_ok());
        let mut bytes = encoded.unwrap();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        if let Ok(decoded) = TokenClaims::decode(&bytes) {
            prop_assert_eq!(decoded.encode().unwrap(), bytes);
        }
    }
}
