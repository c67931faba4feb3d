//! The scope model of the reference (S2): resource sets, operations, operation groups, and the
//! "no broader than" relation between scopes.
//!
//! The JSON forms are the reference's own: `{"exact": "name"}` / `{"prefix": "p"}` with
//! `{"exact": ""}` matching nothing and `{"prefix": ""}` matching everything; kebab-case operation
//! names; `op_groups` as `{"account": {"read": true, "write": false}, …}`. An omitted (or `null`)
//! field means "nothing".

use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::TokenError;

/// Longest access token id, in bytes (the reference's bound).
pub const MAX_TOKEN_ID_LEN: usize = 96;

/// Longest basin or stream name (or prefix) a scope may hold, in bytes. S2 stream names are at
/// most 512 bytes and basin names at most 48, so every real name fits.
pub const MAX_RESOURCE_NAME_LEN: usize = 512;

/// One operation a token may be allowed to perform, named as the reference names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// `list-basins`
    ListBasins,
    /// `create-basin`
    CreateBasin,
    /// `delete-basin`
    DeleteBasin,
    /// `reconfigure-basin`
    ReconfigureBasin,
    /// `get-basin-config`
    GetBasinConfig,
    /// `issue-access-token`
    IssueAccessToken,
    /// `revoke-access-token`
    RevokeAccessToken,
    /// `list-access-tokens`
    ListAccessTokens,
    /// `list-streams`
    ListStreams,
    /// `create-stream`
    CreateStream,
    /// `delete-stream`
    DeleteStream,
    /// `get-stream-config`
    GetStreamConfig,
    /// `reconfigure-stream`
    ReconfigureStream,
    /// `check-tail`
    CheckTail,
    /// `append`
    Append,
    /// `read`
    Read,
    /// `trim` (a trim command record needs this as well as `append`)
    Trim,
    /// `fence` (a fence command record needs this as well as `append`)
    Fence,
    /// `account-metrics`
    AccountMetrics,
    /// `basin-metrics`
    BasinMetrics,
    /// `stream-metrics`
    StreamMetrics,
}

/// Which resources an operation names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Nothing (account-wide, or a listing whose results are filtered).
    Account,
    /// A basin.
    Basin,
    /// A stream within a basin.
    Stream,
    /// An access token id.
    AccessToken,
}

/// The three operation groups of the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpGroup {
    /// Account-level operations.
    Account,
    /// Basin-level operations.
    Basin,
    /// Stream-level operations.
    Stream,
}

impl Operation {
    /// Every operation, in the reference's order (which is also the bit order in sealed claims).
    pub const ALL: [Operation; 21] = [
        Self::ListBasins,
        Self::CreateBasin,
        Self::DeleteBasin,
        Self::ReconfigureBasin,
        Self::GetBasinConfig,
        Self::IssueAccessToken,
        Self::RevokeAccessToken,
        Self::ListAccessTokens,
        Self::ListStreams,
        Self::CreateStream,
        Self::DeleteStream,
        Self::GetStreamConfig,
        Self::ReconfigureStream,
        Self::CheckTail,
        Self::Append,
        Self::Read,
        Self::Trim,
        Self::Fence,
        Self::AccountMetrics,
        Self::BasinMetrics,
        Self::StreamMetrics,
    ];

    /// The kebab-case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ListBasins => "list-basins",
            Self::CreateBasin => "create-basin",
            Self::DeleteBasin => "delete-basin",
            Self::ReconfigureBasin => "reconfigure-basin",
            Self::GetBasinConfig => "get-basin-config",
            Self::IssueAccessToken => "issue-access-token",
            Self::RevokeAccessToken => "revoke-access-token",
            Self::ListAccessTokens => "list-access-tokens",
            Self::ListStreams => "list-streams",
            Self::CreateStream => "create-stream",
            Self::DeleteStream => "delete-stream",
            Self::GetStreamConfig => "get-stream-config",
            Self::ReconfigureStream => "reconfigure-stream",
            Self::CheckTail => "check-tail",
            Self::Append => "append",
            Self::Read => "read",
            Self::Trim => "trim",
            Self::Fence => "fence",
            Self::AccountMetrics => "account-metrics",
            Self::BasinMetrics => "basin-metrics",
            Self::StreamMetrics => "stream-metrics",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The group and side (`true` = write) that grants this operation.
    ///
    /// The split follows the reference's authorization policy: account read = list basins and
    /// account metrics; account write = create and delete basins; basin read = basin config,
    /// stream listing, token listing, basin metrics; basin write = reconfigure basin, create and
    /// delete streams, issue and revoke tokens; stream read = stream config, check tail, read,
    /// stream metrics; stream write = reconfigure stream, append, trim, fence.
    pub const fn group(self) -> (OpGroup, bool) {
        use OpGroup::{Account, Basin, Stream};
        match self {
            Self::ListBasins | Self::AccountMetrics => (Account, false),
            Self::CreateBasin | Self::DeleteBasin => (Account, true),
            Self::GetBasinConfig
            | Self::ListStreams
            | Self::ListAccessTokens
            | Self::BasinMetrics => (Basin, false),
            Self::ReconfigureBasin
            | Self::CreateStream
            | Self::DeleteStream
            | Self::IssueAccessToken
            | Self::RevokeAccessToken => (Basin, true),
            Self::GetStreamConfig | Self::CheckTail | Self::Read | Self::StreamMetrics => {
                (Stream, false)
            }
            Self::ReconfigureStream | Self::Append | Self::Trim | Self::Fence => (Stream, true),
        }
    }

    /// The resource the operation names, which the authorizer checks against the scope.
    pub const fn target(self) -> Target {
        match self {
            Self::ListBasins | Self::AccountMetrics | Self::ListAccessTokens => Target::Account,
            Self::CreateBasin
            | Self::DeleteBasin
            | Self::ReconfigureBasin
            | Self::GetBasinConfig
            | Self::ListStreams
            | Self::BasinMetrics => Target::Basin,
            Self::IssueAccessToken | Self::RevokeAccessToken => Target::AccessToken,
            Self::CreateStream
            | Self::DeleteStream
            | Self::GetStreamConfig
            | Self::ReconfigureStream
            | Self::CheckTail
            | Self::Append
            | Self::Read
            | Self::Trim
            | Self::Fence
            | Self::StreamMetrics => Target::Stream,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much of an unknown operation name its error repeats.
const MAX_SHOWN_OPERATION_CHARS: usize = 40;

impl FromStr for Operation {
    type Err = TokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str() == s)
            .ok_or_else(|| {
                // Operation names are short: a few dozen characters of the input say which it
                // was, and keep the message short enough that serde, quoting it, cuts nothing.
                let shown: String = s.chars().take(MAX_SHOWN_OPERATION_CHARS).collect();
                let more = if shown.len() < s.len() { "…" } else { "" };
                TokenError::invalid(format!("unknown operation \"{shown}{more}\""))
            })
    }
}

impl Serialize for Operation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(D::Error::custom)
    }
}

/// A set of operations (a bit set; cheap to copy and compare).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OpSet(u32);

impl OpSet {
    /// Bits that name an operation; any other bit is invalid in sealed claims.
    pub(crate) const VALID_BITS: u32 = (1 << Operation::ALL.len()) - 1;

    /// The empty set.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Every operation.
    pub const fn all() -> Self {
        Self(Self::VALID_BITS)
    }

    /// The set holding `ops`.
    pub fn of(ops: &[Operation]) -> Self {
        ops.iter().fold(Self::empty(), |set, op| set.with(*op))
    }

    /// This set plus `op`.
    #[must_use]
    pub fn with(self, op: Operation) -> Self {
        Self(self.0 | op.bit())
    }

    /// Adds `op`.
    pub fn insert(&mut self, op: Operation) {
        self.0 |= op.bit();
    }

    /// True if `op` is in the set.
    pub fn contains(self, op: Operation) -> bool {
        self.0 & op.bit() != 0
    }

    /// True if the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The union of two sets.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// True if every operation of `self` is in `other`.
    pub fn is_subset_of(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// True if an operation in the set names `target`.
    pub fn targets(self, target: Target) -> bool {
        self.0 & TARGET_MASKS[target as usize] != 0
    }

    /// The operations, in the reference's order.
    pub fn iter(self) -> impl Iterator<Item = Operation> {
        Operation::ALL
            .into_iter()
            .filter(move |op| self.contains(*op))
    }

    pub(crate) fn bits(self) -> u32 {
        self.0
    }

    pub(crate) fn from_bits(bits: u32) -> Option<Self> {
        (bits & !Self::VALID_BITS == 0).then_some(Self(bits))
    }
}

impl fmt::Debug for OpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Operation::as_str))
            .finish()
    }
}

impl FromIterator<Operation> for OpSet {
    fn from_iter<I: IntoIterator<Item = Operation>>(iter: I) -> Self {
        iter.into_iter().fold(Self::empty(), Self::with)
    }
}

impl Serialize for OpSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for OpSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ops = Option::<Vec<Operation>>::deserialize(deserializer)?;
        Ok(ops.unwrap_or_default().into_iter().collect())
    }
}

/// Read and write permission within one operation group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadWritePermissions {
    /// The group's read operations.
    #[serde(default, deserialize_with = "nullable")]
    pub read: bool,
    /// The group's write operations.
    #[serde(default, deserialize_with = "nullable")]
    pub write: bool,
}

/// Permissions by operation group (`op_groups` in the reference's JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpGroups {
    /// Account-level operations.
    #[serde(default, deserialize_with = "nullable")]
    pub account: ReadWritePermissions,
    /// Basin-level operations.
    #[serde(default, deserialize_with = "nullable")]
    pub basin: ReadWritePermissions,
    /// Stream-level operations.
    #[serde(default, deserialize_with = "nullable")]
    pub stream: ReadWritePermissions,
}

impl OpGroups {
    /// The operations these groups grant.
    pub fn operations(self) -> OpSet {
        Self::operations_of_bits(self.bits())
    }

    /// The operations granted by the groups set in `bits` (laid out as [`OpGroups::bits`]; only
    /// the low six bits count).
    #[inline]
    pub(crate) fn operations_of_bits(bits: u8) -> OpSet {
        OpSet(OPS_OF_GROUP_BITS[usize::from(bits & 0b11_1111)])
    }

    pub(crate) fn bits(self) -> u8 {
        [
            self.account.read,
            self.account.write,
            self.basin.read,
            self.basin.write,
            self.stream.read,
            self.stream.write,
        ]
        .iter()
        .enumerate()
        .fold(0, |acc, (i, on)| acc | (u8::from(*on) << i))
    }

    pub(crate) fn from_bits(bits: u8) -> Option<Self> {
        if bits & !0b11_1111 != 0 {
            return None;
        }
        let on = |i: u8| bits & (1 << i) != 0;
        Some(Self {
            account: ReadWritePermissions {
                read: on(0),
                write: on(1),
            },
            basin: ReadWritePermissions {
                read: on(2),
                write: on(3),
            },
            stream: ReadWritePermissions {
                read: on(4),
                write: on(5),
            },
        })
    }
}

/// The operations of each group side, indexed like the bits of [`OpGroups::bits`]:
/// account read, account write, basin read, basin write, stream read, stream write.
const GROUP_MASKS: [u32; 6] = group_masks();

/// [`OpGroups::operations`] for every combination of group bits, so verification looks it up.
const OPS_OF_GROUP_BITS: [u32; 64] = ops_of_group_bits();

const fn ops_of_group_bits() -> [u32; 64] {
    let mut table = [0u32; 64];
    let mut bits = 0;
    while bits < 64 {
        let mut slot = 0;
        while slot < GROUP_MASKS.len() {
            if bits & (1 << slot) != 0 {
                table[bits] |= GROUP_MASKS[slot];
            }
            slot += 1;
        }
        bits += 1;
    }
    table
}

const fn group_masks() -> [u32; 6] {
    let mut masks = [0u32; 6];
    let mut i = 0;
    while i < Operation::ALL.len() {
        let (group, write) = Operation::ALL[i].group();
        let slot = (group as usize) * 2 + (write as usize);
        masks[slot] |= 1 << i;
        i += 1;
    }
    masks
}

/// The operations naming each [`Target`], indexed by the target's discriminant.
const TARGET_MASKS: [u32; 4] = target_masks();

const fn target_masks() -> [u32; 4] {
    let mut masks = [0u32; 4];
    let mut i = 0;
    while i < Operation::ALL.len() {
        masks[Operation::ALL[i].target() as usize] |= 1 << i;
        i += 1;
    }
    masks
}

/// A set of resource names: nothing, one exact name, or every name with a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ResourceSet {
    /// No resource (`{"exact": ""}`, or the field omitted).
    #[default]
    None,
    /// Exactly this (non-empty) name.
    Exact(String),
    /// Every name starting with this prefix; the empty prefix is every name.
    Prefix(String),
}

impl ResourceSet {
    /// Every name (`{"prefix": ""}`).
    pub fn all() -> Self {
        Self::Prefix(String::new())
    }

    /// A borrowed view, for matching without allocation. `Exact("")`, which JSON never gives
    /// but code can build, is the empty set, as `{"exact": ""}` is: every rule goes through
    /// this view, so none can treat it as a name.
    pub fn as_view(&self) -> ResourceSetView<'_> {
        match self {
            Self::None => ResourceSetView::None,
            Self::Exact(name) if name.is_empty() => ResourceSetView::None,
            Self::Exact(name) => ResourceSetView::Exact(name),
            Self::Prefix(prefix) => ResourceSetView::Prefix(prefix),
        }
    }

    /// True if `name` is in the set.
    pub fn matches(&self, name: &str) -> bool {
        self.as_view().matches(name)
    }

    /// True if every name in `self` is also in `other`.
    pub fn is_subset_of(&self, other: &Self) -> bool {
        self.as_view().is_subset_of(other.as_view())
    }

    fn longest_name(&self) -> usize {
        match self {
            Self::None => 0,
            Self::Exact(s) | Self::Prefix(s) => s.len(),
        }
    }
}

/// The reference's wire form: an object with exactly one of `exact` / `prefix`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum WireResourceSet {
    Exact(String),
    Prefix(String),
}

impl Serialize for ResourceSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wire = match self {
            Self::None => WireResourceSet::Exact(String::new()),
            Self::Exact(name) => WireResourceSet::Exact(name.clone()),
            Self::Prefix(prefix) => WireResourceSet::Prefix(prefix.clone()),
        };
        wire.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ResourceSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(
            match Option::<WireResourceSet>::deserialize(deserializer)? {
                None => Self::None,
                Some(WireResourceSet::Exact(name)) if name.is_empty() => Self::None,
                Some(WireResourceSet::Exact(name)) => Self::Exact(name),
                Some(WireResourceSet::Prefix(prefix)) => Self::Prefix(prefix),
            },
        )
    }
}

/// A borrowed [`ResourceSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceSetView<'a> {
    /// No resource.
    None,
    /// Exactly this (non-empty) name.
    Exact(&'a str),
    /// Every name with this prefix.
    Prefix(&'a str),
}

impl<'a> ResourceSetView<'a> {
    /// True if `name` is in the set.
    pub fn matches(self, name: &str) -> bool {
        match self {
            Self::None => false,
            Self::Exact(exact) => !exact.is_empty() && name == exact,
            Self::Prefix(prefix) => name.starts_with(prefix),
        }
    }

    /// True if every name in `self` is also in `other`.
    pub fn is_subset_of(self, other: ResourceSetView<'_>) -> bool {
        match (self, other) {
            (Self::None, _) => true,
            (_, ResourceSetView::None) => false,
            (Self::Exact(a), ResourceSetView::Exact(b)) => a == b,
            (Self::Exact(a), ResourceSetView::Prefix(p)) => a.starts_with(p),
            // A prefix names unboundedly many resources; one exact name cannot cover them.
            (Self::Prefix(_), ResourceSetView::Exact(_)) => false,
            (Self::Prefix(q), ResourceSetView::Prefix(p)) => q.starts_with(p),
        }
    }

    /// An owned copy.
    pub fn to_owned_set(self) -> ResourceSet {
        match self {
            Self::None => ResourceSet::None,
            Self::Exact(name) => ResourceSet::Exact(name.to_owned()),
            Self::Prefix(prefix) => ResourceSet::Prefix(prefix.to_owned()),
        }
    }

    /// The prefix, when the set is a prefix set.
    pub fn prefix(self) -> Option<&'a str> {
        match self {
            Self::Prefix(p) => Some(p),
            _ => None,
        }
    }
}

/// What a token may touch and do: the `scope` object of the reference's issue request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessTokenScope {
    /// Basin names allowed.
    #[serde(default, skip_serializing_if = "is_none_set")]
    pub basins: ResourceSet,
    /// Stream names allowed.
    #[serde(default, skip_serializing_if = "is_none_set")]
    pub streams: ResourceSet,
    /// Access token ids allowed (for issuing, revoking and listing tokens).
    #[serde(default, skip_serializing_if = "is_none_set")]
    pub access_tokens: ResourceSet,
    /// Operations granted by group.
    #[serde(default, deserialize_with = "nullable")]
    pub op_groups: OpGroups,
    /// Operations granted one by one.
    #[serde(default)]
    pub ops: OpSet,
}

impl AccessTokenScope {
    /// The operations the token may perform: the union of `ops` and `op_groups`.
    pub fn effective_ops(&self) -> OpSet {
        self.ops.union(self.op_groups.operations())
    }

    /// Checks the reference's rules for a scope standing on its own: permissions not empty, and
    /// names within the bounds this crate seals.
    pub fn validate(&self) -> Result<(), TokenError> {
        if self.effective_ops().is_empty() {
            return Err(TokenError::invalid(
                "Access token permissions cannot be empty",
            ));
        }
        for (what, set, max) in [
            ("basin", &self.basins, MAX_RESOURCE_NAME_LEN),
            ("stream", &self.streams, MAX_RESOURCE_NAME_LEN),
            ("access token", &self.access_tokens, MAX_TOKEN_ID_LEN),
        ] {
            if set.longest_name() > max {
                return Err(TokenError::invalid(format!(
                    "{what} scope names must not exceed {max} bytes"
                )));
            }
            if let ResourceSet::Exact(s) | ResourceSet::Prefix(s) = set
                && has_nul(s)
            {
                return Err(TokenError::invalid(format!(
                    "{what} scope names must not contain NUL"
                )));
            }
        }
        Ok(())
    }
}

fn is_none_set(set: &ResourceSet) -> bool {
    set.as_view() == ResourceSetView::None
}

/// Deserializes `null` as the type's default, as the reference's optional fields allow.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// True if `s` holds a control character (Unicode category Cc: U+0000–U+001F, U+007F–U+009F).
///
/// Works on the UTF-8 bytes, eight at a time: it runs over every id of a token on every
/// verification.
#[inline]
pub(crate) fn has_control_character(s: &str) -> bool {
    let c0_or_del = any_word(s.as_bytes(), |word| {
        lanes_below(word, 0x20) | lanes_equal(word, 0x7f)
    });
    // U+0080–U+009F are encoded as C2 80 … C2 9F.
    c0_or_del || (!s.is_ascii() && s.as_bytes().windows(2).any(|w| w[0] == 0xc2 && w[1] < 0xa0))
}

/// True if `s` holds a NUL byte.
#[inline]
pub(crate) fn has_nul(s: &str) -> bool {
    any_word(s.as_bytes(), |word| lanes_equal(word, 0))
}

const LOW_BITS: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGH_BITS: u64 = u64::from_ne_bytes([0x80; 8]);
/// What the last, short word is padded with: a byte no check looks for.
const PAD: u8 = b'A';

/// True if `test` is non-zero for any 64-bit word of `bytes`. Each test only asks whether some
/// byte matches, so a last partial word is read as the last eight bytes, overlapping the word
/// before it; under eight bytes, the bytes are padded with [`PAD`].
#[inline]
fn any_word(bytes: &[u8], test: impl Fn(u64) -> u64) -> bool {
    let word = |chunk: &[u8]| {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        u64::from_ne_bytes(word)
    };
    let Some(last) = bytes.len().checked_sub(8) else {
        let padded = bytes.iter().fold(LOW_BITS * u64::from(PAD), |word, &b| {
            (word << 8) | u64::from(b)
        });
        return test(padded) != 0;
    };
    let mut found = test(word(&bytes[last..]));
    for chunk in bytes.chunks_exact(8) {
        found |= test(word(chunk));
    }
    found != 0
}

/// Non-zero if a byte of `word` is below `n` (at most 0x80). A borrow can only start in a byte
/// that is below `n`, so whether the result is zero is exact (the classic "has less" bit trick),
/// though which high bits are set is not.
#[inline]
fn lanes_below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(LOW_BITS * u64::from(n)) & !word & HIGH_BITS
}

/// Non-zero if a byte of `word` equals `b` (exact in the same sense as [`lanes_below`]).
#[inline]
fn lanes_equal(word: u64, b: u8) -> u64 {
    lanes_below(word ^ (LOW_BITS * u64::from(b)), 1)
}

/// The length and dot rules of a token id, each able to say which one an id breaks: issuing
/// reports the rule, while the claims decoder only asks whether one is broken (it scans all the
/// ids of a token for control characters in one pass instead).
#[derive(Debug, Clone, Copy)]
enum IdShapeFault {
    Empty,
    TooLong,
    Dots,
}

impl IdShapeFault {
    #[inline]
    fn of(id: &str) -> Option<Self> {
        match id.len() {
            0 => Some(Self::Empty),
            len if len > MAX_TOKEN_ID_LEN => Some(Self::TooLong),
            _ if id == "." || id == ".." => Some(Self::Dots),
            _ => None,
        }
    }

    fn error(self) -> TokenError {
        match self {
            Self::Empty => TokenError::invalid("access token id must not be empty"),
            Self::TooLong => TokenError::invalid(format!(
                "access token id must not exceed {MAX_TOKEN_ID_LEN} bytes in length"
            )),
            Self::Dots => TokenError::invalid("access token id must not be \".\" or \"..\""),
        }
    }
}

/// True if `id` keeps the length and dot rules of [`validate_token_id`] (control characters are
/// checked separately).
#[inline]
pub(crate) fn has_token_id_shape(id: &str) -> bool {
    IdShapeFault::of(id).is_none()
}

/// Checks an access token id: 1..=96 bytes, not `.` or `..`, no control characters.
pub fn validate_token_id(id: &str) -> Result<(), TokenError> {
    if let Some(fault) = IdShapeFault::of(id) {
        return Err(fault.error());
    }
    if has_control_character(id) {
        return Err(TokenError::invalid(
            "access token id must not contain control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{has_control_character, has_nul};

    #[test]
    fn word_at_a_time_checks_match_byte_at_a_time() {
        // Every special byte at every position of strings up to three words long, so each one
        // lands in a full word and in the padded tail.
        for len in 1..=24 {
            for at in 0..len {
                for special in [0u8, 0x01, 0x1f, 0x20, 0x7e, 0x7f, b'A'] {
                    let mut bytes = vec![b'x'; len];
                    bytes[at] = special;
                    let s = std::str::from_utf8(&bytes).unwrap();
                    assert_eq!(has_nul(s), special == 0, "{s:?}");
                    assert_eq!(
                        has_control_character(s),
                        special < 0x20 || special == 0x7f,
                        "{s:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn control_characters_match_the_unicode_category() {
        for c in (0u32..0x800).filter_map(char::from_u32) {
            let s = format!("a{c}b");
            assert_eq!(
                has_control_character(&s),
                c.is_control(),
                "U+{:04X}",
                c as u32
            );
        }
        assert!(!has_control_character("€ ok ¡"));
    }
}
