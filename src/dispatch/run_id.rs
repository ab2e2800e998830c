//! Run ids: short, sortable by time, unique enough to name files and markers.

use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new run id: 10 characters of milliseconds since the epoch and 6 of random bits, in
/// Crockford base32, like a ULID. Ids sort by time; within one process they strictly increase,
/// even within one millisecond, and the random part keeps processes started together apart.
pub fn new() -> String {
    static LAST: Mutex<(u64, u64)> = Mutex::new((0, 0));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let millis = u64::try_from(now.as_millis()).unwrap_or(u64::MAX);
    let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
    *last = if millis <= last.0 {
        (last.0, last.1 + 1)
    } else {
        // 29 of the 30 bits, so increments within one millisecond do not wrap.
        let seed =
            u64::from(now.subsec_nanos()) ^ u64::from(std::process::id()).wrapping_mul(0x9E37_79B9);
        (millis, seed & 0x1FFF_FFFF)
    };
    let (millis, random) = *last;
    let mut id = String::with_capacity(16);
    for (value, digits) in [(millis, 10), (random, 6)] {
        for digit in (0..digits).rev() {
            id.push(char::from(
                CROCKFORD[((value >> (digit * 5)) & 31) as usize],
            ));
        }
    }
    id
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_sixteen_crockford_characters_and_increase() {
        let ids: Vec<String> = (0..2000).map(|_| super::new()).collect();
        assert!(ids.iter().all(|id| id.len() == 16));
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
        assert!(
            ids[0].starts_with("01"),
            "milliseconds until the year 10889: {}",
            ids[0]
        );
        assert!(!ids.concat().contains(['I', 'L', 'O', 'U']));
    }
}
