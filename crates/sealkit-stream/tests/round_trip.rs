//! Property tests: whatever is sealed opens to the same bytes, for both ciphers, record sizes from
//! empty to 1 MiB, with and without sequence numbers, through every sealing and opening entry point.

use proptest::prelude::*;
use sealkit_stream::record;
use sealkit_stream::{EncryptionKey, RecordSealer, StreamCipher, StreamIdentity};

const MIB: usize = 1 << 20;

/// Mostly small records, some medium, a few up to 1 MiB, and 1 MiB exactly now and then.
fn record_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        12 => 0usize..=64,
        4 => 65usize..=4096,
        2 => 4097usize..=MIB,
        1 => Just(MIB),
    ]
}

fn cipher() -> impl Strategy<Value = StreamCipher> {
    prop_oneof![Just(StreamCipher::Aegis256), Just(StreamCipher::Aes256Gcm)]
}

/// Deterministic bytes from a seed: `proptest::collection::vec` of a MiB is too slow unoptimised.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = vec![0u8; len.next_multiple_of(8)];
    for chunk in out.chunks_exact_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The ways to seal one record.
#[derive(Clone, Copy, Debug)]
enum SealWith {
    Seal,
    /// `seal_into` a buffer that already holds other bytes.
    SealInto,
    /// `seal_in_place` with junk where the header and tag go.
    SealInPlace,
}

/// The ways to open one record.
#[derive(Clone, Copy, Debug)]
enum OpenWith {
    Open,
    /// `open_into` a buffer that already holds other bytes.
    OpenInto,
    OpenInPlace,
}

const SEAL_WITH: [SealWith; 3] = [SealWith::Seal, SealWith::SealInto, SealWith::SealInPlace];
const OPEN_WITH: [OpenWith; 3] = [OpenWith::Open, OpenWith::OpenInto, OpenWith::OpenInPlace];

fn seal_with(sealer: &RecordSealer, how: SealWith, plaintext: &[u8], seq: Option<u64>) -> Vec<u8> {
    match how {
        SealWith::Seal => sealer.seal(plaintext, seq).unwrap(),
        SealWith::SealInto => {
            let mut out = b"earlier".to_vec();
            sealer.seal_into(plaintext, seq, &mut out).unwrap();
            assert_eq!(&out[..7], b"earlier", "seal_into kept what was there");
            out.split_off(7)
        }
        SealWith::SealInPlace => {
            let header = sealer.format().header_len();
            let mut buf = vec![0xa5; sealer.sealed_len(plaintext.len())];
            buf[header..header + plaintext.len()].copy_from_slice(plaintext);
            sealer.seal_in_place(&mut buf, seq).unwrap();
            buf
        }
    }
}

fn open_with(sealer: &RecordSealer, how: OpenWith, record: &[u8], seq: Option<u64>) -> Vec<u8> {
    match how {
        OpenWith::Open => sealer.open(record, seq).unwrap(),
        OpenWith::OpenInto => {
            let mut out = b"prefix".to_vec();
            sealer.open_into(record, seq, &mut out).unwrap();
            assert_eq!(&out[..6], b"prefix", "open_into kept what was there");
            out.split_off(6)
        }
        OpenWith::OpenInPlace => {
            let mut buf = record.to_vec();
            sealer.open_in_place(&mut buf, seq).unwrap().to_vec()
        }
    }
}

/// Seals with one entry point, checks the layout, and opens with another.
fn round_trip(
    sealer: &RecordSealer,
    (seal, open): (SealWith, OpenWith),
    plaintext: &[u8],
    seq: Option<u64>,
) {
    let format = sealer.format();
    let record = seal_with(sealer, seal, plaintext, seq);
    assert_eq!(record.len(), format.sealed_len(plaintext.len()), "{seal:?}");
    assert_eq!(record[0], format.byte(), "{seal:?}");
    assert_eq!(
        record::inspect(&record).unwrap().plaintext_len,
        plaintext.len()
    );
    let opened = open_with(sealer, open, &record, seq);
    // Not assert_eq!: a MiB of bytes in a failure message helps nobody.
    assert!(
        opened == plaintext,
        "{seal:?} then {open:?}: plaintext differs"
    );
}

/// A sequence number valid for `cipher`, leaving room for `count` records after it.
fn fit_seq(seq: Option<u64>, cipher: StreamCipher, count: u64) -> Option<u64> {
    let last_first = cipher.max_seq_num() - (count.max(1) - 1);
    // When `s` is out of range, `last_first` is below u64::MAX, so the modulus cannot overflow.
    seq.map(|s| {
        if s <= last_first {
            s
        } else {
            s % (last_first + 1)
        }
    })
}

fn sealer(cipher: StreamCipher, key: [u8; 32]) -> RecordSealer {
    let identity = StreamIdentity::new("basin", "stream")
        .unwrap()
        .with_incarnation(*b"inc")
        .unwrap();
    RecordSealer::new(cipher, &EncryptionKey::from_bytes(key), &identity)
}

fn seq_strategy() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![
        Just(None),
        any::<u64>().prop_map(Some),
        (0u64..4).prop_map(Some)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn seal_then_open_returns_the_plaintext(
        cipher in cipher(),
        len in record_len(),
        seed in any::<u64>(),
        seq in seq_strategy(),
        key in any::<[u8; 32]>(),
        seal in prop::sample::select(SEAL_WITH.to_vec()),
        open in prop::sample::select(OPEN_WITH.to_vec()),
    ) {
        let sealer = sealer(cipher, key);
        round_trip(&sealer, (seal, open), &bytes(len, seed), fit_seq(seq, cipher, 1));
    }

    #[test]
    fn seal_batch_then_open_batch_returns_every_plaintext(
        cipher in cipher(),
        lens in proptest::collection::vec(prop_oneof![8 => 0usize..=300, 1 => 301usize..=65536], 0..6),
        seed in any::<u64>(),
        seq in seq_strategy(),
        key in any::<[u8; 32]>(),
    ) {
        let sealer = sealer(cipher, key);
        let count = lens.len() as u64;
        let first = fit_seq(seq, cipher, count);
        let plaintexts: Vec<Vec<u8>> =
            lens.iter().enumerate().map(|(i, &len)| bytes(len, seed ^ i as u64)).collect();

        let records = sealer.seal_batch(&plaintexts, first).unwrap();
        prop_assert_eq!(records.len(), plaintexts.len());
        prop_assert!(sealer.open_batch(&records, first).unwrap() == plaintexts);
        for (i, (record, plaintext)) in records.iter().zip(&plaintexts).enumerate() {
            // Record i is bound to first + i and opens on its own there.
            let seq = first.map(|f| f + i as u64);
            prop_assert!(sealer.open(record, seq).unwrap() == *plaintext);
        }
    }

    #[test]
    fn a_sealer_rebuilt_from_the_same_key_and_identity_opens_the_records(
        cipher in cipher(),
        len in 0usize..=512,
        seed in any::<u64>(),
        seq in seq_strategy(),
        key in any::<[u8; 32]>(),
    ) {
        let seq = fit_seq(seq, cipher, 1);
        let plaintext = bytes(len, seed);
        let record = sealer(cipher, key).seal(&plaintext, seq).unwrap();
        let rebuilt = sealer(cipher, key);
        prop_assert!(rebuilt.open(&record, seq).unwrap() == plaintext);
    }
}

#[test]
fn every_seal_entry_point_opens_with_every_open_entry_point() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher, [0x44; 32]);
        for seal in SEAL_WITH {
            for open in OPEN_WITH {
                for len in [0, 1, 16, 33, 4096] {
                    for seq in [None, Some(0), Some(cipher.max_seq_num())] {
                        round_trip(&sealer, (seal, open), &bytes(len, len as u64), seq);
                    }
                }
            }
        }
    }
}

#[test]
fn each_seal_uses_a_fresh_nonce() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher, [0x55; 32]);
        let nonce = |record: &[u8]| record[1..1 + cipher.nonce_len()].to_vec();
        let nonces: std::collections::HashSet<_> = (0..200)
            .map(|_| nonce(&sealer.seal(b"same plaintext", Some(1)).unwrap()))
            .collect();
        assert_eq!(nonces.len(), 200, "{cipher}: a nonce repeated");
    }
}

#[test]
fn fit_seq_keeps_sequence_numbers_in_range() {
    for cipher in StreamCipher::ALL {
        for count in [0, 1, 5] {
            for seq in [0, 1, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
                let fitted = fit_seq(Some(seq), cipher, count).unwrap();
                let last = u128::from(fitted) + u128::from(count.max(1)) - 1;
                assert!(
                    last <= u128::from(cipher.max_seq_num()),
                    "{cipher} {count} {seq}"
                );
            }
        }
        assert_eq!(fit_seq(None, cipher, 3), None);
    }
}

#[test]
fn one_sealer_shared_by_threads_seals_and_opens_concurrently() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher, [0x33; 32]);
        std::thread::scope(|scope| {
            for thread in 0..4u64 {
                let sealer = &sealer;
                scope.spawn(move || {
                    for i in 0..50u64 {
                        let seq = thread * 1000 + i;
                        let plaintext = bytes(100 + i as usize, seq);
                        let record = sealer.seal(&plaintext, Some(seq)).unwrap();
                        assert_eq!(sealer.open(&record, Some(seq)).unwrap(), plaintext);
                        let unsequenced = sealer.seal(&plaintext, None).unwrap();
                        assert_eq!(sealer.open(&unsequenced, None).unwrap(), plaintext);
                    }
                });
            }
        });
    }
}

/// `open_into` appending to a buffer that already holds earlier plaintext and has no room left
/// keeps that plaintext and adds the new one in order. It must grow the buffer itself (moving the
/// contents and wiping the old block, which no safe test can read after it is freed); what can be
/// seen is that the result is right, that a buffer with room is not reallocated, and that growth
/// at least doubles, so appending many records reallocates only a few times.
#[test]
fn open_into_grows_a_full_buffer_keeping_the_earlier_plaintext() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher, [0x66; 32]);
        let first = sealer.seal(b"first plaintext", Some(1)).unwrap();
        let second = sealer.seal(b"second", Some(2)).unwrap();

        let mut out = Vec::with_capacity(4);
        sealer.open_into(&first, Some(1), &mut out).unwrap();
        assert_eq!(out, b"first plaintext");
        out.shrink_to_fit();
        assert_eq!(out.capacity(), out.len(), "{cipher}: no room left");
        sealer.open_into(&second, Some(2), &mut out).unwrap();
        assert_eq!(out, b"first plaintextsecond", "{cipher}");
        assert!(out.capacity() >= 2 * "first plaintext".len(), "{cipher}");

        // With room, nothing moves.
        out.reserve(64);
        let (at, room) = (out.as_ptr(), out.capacity());
        sealer.open_into(&first, Some(1), &mut out).unwrap();
        assert_eq!(out, b"first plaintextsecondfirst plaintext", "{cipher}");
        assert_eq!((out.as_ptr(), out.capacity()), (at, room), "{cipher}");

        // A failed open after growth leaves what was there, and it can grow again afterwards.
        out.shrink_to_fit();
        assert!(sealer.open_into(&second, Some(3), &mut out).is_err());
        assert_eq!(out, b"first plaintextsecondfirst plaintext", "{cipher}");
        sealer.open_into(&second, Some(2), &mut out).unwrap();
        assert_eq!(
            out, b"first plaintextsecondfirst plaintextsecond",
            "{cipher}"
        );

        // A thousand one-byte records into an empty buffer: a doubling buffer moves about ten
        // times, one grown to the exact size each time would move a thousand.
        let record = sealer.seal(b"x", None).unwrap();
        let mut out = Vec::new();
        let mut moves = 0;
        for _ in 0..1000 {
            let before = out.capacity();
            sealer.open_into(&record, None, &mut out).unwrap();
            moves += usize::from(out.capacity() != before);
        }
        assert_eq!(out, vec![b'x'; 1000], "{cipher}");
        assert!(moves <= 12, "{cipher}: {moves} reallocations");
    }
}
