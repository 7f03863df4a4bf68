//! The CSV engine: a file read in blocks of about [`BLOCK_BYTES`] that end on a record
//! boundary, by a thread of its own one block ahead of the caller, each block split into
//! records; a record's fields are cut out when the caller asks for its row.
//!
//! CSV is read as the `csv-core` state machine reads it: a quote opens a quoted field only at
//! the start of a field, `""` inside quotes is one quote, a quoted field may span lines, records
//! end with `\n` or `\r\n`, blank lines are skipped. A line without a quote character (nearly
//! every line of an export) is split on the delimiter directly; a line with one goes through
//! csv-core. Every field is text; an empty field is null.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use super::{MAX_SLOTS, table_error};
use crate::config::Encoding;
use crate::vocab::error::ReadError;
use crate::vocab::record::Value;

/// Bytes of CSV text per batch (more when one record is longer): about 150,000 rows of a
/// typical export. Two blocks are in memory (one read ahead); at size M 16 MB blocks measured
/// 1.98 s against 2.10 s with 32 MB (fresh pages for the second buffer) and, before reading
/// ahead, 8 MB blocks were 6 % slower than 32 MB (each batch has fixed costs).
pub const BLOCK_BYTES: usize = 16 << 20;
/// Room in the block buffer for the partial record carried over from the block before.
const BLOCK_SLACK: usize = 1 << 20;
const NO_SPAN: (u32, u32) = (0, 0);

/// A CSV file's header, checked against the mapping.
#[derive(Debug, Clone)]
pub struct Layout {
    /// File column → slot.
    pub slots: Vec<Option<usize>>,
    pub header_len: usize,
    /// Rows the file probably holds (its size over the mean line length of its head).
    pub rows_estimate: u64,
}

/// The column names of a CSV file and its row estimate.
pub fn header(path: &Path, encoding: Encoding, delimiter: u8) -> Result<(Vec<String>, u64), ReadError> {
    let head = read_head(path, encoding)?;
    let text = decode(path, &head.bytes, encoding, true, 1)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        if head.complete {
            return Err(table_error(path, "CSV", "the file is empty (not even a header row)".into()));
        }
        return Err(table_error(path, "CSV", "the first line is blank".into()));
    }
    // Blank lines before the header are skipped, as before any record.
    let start = text.len() - text.trim_start_matches(['\r', '\n']).len();
    let end = record_end(text.as_bytes(), start, head.complete, delimiter).ok_or_else(|| {
        table_error(path, "CSV", format!("the header row is longer than {} MB or its quotes never close", HEAD_BYTES >> 20))
    })?;
    let (names, _) = split_fields(text, start, end, delimiter);
    let lines = memchr::memchr_iter(b'\n', &head.bytes).count().max(1) as u64;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(head.bytes.len() as u64);
    let rows_estimate = size * lines / head.bytes.len().max(1) as u64;
    Ok((names.into_iter().map(|s| s.into_owned()).collect(), rows_estimate))
}

/// What the reading thread needs: owned, so the thread outlives no borrow.
#[derive(Debug, Clone)]
pub(super) struct Reader {
    pub path: PathBuf,
    pub encoding: Encoding,
    pub delimiter: u8,
    pub block_bytes: usize,
}

/// The blocks of one file, read by a thread of its own one block ahead; a block handed out
/// goes back to the thread for reuse when the next one is asked for (on this kind of VM a fresh
/// page costs more than the bytes read into it).
pub(super) struct Blocks {
    rx: Option<Receiver<Result<CsvBlock, ReadError>>>,
    back: Sender<CsvBlock>,
    current: Option<CsvBlock>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Blocks {
    pub fn start(r: Reader) -> Blocks {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<CsvBlock, ReadError>>(0);
        let (back, back_rx) = std::sync::mpsc::channel::<CsvBlock>();
        let thread = std::thread::spawn(move || reading_thread(&r, &tx, &back_rx));
        Blocks { rx: Some(rx), back, current: None, thread: Some(thread) }
    }

    /// Moves to the next block with at least one record (giving the one before back); false
    /// at the end of the file.
    pub fn advance(&mut self) -> Result<bool, ReadError> {
        loop {
            if let Some(done) = self.current.take() {
                let _ = self.back.send(done);
            }
            let Some(rx) = &self.rx else { return Ok(false) };
            match rx.recv() {
                Ok(Ok(block)) if block.records.is_empty() => continue,
                Ok(Ok(block)) => {
                    self.current = Some(block);
                    return Ok(true);
                }
                Ok(Err(e)) => {
                    self.rx = None;
                    return Err(e);
                }
                Err(_) => {
                    self.rx = None;
                    return Ok(false);
                }
            }
        }
    }

    /// The block `advance` moved to.
    pub fn current(&self) -> Option<&CsvBlock> {
        self.current.as_ref()
    }
}

impl Drop for Blocks {
    fn drop(&mut self) {
        // Without a receiver the thread's next send fails and it ends.
        self.rx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The reading thread: sends each block of whole records in file order, then ends (after an
/// error, which it sends, or when the receiver is gone).
fn reading_thread(r: &Reader, tx: &SyncSender<Result<CsvBlock, ReadError>>, back: &Receiver<CsvBlock>) {
    if let Err(e) = read_blocks(r, |block| tx.send(Ok(block)).is_ok(), back) {
        let _ = tx.send(Err(e));
    }
}

/// Reads the file block by block, each cut after its last complete record, and hands each
/// to `send` (false: stop). Buffers come back through `back`, so that after the first few
/// blocks no fresh memory is touched.
fn read_blocks(r: &Reader, mut send: impl FnMut(CsvBlock) -> bool, back: &Receiver<CsvBlock>) -> Result<(), ReadError> {
    let path = &r.path;
    let mut source = CsvSource::open(path, r.encoding)?;
    // What follows the last complete record of a block, for the next one.
    let mut carry: Vec<u8> = Vec::new();
    // Line number of the first record in `carry`.
    let mut line: u64 = 1;
    let mut header_done = false;
    loop {
        let mut block = back.try_recv().unwrap_or_else(|_| CsvBlock {
            text: String::with_capacity(r.block_bytes + BLOCK_SLACK),
            records: Vec::new(),
            lines: Vec::new(),
        });
        let mut buf = std::mem::take(&mut block.text).into_bytes();
        buf.clear();
        buf.extend_from_slice(&carry);
        let (records, lines) = (&mut block.records, &mut block.lines);
        let mut eof = source.fill(&mut buf, r.block_bytes)?;
        let (cut, after) = loop {
            records.clear();
            lines.clear();
            let b = buf.as_slice();
            let mut cut = 0;
            let mut l = line;
            let mut pos = 0;
            let mut header = header_done;
            if !header && b.starts_with("\u{feff}".as_bytes()) {
                pos = 3;
            }
            // The header row, after any blank lines.
            while !header && pos < b.len() {
                let Some(end) = record_end(b, pos, eof, r.delimiter) else { break };
                let next = (end + 1).min(b.len());
                header = !is_blank(&b[pos..end]);
                l += memchr::memchr_iter(b'\n', &b[pos..next]).count() as u64;
                pos = next;
                cut = next;
            }
            if header && memchr::memchr(b'"', &b[pos..]).is_none() {
                // No quote in the block: every line is a record.
                if let Some((c, a)) = split_plain(b, pos, eof, l, records, lines) {
                    cut = c;
                    l = a;
                }
            } else if header {
                while pos < b.len() {
                    let Some(end) = record_end(b, pos, eof, r.delimiter) else { break };
                    let next = (end + 1).min(b.len());
                    if !is_blank(&b[pos..end]) {
                        records.push((pos as u32, end as u32));
                        lines.push(l);
                    }
                    l += memchr::memchr_iter(b'\n', &b[pos..next]).count() as u64;
                    pos = next;
                    cut = next;
                }
            }
            if cut == 0 && !eof {
                // Not even one complete record: read on (a record longer than a block).
                eof = source.grow(&mut buf)?;
                continue;
            }
            header_done = header;
            break (cut, l);
        };
        carry.clear();
        carry.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        block.text = match String::from_utf8(buf) {
            Ok(text) => text,
            Err(e) => decode(path, e.as_bytes(), r.encoding, false, line)?.into_owned(),
        };
        line = after;
        if !send(block) {
            return Ok(());
        }
        // At the end of input every byte is in a record, or blank.
        if eof {
            return Ok(());
        }
    }
}

/// A block of CSV text that ends after a record, with its records, as the reading thread
/// makes it.
pub(super) struct CsvBlock {
    text: String,
    /// Byte range of each record in `text` (terminator excluded).
    pub records: Vec<(u32, u32)>,
    /// Line of each record in the file.
    pub lines: Vec<u64>,
}

/// Where the record starting at `pos` ends: the index of its terminating `\n` (or the end of
/// `b` at end of input). `None` when the record is not complete in `b` and more may follow.
pub(super) fn record_end(b: &[u8], pos: usize, eof: bool, delimiter: u8) -> Option<usize> {
    let nl = memchr::memchr(b'\n', &b[pos..]).map(|i| pos + i);
    let line_end = nl.unwrap_or(b.len());
    if memchr::memchr(b'"', &b[pos..line_end]).is_none() {
        return match nl {
            Some(e) => Some(e),
            None if eof => Some(b.len()),
            None => None,
        };
    }
    // A quote: let csv-core find the end (a quoted field may run over lines).
    let mut rdr = csv_core::ReaderBuilder::new().delimiter(delimiter).terminator(csv_core::Terminator::Any(b'\n')).build();
    let mut out = vec![0u8; 1024];
    let mut ends = vec![0usize; 64];
    let mut i = pos;
    loop {
        let input = if i < b.len() { &b[i..] } else { &[][..] };
        let (res, nin, _, _) = rdr.read_record(input, &mut out, &mut ends);
        i += nin;
        match res {
            csv_core::ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
            csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            csv_core::ReadRecordResult::InputEmpty => {
                if !eof {
                    return None;
                }
                if i >= b.len() && input.is_empty() {
                    return Some(b.len());
                }
            }
            csv_core::ReadRecordResult::Record => {
                // `i` is past the terminator (csv-core consumes it).
                return Some(if i > pos && b.get(i - 1) == Some(&b'\n') { i - 1 } else { i.min(b.len()) });
            }
            csv_core::ReadRecordResult::End => return Some(b.len()),
        }
    }
}

/// A blank line (empty, or only `\r`): it holds no record and is skipped.
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&c| c == b'\r')
}

/// The records of a quote-free `b[pos..]`: one per non-blank line. Appends each record's byte
/// range and line number (`line` is the line at `pos`); returns the end of the last complete
/// record and the line after it, or `None` when no line is complete yet.
fn split_plain(b: &[u8], pos: usize, eof: bool, line: u64, records: &mut Vec<(u32, u32)>, lines: &mut Vec<u64>) -> Option<(usize, u64)> {
    let end = if eof { b.len() } else { pos + memchr::memrchr(b'\n', &b[pos..])? + 1 };
    let mut l = line;
    let mut p = pos;
    for nl in memchr::memchr_iter(b'\n', &b[pos..end]).map(|i| pos + i) {
        if !is_blank(&b[p..nl]) {
            records.push((p as u32, nl as u32));
            lines.push(l);
        }
        l += 1;
        p = nl + 1;
    }
    // An unterminated last line (only at end of input).
    if p < end && !is_blank(&b[p..end]) {
        records.push((p as u32, end as u32));
        lines.push(l);
    }
    Some((end, l))
}

/// The fields of the record `text[pos..end]` (a trailing `\r` dropped) and whether it went
/// through csv-core.
pub(super) fn split_fields(text: &str, pos: usize, end: usize, delimiter: u8) -> (Vec<Cow<'_, str>>, bool) {
    let mut rec = &text[pos..end];
    if let Some(r) = rec.strip_suffix('\r') {
        rec = r;
    }
    if memchr::memchr(b'"', rec.as_bytes()).is_none() {
        return (rec.split(delimiter as char).map(Cow::Borrowed).collect(), false);
    }
    let (buf, ranges) = unquote(rec.as_bytes(), delimiter);
    let s = String::from_utf8_lossy(&buf).into_owned();
    (ranges.iter().map(|&(a, b)| Cow::Owned(s[a..b].to_string())).collect(), true)
}

/// Unescapes a quoted record with csv-core: the field bytes and each field's range.
fn unquote(rec: &[u8], delimiter: u8) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut rdr = csv_core::ReaderBuilder::new().delimiter(delimiter).terminator(csv_core::Terminator::Any(b'\n')).build();
    let mut out = vec![0u8; rec.len() + 16];
    let mut ends = vec![0usize; 64];
    let mut input = rec;
    let (mut nout_total, mut nend_total) = (0usize, 0usize);
    loop {
        let (res, nin, nout, nend) = rdr.read_record(input, &mut out[nout_total..], &mut ends[nend_total..]);
        input = &input[nin..];
        nout_total += nout;
        nend_total += nend;
        match res {
            csv_core::ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
            csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            csv_core::ReadRecordResult::InputEmpty => {
                if input.is_empty() {
                    // Finish the record at end of input.
                    let (_, _, nout, nend) = rdr.read_record(&[], &mut out[nout_total..], &mut ends[nend_total..]);
                    nout_total += nout;
                    nend_total += nend;
                    break;
                }
            }
            csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => break,
        }
    }
    out.truncate(nout_total);
    let mut ranges = Vec::with_capacity(nend_total);
    let mut a = 0;
    for &e in &ends[..nend_total] {
        // Ends are relative to the output written by the calls of this record.
        ranges.push((a, e.min(out.len())));
        a = e.min(out.len());
    }
    (out, ranges)
}

/// One block of CSV text and its complete records, with how to split them.
pub(super) struct CsvBatch<'a> {
    pub block: &'a CsvBlock,
    pub slots: &'a [Option<usize>],
    pub header_len: usize,
    pub delimiter: u8,
}

impl<'a> CsvBatch<'a> {
    pub fn row(&self, i: usize) -> CsvRow<'a> {
        let (pos, end) = self.block.records[i];
        let mut spans = [NO_SPAN; MAX_SLOTS];
        let mut rec = &self.block.text[pos as usize..end as usize];
        if let Some(r) = rec.strip_suffix('\r') {
            rec = r;
        }
        let mut extra = 0;
        if memchr::memchr(b'"', rec.as_bytes()).is_none() {
            let bytes = rec.as_bytes();
            let mut start = 0usize;
            let mut col = 0usize;
            for cut in memchr::memchr_iter(self.delimiter, bytes).chain(std::iter::once(bytes.len())) {
                if col < self.header_len {
                    if let Some(Some(s)) = self.slots.get(col) {
                        spans[*s] = (start as u32, cut as u32);
                    }
                } else if cut > start && !rec[start..cut].trim().is_empty() {
                    extra += 1;
                }
                col += 1;
                start = cut + 1;
            }
            return CsvRow { index: i, buf: Cow::Borrowed(rec), spans, extra };
        }
        let (buf, ranges) = unquote(rec.as_bytes(), self.delimiter);
        let buf = String::from_utf8_lossy(&buf).into_owned();
        for (col, &(a, b)) in ranges.iter().enumerate() {
            if col < self.header_len {
                if let Some(Some(s)) = self.slots.get(col) {
                    spans[*s] = (a as u32, b as u32);
                }
            } else if b > a && !buf[a..b].trim().is_empty() {
                extra += 1;
            }
        }
        CsvRow { index: i, buf: Cow::Owned(buf), spans, extra }
    }
}

/// Reads a CSV file (or its GBK text decoded to UTF-8) in blocks.
enum CsvSource {
    File(std::fs::File, PathBuf),
    Memory(Option<Vec<u8>>),
}

impl CsvSource {
    fn open(path: &Path, encoding: Encoding) -> Result<CsvSource, ReadError> {
        match encoding {
            Encoding::Utf8 => Ok(CsvSource::File(std::fs::File::open(path).map_err(ReadError::io(path))?, path.to_path_buf())),
            // GBK exports are decoded whole (they are small): a multi-byte character never
            // straddles a block this way.
            Encoding::Gbk => {
                let bytes = std::fs::read(path).map_err(ReadError::io(path))?;
                let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
                if had_errors {
                    let bad = text.find('\u{FFFD}').unwrap_or(0);
                    let line = text[..bad].matches('\n').count() + 1;
                    return Err(ReadError::Encoding {
                        path: path.to_path_buf(),
                        message: format!("line {line} is not valid GBK/GB18030 text although the source declares encoding = \"gbk\""),
                    });
                }
                Ok(CsvSource::Memory(Some(text.into_owned().into_bytes())))
            }
        }
    }

    /// Appends up to `want` bytes to `buf`; true at end of input.
    fn fill(&mut self, buf: &mut Vec<u8>, want: usize) -> Result<bool, ReadError> {
        match self {
            CsvSource::Memory(m) => {
                if let Some(v) = m.take() {
                    buf.extend(v);
                }
                Ok(true)
            }
            CsvSource::File(f, path) => {
                let start = buf.len();
                buf.reserve(want);
                // `read_to_end` fills the spare capacity without zeroing it first.
                loop {
                    match (&mut *f).take((want - (buf.len() - start)) as u64).read_to_end(buf) {
                        Ok(_) => break,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(ReadError::Io { path: path.clone(), source: e }),
                    }
                }
                Ok(buf.len() - start < want)
            }
        }
    }

    /// Reads more after a block that held no complete record.
    fn grow(&mut self, buf: &mut Vec<u8>) -> Result<bool, ReadError> {
        let want = buf.len().max(1024);
        self.fill(buf, want)
    }
}

/// Bytes read for the header row and the row estimate.
pub(super) const HEAD_BYTES: usize = 1 << 20;

struct Head {
    bytes: Vec<u8>,
    /// The whole file was read.
    complete: bool,
}

/// The first bytes of a file (enough for its header row).
fn read_head(path: &Path, encoding: Encoding) -> Result<Head, ReadError> {
    if encoding == Encoding::Gbk {
        let bytes = std::fs::read(path).map_err(ReadError::io(path))?;
        let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
        return Ok(Head { bytes: text.into_owned().into_bytes(), complete: true });
    }
    let f = std::fs::File::open(path).map_err(ReadError::io(path))?;
    let mut bytes = Vec::with_capacity(HEAD_BYTES);
    f.take(HEAD_BYTES as u64).read_to_end(&mut bytes).map_err(ReadError::io(path))?;
    let complete = bytes.len() < HEAD_BYTES;
    // Cut at the last line end, so that no UTF-8 sequence is split.
    if !complete {
        if let Some(i) = memchr::memrchr(b'\n', &bytes) {
            bytes.truncate(i + 1);
        }
    }
    Ok(Head { bytes, complete })
}

/// CSV bytes as text. Invalid UTF-8 is an error naming the line, with a hint when the file
/// reads as GBK (common for Chinese exports). `first_line` is the line `bytes` starts at.
fn decode<'b>(path: &Path, bytes: &'b [u8], encoding: Encoding, head: bool, first_line: u64) -> Result<Cow<'b, str>, ReadError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(e) => {
            let at = e.valid_up_to();
            let line = first_line + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
            if encoding == Encoding::Gbk {
                // Already decoded from GBK: cannot happen, but never panic.
                return Ok(String::from_utf8_lossy(bytes));
            }
            let whole = if head { bytes.to_vec() } else { std::fs::read(path).unwrap_or_default() };
            let gbk_ok = !encoding_rs::GB18030.decode_without_bom_handling(&whole).1;
            let hint = if gbk_ok {
                "it reads as GBK/GB18030: set encoding = \"gbk\" on the source"
            } else {
                "save it as UTF-8, or set encoding = \"gbk\" if it is GBK"
            };
            Err(ReadError::Encoding { path: path.to_path_buf(), message: format!("not valid UTF-8 at line {line}; {hint}") })
        }
    }
}

/// The mapped fields of one CSV record.
pub struct CsvRow<'a> {
    pub(super) index: usize,
    buf: Cow<'a, str>,
    /// Per slot: byte range in `buf` (empty when the record has fewer fields).
    spans: [(u32, u32); MAX_SLOTS],
    pub(super) extra: usize,
}

impl CsvRow<'_> {
    pub(super) fn get(&self, slot: usize) -> Value<'_> {
        match self.spans.get(slot).copied() {
            Some((a, b)) if b > a => Value::Text(&self.buf[a as usize..b as usize]),
            _ => Value::Null,
        }
    }
}
