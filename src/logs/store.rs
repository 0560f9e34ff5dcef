//! The buffer of log lines a tail shows: ordered by timestamp, bounded by a
//! line cap, and compact (text in large chunks, 20 bytes of metadata a line).
//!
//! Lines are kept in chunks of contiguous time. New lines normally append to
//! the last chunk; a late line (older than the newest) is inserted in order
//! into the chunk whose time range holds it. Lines beyond the cap are evicted
//! from the oldest end; a whole chunk's memory is freed once all its lines are.

use std::collections::{HashMap, VecDeque};

use super::line::{Kind, Level, classify};

/// A chunk's text buffer; a new chunk starts when a line would not fit.
const CHUNK_TEXT: usize = 256 * 1024;
/// Lines in a chunk before a new one starts (bounds the cost of late inserts).
const CHUNK_LINES: usize = 4096;

/// Where a line came from: a log group (by its index in the tail) and a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub group: u16,
    pub stream: Box<str>,
}

/// One buffered line, borrowed from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// Milliseconds since the Unix epoch.
    pub ts: i64,
    pub text: &'a str,
    pub level: Level,
    pub kind: Kind,
    pub source: u32,
}

#[derive(Debug, Clone, Copy)]
struct Meta {
    /// Offset from the chunk's base time, in ms (a chunk spans < 24 days).
    ts_off: i32,
    start: u32,
    len: u32,
    source: u32,
    level: Level,
    kind: Kind,
}

#[derive(Debug)]
struct Chunk {
    base: i64,
    text: String,
    metas: Vec<Meta>,
    /// Lines before `head` were evicted (lazily; the chunk goes when all are).
    head: usize,
}

impl Chunk {
    fn new(base: i64, text_len: usize) -> Self {
        Chunk {
            base,
            text: String::with_capacity(CHUNK_TEXT.max(text_len)),
            metas: Vec::with_capacity(CHUNK_LINES),
            head: 0,
        }
    }

    fn live(&self) -> usize {
        self.metas.len() - self.head
    }

    fn ts(&self, m: &Meta) -> i64 {
        self.base + i64::from(m.ts_off)
    }

    fn first_ts(&self) -> Option<i64> {
        self.metas.get(self.head).map(|m| self.ts(m))
    }

    fn last_ts(&self) -> Option<i64> {
        self.metas.last().map(|m| self.ts(m))
    }

    /// Whether a line of `len` bytes at `ts` can go in without reallocating.
    fn fits(&self, ts: i64, len: usize) -> bool {
        self.metas.len() < CHUNK_LINES
            && self.text.len() + len <= self.text.capacity()
            && i32::try_from(ts - self.base).is_ok()
    }

    /// Appends a line's text and returns its metadata, for the caller to place.
    fn add_text(&mut self, ts: i64, source: u32, text: &str, kind: Kind, level: Level) -> Meta {
        let meta = Meta {
            ts_off: (ts - self.base) as i32,
            start: self.text.len() as u32,
            len: text.len() as u32,
            source,
            level,
            kind,
        };
        self.text.push_str(text);
        meta
    }

    fn seal(&mut self) {
        self.metas.shrink_to_fit();
        self.text.shrink_to_fit();
    }

    fn line(&self, m: &Meta) -> Line<'_> {
        let start = m.start as usize;
        Line {
            ts: self.ts(m),
            text: &self.text[start..start + m.len as usize],
            level: m.level,
            kind: m.kind,
            source: m.source,
        }
    }
}

#[derive(Debug)]
pub struct LogStore {
    chunks: VecDeque<Chunk>,
    len: usize,
    cap: usize,
    dropped: u64,
    sources: Vec<Source>,
    source_ids: HashMap<(u16, Box<str>), u32>,
}

impl LogStore {
    pub const DEFAULT_CAP: usize = 200_000;

    pub fn new(cap: usize) -> Self {
        LogStore {
            chunks: VecDeque::new(),
            len: 0,
            cap: cap.max(1),
            dropped: 0,
            sources: Vec::new(),
            source_ids: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Lines evicted to stay under the cap.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The id of a (group, stream) pair, for [`push`](Self::push).
    pub fn intern(&mut self, group: u16, stream: &str) -> u32 {
        if let Some(id) = self.source_ids.get(&(group, Box::from(stream))) {
            return *id;
        }
        let id = self.sources.len() as u32;
        self.sources.push(Source {
            group,
            stream: stream.into(),
        });
        self.source_ids.insert((group, stream.into()), id);
        id
    }

    pub fn source(&self, id: u32) -> Option<&Source> {
        self.sources.get(id as usize)
    }

    pub fn newest_ts(&self) -> Option<i64> {
        self.chunks.back().and_then(Chunk::last_ts)
    }

    pub fn oldest_ts(&self) -> Option<i64> {
        self.chunks.front().and_then(Chunk::first_ts)
    }

    /// Adds a line in timestamp order (after lines with the same timestamp).
    pub fn push(&mut self, ts: i64, source: u32, text: &str) {
        let (kind, level) = classify(text);
        // u32 offsets: a single line longer than 4 GiB is not a log line.
        let len = text.len().min(u32::MAX as usize);
        let text = &text[..floor_char_boundary(text, len)];
        let newest = self.newest_ts();
        if newest.is_none_or(|n| ts >= n) {
            self.append(ts, source, text, kind, level);
        } else {
            self.insert(ts, source, text, kind, level);
        }
        self.len += 1;
        self.evict();
    }

    fn append(&mut self, ts: i64, source: u32, text: &str, kind: Kind, level: Level) {
        let needs_chunk = self.chunks.back().is_none_or(|c| !c.fits(ts, text.len()));
        if needs_chunk {
            if let Some(last) = self.chunks.back_mut() {
                last.seal();
            }
            self.chunks.push_back(Chunk::new(ts, text.len()));
        }
        if let Some(c) = self.chunks.back_mut() {
            let meta = c.add_text(ts, source, text, kind, level);
            c.metas.push(meta);
        }
    }

    /// A line older than the newest: into the chunk whose range holds it.
    fn insert(&mut self, ts: i64, source: u32, text: &str, kind: Kind, level: Level) {
        // The last chunk whose first line is not after `ts`; else the first.
        let i = self
            .chunks
            .iter()
            .rposition(|c| c.first_ts().is_some_and(|f| f <= ts))
            .unwrap_or(0);
        let chunk = &mut self.chunks[i];
        if i32::try_from(ts - chunk.base).is_err() {
            // Far older than anything buffered: a chunk of its own in front.
            let mut c = Chunk::new(ts, text.len());
            let meta = c.add_text(ts, source, text, kind, level);
            c.metas.push(meta);
            c.seal();
            self.chunks.insert(i, c);
            return;
        }
        let at = chunk.head
            + chunk.metas[chunk.head..].partition_point(|m| chunk.base + i64::from(m.ts_off) <= ts);
        let meta = chunk.add_text(ts, source, text, kind, level);
        chunk.metas.insert(at, meta);
    }

    /// Adds lines older than everything buffered (loading history), in
    /// timestamp order, as whole chunks in front: no per-line shifting.
    /// Lines not older than the oldest buffered go through [`push`](Self::push).
    pub fn prepend<'t>(&mut self, lines: impl IntoIterator<Item = (i64, u32, &'t str)>) -> usize {
        let oldest = self.oldest_ts();
        let mut front: Vec<Chunk> = Vec::new();
        let mut later = Vec::new();
        let mut n = 0;
        for (ts, source, text) in lines {
            if oldest.is_some_and(|o| ts > o) {
                later.push((ts, source, text));
                continue;
            }
            let (kind, level) = classify(text);
            let text = &text[..floor_char_boundary(text, text.len().min(u32::MAX as usize))];
            if front.last().is_none_or(|c| !c.fits(ts, text.len())) {
                if let Some(c) = front.last_mut() {
                    c.seal();
                }
                front.push(Chunk::new(ts, text.len()));
            }
            if let Some(c) = front.last_mut() {
                let meta = c.add_text(ts, source, text, kind, level);
                c.metas.push(meta);
            }
            n += 1;
        }
        if let Some(c) = front.last_mut() {
            c.seal();
        }
        for c in front.into_iter().rev() {
            self.chunks.push_front(c);
        }
        self.len += n;
        for (ts, source, text) in later {
            self.push(ts, source, text);
        }
        self.evict();
        n
    }

    fn evict(&mut self) {
        while self.len > self.cap {
            let Some(first) = self.chunks.front_mut() else {
                return;
            };
            let excess = self.len - self.cap;
            let live = first.live();
            if live <= excess {
                self.len -= live;
                self.dropped += live as u64;
                self.chunks.pop_front();
            } else {
                first.head += excess;
                self.len -= excess;
                self.dropped += excess as u64;
            }
        }
    }

    /// The line at `index` (0 is the oldest buffered).
    pub fn get(&self, index: usize) -> Option<Line<'_>> {
        self.iter_from(index).next()
    }

    /// Lines from `index` on, oldest first.
    pub fn iter_from(&self, index: usize) -> impl Iterator<Item = Line<'_>> + '_ {
        let mut skip = index;
        let mut first_chunk = self.chunks.len();
        for (i, c) in self.chunks.iter().enumerate() {
            if skip < c.live() {
                first_chunk = i;
                break;
            }
            skip -= c.live();
        }
        self.chunks
            .range(first_chunk..)
            .enumerate()
            .flat_map(move |(n, c)| {
                let from = c.head + if n == 0 { skip } else { 0 };
                c.metas[from..].iter().map(move |m| c.line(m))
            })
    }

    /// Lines before `index`, newest first, with their indices.
    pub fn iter_back_from(&self, index: usize) -> impl Iterator<Item = (usize, Line<'_>)> + '_ {
        let end = index.min(self.len);
        // The chunk holding line `end - 1`, and how many of its lines to take.
        let mut before = 0;
        let mut last = (0, 0);
        for (i, c) in self.chunks.iter().enumerate() {
            if end <= before + c.live() {
                last = (i, end - before);
                break;
            }
            before += c.live();
        }
        let (last_chunk, take) = last;
        let upto = (last_chunk + 1).min(self.chunks.len());
        self.chunks
            .range(..upto)
            .rev()
            .enumerate()
            .flat_map(move |(n, c)| {
                let stop = if n == 0 { c.head + take } else { c.metas.len() };
                c.metas[c.head..stop].iter().rev().map(move |m| c.line(m))
            })
            .enumerate()
            .map(move |(k, l)| (end - 1 - k, l))
    }

    /// Bytes this store holds on the heap (text, metadata, sources), for the
    /// memory budget.
    pub fn heap_bytes(&self) -> usize {
        let chunks: usize = self
            .chunks
            .iter()
            .map(|c| c.text.capacity() + c.metas.capacity() * std::mem::size_of::<Meta>())
            .sum();
        let sources: usize = self.sources.iter().map(|s| s.stream.len() * 2 + 48).sum();
        chunks + self.chunks.capacity() * std::mem::size_of::<Chunk>() + sources
    }

    pub fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &LogStore) -> Vec<(i64, String)> {
        s.iter_from(0).map(|l| (l.ts, l.text.to_string())).collect()
    }

    #[test]
    fn meta_is_twenty_bytes() {
        assert_eq!(std::mem::size_of::<Meta>(), 20);
    }

    #[test]
    fn late_lines_are_inserted_in_order_after_equal_timestamps() {
        let mut s = LogStore::new(100);
        let src = s.intern(0, "a");
        s.push(10, src, "ten");
        s.push(30, src, "thirty");
        s.push(20, src, "twenty");
        s.push(10, src, "ten again");
        s.push(5, src, "five");
        assert_eq!(
            texts(&s),
            [
                (5, "five"),
                (10, "ten"),
                (10, "ten again"),
                (20, "twenty"),
                (30, "thirty")
            ]
            .map(|(t, x)| (t, x.to_string()))
        );
    }

    #[test]
    fn prepending_history_puts_it_in_front_in_order() {
        let mut s = LogStore::new(100_000);
        let src = s.intern(0, "a");
        s.push(1_000_000, src, "newest");
        let older: Vec<(i64, u32, String)> =
            (0..10_000).map(|i| (i, src, format!("old {i}"))).collect();
        let n = s.prepend(older.iter().map(|(t, s, x)| (*t, *s, x.as_str())));
        assert_eq!(n, 10_000);
        assert_eq!(s.len(), 10_001);
        assert_eq!(s.get(0).unwrap().text, "old 0");
        assert_eq!(s.get(9_999).unwrap().text, "old 9999");
        assert_eq!(s.get(10_000).unwrap().text, "newest");
        assert!(
            s.iter_from(0)
                .collect::<Vec<_>>()
                .windows(2)
                .all(|w| w[0].ts <= w[1].ts)
        );
    }

    #[test]
    fn the_cap_evicts_the_oldest_and_counts_them() {
        let mut s = LogStore::new(10_000);
        let src = s.intern(0, "a");
        for i in 0..25_000 {
            s.push(i, src, &format!("line {i}"));
        }
        assert_eq!(s.len(), 10_000);
        assert_eq!(s.dropped(), 15_000);
        assert_eq!(s.get(0).unwrap().text, "line 15000");
        assert_eq!(s.get(9_999).unwrap().text, "line 24999");
        assert!(s.get(10_000).is_none());
    }

    #[test]
    fn iterating_backwards_matches_forwards() {
        let mut s = LogStore::new(50_000);
        let src = s.intern(0, "a");
        for i in 0..9_000 {
            s.push(i, src, "x");
        }
        let back: Vec<usize> = s.iter_back_from(5000).take(3).map(|(i, _)| i).collect();
        assert_eq!(back, [4999, 4998, 4997]);
        assert_eq!(s.iter_back_from(5000).next().unwrap().1.ts, 4999);
    }

    #[test]
    fn memory_stays_within_one_and_a_half_times_the_text() {
        // Realistic Lambda lines, as the sandbox writes them.
        let mut rng = fastrand::Rng::with_seed(3);
        let mut s = LogStore::new(200_000);
        let mut text_bytes = 0;
        let mut ts = 0;
        while s.len() < 200_000 {
            for line in crate::sandbox::lines::invocation(&mut rng, "dev-api") {
                let stream = format!("2026/11/22/[$LATEST]{}", ts % 7);
                let src = s.intern(0, &stream);
                text_bytes += line.len();
                s.push(ts, src, &line);
                ts += 3;
            }
        }
        let ratio = s.heap_bytes() as f64 / text_bytes as f64;
        assert!(ratio <= 1.5, "{ratio:.2}× the text");
    }
}
