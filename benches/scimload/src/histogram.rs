//! A latency histogram in the manner of HdrHistogram, small enough to read in one sitting: values (in
//! nanoseconds) below 256 get a bucket each; above, each power of two is split into 128 equal buckets,
//! so a reported percentile is never off by more than 1/128 (0.8%) of the true value. The maximum is kept
//! exactly. Each virtual user fills its own and they are merged at the end, so recording takes no lock.

/// Sub-buckets per power of two (a power of two itself).
const SUB: u64 = 128;
const SUB_BITS: u32 = SUB.trailing_zeros();
/// Enough buckets for every `u64`: the highest index is that of `u64::MAX`.
const BUCKETS: usize = bucket_of(u64::MAX) + 1;

/// Counts of recorded values by bucket, with their exact maximum and sum.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    max: u64,
    sum: u128,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram").field("count", &self.count).field("max", &self.max).finish_non_exhaustive()
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS].into_boxed_slice(), count: 0, max: 0, sum: 0 }
    }
}

/// The bucket of a value: the value itself below `2 * SUB`; above, the power of two (shift) and the top
/// `SUB_BITS + 1` bits of the value (mantissa, in `SUB..2 * SUB`).
const fn bucket_of(value: u64) -> usize {
    if value < 2 * SUB {
        return value as usize;
    }
    let shift = (63 - value.leading_zeros()) - SUB_BITS;
    let mantissa = value >> shift;
    (shift as u64 * SUB + mantissa) as usize
}

/// The largest value that falls into a bucket.
fn bucket_high(index: usize) -> u64 {
    let index = index as u64;
    if index < 2 * SUB {
        return index;
    }
    let shift = index / SUB - 1;
    let mantissa = index - shift * SUB;
    // Computed in u128 so that the last bucket's bound (u64::MAX) does not overflow on the way.
    ((((mantissa + 1) as u128) << shift) - 1).min(u64::MAX as u128) as u64
}

impl Histogram {
    pub fn record(&mut self, value: u64) {
        self.counts[bucket_of(value)] += 1;
        self.count += 1;
        self.max = self.max.max(value);
        self.sum += value as u128;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    pub fn mean(&self) -> u64 {
        if self.count == 0 { 0 } else { (self.sum / self.count as u128) as u64 }
    }

    /// The value below or at which a fraction `q` (0..=1) of the recorded values lie, rounded up to its
    /// bucket's bound and never above the maximum; 0 when nothing was recorded.
    pub fn percentile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return bucket_high(index).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut previous = 0;
        for value in (0..100_000u64).chain([1 << 40, (1 << 40) + 1, u64::MAX - 1, u64::MAX]) {
            let bucket = bucket_of(value);
            assert!(bucket >= previous, "{value}");
            assert!(bucket_high(bucket) >= value, "{value} lies above its bucket's bound");
            if bucket > 0 {
                assert!(bucket_high(bucket - 1) < value, "{value} would fit the previous bucket");
            }
            previous = bucket;
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket_high(BUCKETS - 1), u64::MAX);
    }

    #[test]
    fn a_bucket_is_never_wider_than_a_128th_of_its_values() {
        for value in [256u64, 1000, 12_345, 1_000_000, 987_654_321, 1 << 50] {
            let high = bucket_high(bucket_of(value));
            assert!((high - value) as f64 <= value as f64 / 128.0, "{value} → {high}");
        }
    }

    fn check(values: impl IntoIterator<Item = u64>, q: f64, expected: u64) {
        let mut histogram = Histogram::default();
        values.into_iter().for_each(|v| histogram.record(v));
        let got = histogram.percentile(q);
        let tolerance = expected / 128;
        assert!(got.abs_diff(expected) <= tolerance, "p{q}: {got}, expected {expected}");
    }

    #[test]
    fn percentiles() {
        check(1..=100, 0.5, 50);
        check(1..=100, 0.99, 99);
        check(1..=100, 1.0, 100);
        check(1..=100, 0.0, 1);
        // Microsecond-scale latencies in nanoseconds.
        check((1..=1000).map(|us| us * 1000), 0.5, 500_000);
        check((1..=1000).map(|us| us * 1000), 0.9, 900_000);
        check((1..=1000).map(|us| us * 1000), 0.99, 990_000);
        // One slow request among many fast ones: the median does not see it, the maximum is exact.
        let mut histogram = Histogram::default();
        (0..999).for_each(|_| histogram.record(2_000_000));
        histogram.record(1_234_567_891);
        assert_eq!(histogram.percentile(0.5), bucket_high(bucket_of(2_000_000)));
        assert_eq!(histogram.percentile(1.0), 1_234_567_891);
        assert_eq!(histogram.max(), 1_234_567_891);
        assert_eq!(Histogram::default().percentile(0.99), 0);
    }

    #[test]
    fn merging_adds_the_counts() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        (1..=50).for_each(|v| a.record(v * 1000));
        (51..=100).for_each(|v| b.record(v * 1000));
        a.merge(&b);
        assert_eq!(a.count(), 100);
        assert_eq!(a.max(), 100_000);
        assert_eq!(a.mean(), 50_500);
        let p50 = a.percentile(0.5);
        assert!(p50.abs_diff(50_000) <= 50_000 / 128, "{p50}");
    }
}
