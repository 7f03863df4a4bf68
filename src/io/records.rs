//! Record files (CSV, Parquet) read batch by batch, only the mapped columns.
//!
//! A source is never held whole: a CSV file is read in blocks of about [`BLOCK_BYTES`] that end
//! on a record boundary, a Parquet file in slices of whole row groups of about
//! [`PARQUET_BATCH_ROWS`]; the caller checks each batch (in parallel, [`Batch::map_rows`]) and
//! drops it before the next one is read, so memory does not grow with the file.
//!
//! CSV is read as the `csv-core` state machine reads it: a quote opens a quoted field only at
//! the start of a field, `""` inside quotes is one quote, a quoted field may span lines, records
//! end with `\n` or `\r\n`, blank lines are skipped. A line without a quote character (nearly
//! every line of an export) is split on the delimiter directly; a line with one goes through
//! csv-core. Every field is text; an empty field is null.
//!
//! Parquet columns keep their types: numbers, booleans, dates and timestamps are read as such
//! ([`Value`]); any other type is cast to text. Polars reads Parquet here and nowhere else.

use polars::prelude::*;
use rayon::prelude::*;
use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::config::{Encoding, FileFormat};
use crate::error::ReadError;

/// Bytes of CSV text per batch (more when one record is longer): about 150,000 rows of a
/// typical export. Two blocks are in memory (one read ahead); at size M 16 MB blocks measured
/// 1.98 s against 2.10 s with 32 MB (fresh pages for the second buffer) and, before reading
/// ahead, 8 MB blocks were 6 % slower than 32 MB (each batch has fixed costs).
pub const BLOCK_BYTES: usize = 16 << 20;
/// Room in the block buffer for the partial record carried over from the block before.
const BLOCK_SLACK: usize = 1 << 20;
/// Rows per Parquet batch (whole row groups: more when one row group is larger). About a CSV
/// block's rows; one row group of polars' (263,157 rows) is a batch.
pub const PARQUET_BATCH_ROWS: usize = 1 << 18;
/// Rows per parallel task inside a batch.
const TASK_ROWS: usize = 4096;

/// One field of one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Text(&'a str),
    Float(f64),
    Int(i64),
    Bool(bool),
    /// A timestamp column: milliseconds since the epoch, of a UTC instant when `zoned`, else of
    /// a wall-clock time without zone (read in the source's time zone).
    Timestamp {
        ms: i64,
        zoned: bool,
    },
    /// A date column: days since 1970-01-01.
    Date(i32),
}

impl<'a> Value<'a> {
    /// Trimmed text of the value; `None` for null and blank text.
    pub fn text(&self) -> Option<Cow<'a, str>> {
        match *self {
            Value::Null => None,
            Value::Text(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(Cow::Borrowed),
            _ => self.raw().map(Cow::Owned),
        }
    }

    /// The value as the user sees it in the file (for the quarantine's raw fields); `None` for
    /// null and empty text.
    pub fn raw(&self) -> Option<String> {
        match *self {
            Value::Null => None,
            Value::Text(s) => (!s.is_empty()).then(|| s.to_string()),
            // `{:?}` keeps the decimal point of a whole number (0.0), as readers show it.
            Value::Float(v) => Some(format!("{v:?}")),
            Value::Int(v) => Some(v.to_string()),
            Value::Bool(v) => Some(v.to_string()),
            Value::Timestamp { ms, zoned } => chrono::DateTime::from_timestamp_millis(ms).map(|t| {
                let f = if ms % 1000 == 0 { "%Y-%m-%d %H:%M:%S" } else { "%Y-%m-%d %H:%M:%S%.3f" };
                let s = t.naive_utc().format(f).to_string();
                if zoned { s + "Z" } else { s }
            }),
            Value::Date(d) => chrono::DateTime::from_timestamp(d as i64 * 86_400, 0).map(|t| t.date_naive().to_string()),
        }
    }
}

/// The columns a source maps: slot `k` is gridgov field `fields[k].0`, read from file column
/// `fields[k].1`. Slots follow the pipeline's field order, which is also the order of the
/// quarantine's raw fields.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub fields: Vec<(String, String)>,
}

impl Mapping {
    pub fn new(columns: &std::collections::BTreeMap<String, String>) -> Mapping {
        Mapping { fields: columns.iter().map(|(f, c)| (f.clone(), c.clone())).collect() }
    }

    /// Slot of a gridgov field, if mapped.
    pub fn slot(&self, field: &str) -> Option<usize> {
        self.fields.iter().position(|(f, _)| f == field)
    }

    /// The mapped fields of a row as a JSON object `{column: value}` (the quarantine's `raw`).
    pub fn raw_json(&self, row: &RowRef<'_, '_>) -> String {
        let mut m = serde_json::Map::new();
        for (k, (_, column)) in self.fields.iter().enumerate() {
            let v = row.get(k).raw().map(serde_json::Value::String).unwrap_or(serde_json::Value::Null);
            m.insert(column.clone(), v);
        }
        serde_json::Value::Object(m).to_string()
    }
}

/// A row of a batch: the mapped fields by slot.
pub enum RowRef<'r, 'a> {
    Csv(&'r CsvRow<'a>),
    Table(&'r TableBatch, usize),
}

impl RowRef<'_, '_> {
    /// Index of the row in its batch.
    pub fn index(&self) -> usize {
        match self {
            RowRef::Csv(r) => r.index,
            RowRef::Table(_, i) => *i,
        }
    }

    pub fn get(&self, slot: usize) -> Value<'_> {
        match self {
            RowRef::Csv(r) => r.get(slot),
            RowRef::Table(t, i) => t.get(slot, *i),
        }
    }

    /// Number of fields beyond the header's that hold something (CSV only): such a row has
    /// its columns shifted.
    pub fn extra_fields(&self) -> usize {
        match self {
            RowRef::Csv(r) => r.extra,
            RowRef::Table(..) => 0,
        }
    }
}

/// Most slots a mapping can have (a source maps at most this many gridgov fields).
pub const MAX_SLOTS: usize = 32;
const NO_SPAN: (u32, u32) = (0, 0);

/// The mapped fields of one CSV record.
pub struct CsvRow<'a> {
    index: usize,
    buf: Cow<'a, str>,
    /// Per slot: byte range in `buf` (empty when the record has fewer fields).
    spans: [(u32, u32); MAX_SLOTS],
    extra: usize,
}

impl CsvRow<'_> {
    fn get(&self, slot: usize) -> Value<'_> {
        match self.spans.get(slot).copied() {
            Some((a, b)) if b > a => Value::Text(&self.buf[a as usize..b as usize]),
            _ => Value::Null,
        }
    }
}

/// One batch of rows of one file.
pub struct Batch<'a> {
    /// 1-based data row (header not counted) of the batch's first row.
    pub first_row: u64,
    data: BatchData<'a>,
}

enum BatchData<'a> {
    Csv(CsvBatch<'a>),
    Table(TableBatch),
}

impl Batch<'_> {
    pub fn len(&self) -> usize {
        match &self.data {
            BatchData::Csv(c) => c.block.records.len(),
            BatchData::Table(t) => t.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// 1-based line of row `i` in a CSV file (a quoted field may span lines); `None` for Parquet.
    pub fn line(&self, i: usize) -> Option<u64> {
        match &self.data {
            BatchData::Csv(c) => Some(c.block.lines[i]),
            BatchData::Table(_) => None,
        }
    }

    /// `f` applied to every row, in parallel; the results in row order.
    pub fn map_rows<T: Send>(&self, f: impl Fn(&RowRef<'_, '_>) -> T + Sync) -> Vec<T> {
        (0..self.len()).into_par_iter().with_min_len(TASK_ROWS).map(|i| self.with_row(i, &f)).collect()
    }

    /// `f` applied to row `i`.
    pub fn with_row<T>(&self, i: usize, f: impl FnOnce(&RowRef<'_, '_>) -> T) -> T {
        match &self.data {
            BatchData::Csv(c) => f(&RowRef::Csv(&c.row(i))),
            BatchData::Table(t) => f(&RowRef::Table(t, i)),
        }
    }
}

/// A file of a source, opened: its header checked against the mapping.
pub struct RecordFile {
    pub path: PathBuf,
    format: FileFormat,
    delimiter: u8,
    encoding: Encoding,
    /// CSV: file column → slot.
    csv_slots: Vec<Option<usize>>,
    csv_header_len: usize,
    /// CSV: rows the file probably holds (its size over the mean line length of its head).
    csv_rows_estimate: u64,
    /// CSV: bytes read per block (`BLOCK_BYTES`; smaller in tests).
    block_bytes: usize,
    /// Parquet: the file's metadata and the mapped columns' names by slot.
    parquet: Option<ParquetMeta>,
}

struct ParquetMeta {
    metadata: polars::io::parquet::metadata::FileMetadataRef,
    columns: Vec<String>,
}

/// Opens a record file and checks that every mapped column is there (nothing else is read).
pub fn open(path: &Path, format: FileFormat, delimiter: u8, encoding: Encoding, mapping: &Mapping) -> Result<RecordFile, ReadError> {
    let mut rf = RecordFile {
        path: path.to_path_buf(),
        format,
        delimiter,
        encoding,
        csv_slots: Vec::new(),
        csv_header_len: 0,
        csv_rows_estimate: 0,
        block_bytes: BLOCK_BYTES,
        parquet: None,
    };
    let names: Vec<String> = match format {
        FileFormat::Csv => {
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
            rf.csv_rows_estimate = size * lines / head.bytes.len().max(1) as u64;
            names.into_iter().map(|s| s.into_owned()).collect()
        }
        FileFormat::Parquet => {
            let file = std::fs::File::open(path).map_err(ReadError::io(path))?;
            let mut r = ParquetReader::new(file);
            let schema = r.schema().map_err(|e| polars_error(path, e))?;
            let metadata = r.get_metadata().map_err(|e| polars_error(path, e))?.clone();
            let names: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
            rf.parquet = Some(ParquetMeta { metadata, columns: mapping.fields.iter().map(|(_, c)| c.clone()).collect() });
            names
        }
    };
    if mapping.fields.len() > MAX_SLOTS {
        return Err(table_error(path, "CSV", format!("{} mapped columns; at most {MAX_SLOTS} can be read", mapping.fields.len())));
    }
    let missing: Vec<&(String, String)> = mapping.fields.iter().filter(|(_, c)| !names.contains(c)).collect();
    if !missing.is_empty() {
        return Err(ReadError::MissingColumn {
            path: path.to_path_buf(),
            column: missing.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>().join("\", \""),
            field: missing.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join("`, `"),
            available: names.join(", "),
        });
    }
    if format == FileFormat::Csv {
        // The first column of that name, as a spreadsheet would find it.
        rf.csv_slots = names.iter().map(|_| None).collect();
        for (k, (_, c)) in mapping.fields.iter().enumerate() {
            if let Some(i) = names.iter().position(|n| n == c) {
                rf.csv_slots[i] = Some(k);
            }
        }
        rf.csv_header_len = names.len();
    }
    Ok(rf)
}

impl RecordFile {
    /// Rows in the file: exact for Parquet, an estimate for CSV (for sizing tables).
    pub fn rows_hint(&self) -> u64 {
        self.parquet.as_ref().map_or(self.csv_rows_estimate, |m| m.metadata.num_rows as u64)
    }

    /// Reads the file batch by batch; `f` sees each batch once, in order. Returns the number
    /// of data rows.
    pub fn for_each_batch<E: From<ReadError>>(&self, mut f: impl FnMut(&Batch<'_>) -> Result<(), E>) -> Result<u64, E> {
        match self.format {
            FileFormat::Csv => self.csv_batches(&mut f),
            FileFormat::Parquet => self.parquet_batches(&mut f),
        }
    }

    fn csv_batches<E: From<ReadError>>(&self, f: &mut impl FnMut(&Batch<'_>) -> Result<(), E>) -> Result<u64, E> {
        // A reading thread reads and splits the next block while this one's rows are checked:
        // without it the two cores waited for every read. Blocks go back to it for reuse.
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<CsvBlock, ReadError>>(0);
            let (back_tx, back_rx) = std::sync::mpsc::channel::<CsvBlock>();
            s.spawn(move || self.read_csv_blocks(&tx, &back_rx));
            let mut rows = 0u64;
            // The loop ends when the reading thread is done; an early return drops `rx`, which
            // stops it at its next block.
            for block in rx.iter() {
                let block = block?;
                let batch = Batch {
                    first_row: rows + 1,
                    data: BatchData::Csv(CsvBatch {
                        block: &block,
                        slots: &self.csv_slots,
                        header_len: self.csv_header_len,
                        delimiter: self.delimiter,
                    }),
                };
                rows += batch.len() as u64;
                if !batch.is_empty() {
                    f(&batch)?;
                }
                let _ = back_tx.send(block);
            }
            Ok(rows)
        })
    }

    /// The reading thread of `csv_batches`: sends each block of whole records in file order,
    /// then ends (after an error, which it sends, or when the receiver is gone).
    fn read_csv_blocks(&self, tx: &std::sync::mpsc::SyncSender<Result<CsvBlock, ReadError>>, back: &std::sync::mpsc::Receiver<CsvBlock>) {
        if let Err(e) = self.csv_blocks(|block| tx.send(Ok(block)).is_ok(), back) {
            let _ = tx.send(Err(e));
        }
    }

    /// Reads the file block by block, each cut after its last complete record, and hands each
    /// to `send` (false: stop). Buffers come back through `back`, so that after the first few
    /// blocks no fresh memory is touched (on this kind of VM a fresh page costs more than the
    /// bytes read into it).
    fn csv_blocks(&self, mut send: impl FnMut(CsvBlock) -> bool, back: &std::sync::mpsc::Receiver<CsvBlock>) -> Result<(), ReadError> {
        let path = &self.path;
        let mut source = CsvSource::open(path, self.encoding)?;
        // What follows the last complete record of a block, for the next one.
        let mut carry: Vec<u8> = Vec::new();
        // Line number of the first record in `carry`.
        let mut line: u64 = 1;
        let mut header_done = false;
        loop {
            let mut block = back.try_recv().unwrap_or_else(|_| CsvBlock {
                text: String::with_capacity(self.block_bytes + BLOCK_SLACK),
                records: Vec::new(),
                lines: Vec::new(),
            });
            let mut buf = std::mem::take(&mut block.text).into_bytes();
            buf.clear();
            buf.extend_from_slice(&carry);
            let (records, lines) = (&mut block.records, &mut block.lines);
            let mut eof = source.fill(&mut buf, self.block_bytes)?;
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
                    let Some(end) = record_end(b, pos, eof, self.delimiter) else { break };
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
                        let Some(end) = record_end(b, pos, eof, self.delimiter) else { break };
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
                Err(e) => decode(path, e.as_bytes(), self.encoding, false, line)?.into_owned(),
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

    fn parquet_batches<E: From<ReadError>>(&self, f: &mut impl FnMut(&Batch<'_>) -> Result<(), E>) -> Result<u64, E> {
        let path = &self.path;
        let Some(meta) = &self.parquet else { return Ok(0) };
        // Slices of whole row groups, so that no row group is decoded twice.
        let mut slices: Vec<(usize, usize)> = Vec::new();
        let (mut start, mut len) = (0usize, 0usize);
        for rg in &meta.metadata.row_groups {
            len += rg.num_rows();
            if len >= PARQUET_BATCH_ROWS {
                slices.push((start, len));
                start += len;
                len = 0;
            }
        }
        if len > 0 {
            slices.push((start, len));
        }
        let decode_slice = |offset: usize, len: usize| -> Result<TableBatch, ReadError> {
            let file = std::fs::File::open(path).map_err(ReadError::io(path))?;
            let mut r = ParquetReader::new(file);
            r.set_metadata(meta.metadata.clone());
            let df =
                r.with_columns(Some(dedup(&meta.columns))).with_slice(Some((offset, len))).finish().map_err(|e| polars_error(path, e))?;
            TableBatch::new(path, &df, &meta.columns)
        };
        // A decoding thread decodes the next slice while this one's rows are checked (decoding
        // was a quarter of the streamed stage, with both cores waiting for it).
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<TableBatch, ReadError>>(0);
            s.spawn(move || {
                for (offset, len) in slices {
                    let t = decode_slice(offset, len);
                    let failed = t.is_err();
                    if tx.send(t).is_err() || failed {
                        return;
                    }
                }
            });
            let mut rows = 0u64;
            for t in rx.iter() {
                let batch = Batch { first_row: rows + 1, data: BatchData::Table(t?) };
                rows += batch.len() as u64;
                f(&batch)?;
            }
            Ok(rows)
        })
    }
}

/// A block of CSV text that ends after a record, with its records, as the reading thread
/// makes it.
struct CsvBlock {
    text: String,
    /// Byte range of each record in `text` (terminator excluded).
    records: Vec<(u32, u32)>,
    /// Line of each record in the file.
    lines: Vec<u64>,
}

fn dedup(v: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in v {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// Where the record starting at `pos` ends: the index of its terminating `\n` (or the end of
/// `b` at end of input). `None` when the record is not complete in `b` and more may follow.
fn record_end(b: &[u8], pos: usize, eof: bool, delimiter: u8) -> Option<usize> {
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
fn split_fields(text: &str, pos: usize, end: usize, delimiter: u8) -> (Vec<Cow<'_, str>>, bool) {
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
struct CsvBatch<'a> {
    block: &'a CsvBlock,
    slots: &'a [Option<usize>],
    header_len: usize,
    delimiter: u8,
}

impl<'a> CsvBatch<'a> {
    fn row(&self, i: usize) -> CsvRow<'a> {
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
const HEAD_BYTES: usize = 1 << 20;

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

fn table_error(path: &Path, format: &'static str, message: String) -> ReadError {
    ReadError::Table { path: path.to_path_buf(), format, message }
}

fn polars_error(path: &Path, e: PolarsError) -> ReadError {
    match e {
        PolarsError::IO { error, .. } => {
            ReadError::Io { path: path.to_path_buf(), source: std::io::Error::new(error.kind(), error.to_string()) }
        }
        other => table_error(path, "Parquet", other.to_string()),
    }
}

/// A Parquet slice: one typed column per slot.
pub struct TableBatch {
    len: usize,
    cols: Vec<TypedColumn>,
}

enum TypedColumn {
    Str(StringChunked),
    Float(Float64Chunked),
    Int(Int64Chunked),
    Bool(BooleanChunked),
    /// Physical values and the factor to milliseconds (negative: divide).
    Timestamp {
        values: Int64Chunked,
        unit: TimeUnit,
        zoned: bool,
    },
    Date(Int32Chunked),
}

impl TableBatch {
    fn new(path: &Path, df: &DataFrame, columns: &[String]) -> Result<TableBatch, ReadError> {
        let err = |c: &str, e: PolarsError| table_error(path, "Parquet", format!("column {c:?}: {e}"));
        let mut cols = Vec::with_capacity(columns.len());
        for c in columns {
            // Not rechunked: a batch of several row groups has several chunks, and copying them
            // into one cost more than looking values up chunk by chunk.
            let col = df.column(c).map_err(|e| err(c, e))?;
            let cast = |dt: &DataType| col.cast(dt).map_err(|e| err(c, e));
            let tc = match col.dtype() {
                DataType::String => TypedColumn::Str(col.str().map_err(|e| err(c, e))?.clone()),
                DataType::Float32 | DataType::Float64 => {
                    TypedColumn::Float(cast(&DataType::Float64)?.f64().map_err(|e| err(c, e))?.clone())
                }
                DataType::Int32 | DataType::Int64 | DataType::UInt32 | DataType::UInt64 => {
                    TypedColumn::Int(cast(&DataType::Int64)?.i64().map_err(|e| err(c, e))?.clone())
                }
                DataType::Boolean => TypedColumn::Bool(col.bool().map_err(|e| err(c, e))?.clone()),
                DataType::Datetime(unit, tz) => TypedColumn::Timestamp {
                    values: cast(&DataType::Int64)?.i64().map_err(|e| err(c, e))?.clone(),
                    unit: *unit,
                    zoned: tz.is_some(),
                },
                DataType::Date => TypedColumn::Date(cast(&DataType::Int32)?.i32().map_err(|e| err(c, e))?.clone()),
                _ => TypedColumn::Str(cast(&DataType::String)?.str().map_err(|e| err(c, e))?.clone()),
            };
            cols.push(tc);
        }
        Ok(TableBatch { len: df.height(), cols })
    }

    fn get(&self, slot: usize, i: usize) -> Value<'_> {
        let Some(c) = self.cols.get(slot) else { return Value::Null };
        match c {
            TypedColumn::Str(ca) => ca.get(i).map(Value::Text),
            TypedColumn::Float(ca) => ca.get(i).map(Value::Float),
            TypedColumn::Int(ca) => ca.get(i).map(Value::Int),
            TypedColumn::Bool(ca) => ca.get(i).map(Value::Bool),
            TypedColumn::Timestamp { values, unit, zoned } => values.get(i).map(|v| Value::Timestamp {
                ms: match unit {
                    TimeUnit::Milliseconds => v,
                    TimeUnit::Microseconds => v.div_euclid(1000),
                    TimeUnit::Nanoseconds => v.div_euclid(1_000_000),
                },
                zoned: *zoned,
            }),
            TypedColumn::Date(ca) => ca.get(i).map(Value::Date),
        }
        .unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(cols: &[(&str, &str)]) -> Mapping {
        Mapping { fields: cols.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect() }
    }

    /// Every row of a CSV text, as (line, [slot texts]).
    fn rows(text: &str, m: &Mapping) -> Vec<(u64, Vec<Option<String>>)> {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let p = dir.path().join("t.csv");
        std::fs::write(&p, text).expect("the test file");
        let f = open(&p, FileFormat::Csv, b',', Encoding::Utf8, m).expect("a readable file");
        let mut out = Vec::new();
        f.for_each_batch(|b| {
            for i in 0..b.len() {
                let vals = b.with_row(i, |r| (0..m.fields.len()).map(|k| r.get(k).raw()).collect());
                out.push((b.line(i).unwrap_or(0), vals));
            }
            Ok::<(), ReadError>(())
        })
        .expect("the rows");
        out
    }

    #[test]
    fn plain_quoted_multiline_and_blank_lines() {
        let m = mapping(&[("a", "x"), ("b", "z")]);
        let text = "\u{feff}x,y,z\r\n1,2,3\r\n\r\n\"4,5\",\"six\nlines\",\"say \"\"hi\"\"\"\n7,8\n9,,10\n";
        let r = rows(text, &m);
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            r,
            vec![(2, vec![s("1"), s("3")]), (4, vec![s("4,5"), s("say \"hi\"")]), (6, vec![s("7"), None]), (7, vec![s("9"), s("10")]),]
        );
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_text() {
        let m = mapping(&[("a", "x"), ("b", "y")]);
        let r = rows("x,y\nab\"c,2\n3,4", &m);
        assert_eq!(r[0].1, vec![Some("ab\"c".to_string()), Some("2".to_string())]);
        assert_eq!(r[1], (3, vec![Some("3".to_string()), Some("4".to_string())]), "a last line without a line end");
    }

    #[test]
    fn records_across_block_boundaries_are_whole() {
        // Rows of varying length, some quoted over two lines: split into many blocks with a
        // tiny block size by reading through `record_end` directly.
        let mut text = String::from("id,v\n");
        for i in 0..500 {
            if i % 7 == 0 {
                text.push_str(&format!("{i},\"a\nb{i}\"\n"));
            } else {
                text.push_str(&format!("{i},{}\n", "x".repeat(i % 13)));
            }
        }
        let b = text.as_bytes();
        let mut pos = 5;
        let mut n = 0;
        while pos < b.len() {
            let end = record_end(b, pos, true, b',').expect("a record");
            let (f, _) = split_fields(&text, pos, end, b',');
            assert_eq!(f[0], n.to_string());
            // A truncated buffer never yields a partial record.
            for cut in [pos + 1, (pos + end) / 2] {
                if cut < end {
                    assert_eq!(record_end(&b[..cut], pos, false, b','), None);
                }
            }
            n += 1;
            pos = end + 1;
        }
        assert_eq!(n, 500);
    }

    #[test]
    fn tiny_blocks_give_the_same_rows_and_lines() {
        // Quoted fields over several lines, blank lines, CRLF, a BOM, long and short rows:
        // read with blocks of 1 byte to 4 KB, every record and line number is the same.
        let mut text = String::from("\u{feff}id,v,w\r\n");
        for i in 0..300 {
            match i % 5 {
                0 => text.push_str(&format!("{i},\"a,\nb \"\"{i}\"\"\",x\n")),
                1 => text.push_str(&format!("{i},{},y\r\n", "z".repeat(i % 37))),
                2 => text.push_str(&format!("\n{i},,\n")),
                3 => text.push_str(&format!("{i},\"\"\n")),
                _ => text.push_str(&format!("{i},\"multi\n\nline\",w{i}\n")),
            }
        }
        let m = mapping(&[("a", "id"), ("b", "v"), ("c", "w")]);
        let dir = tempfile::tempdir().expect("a temporary folder");
        let p = dir.path().join("t.csv");
        std::fs::write(&p, &text).expect("the test file");
        let read = |block: usize| {
            let mut f = open(&p, FileFormat::Csv, b',', Encoding::Utf8, &m).expect("a readable file");
            f.block_bytes = block;
            let mut out = Vec::new();
            let n = f
                .for_each_batch(|b| {
                    for i in 0..b.len() {
                        let vals: Vec<Option<String>> = b.with_row(i, |r| (0..3).map(|k| r.get(k).raw()).collect());
                        out.push((b.first_row + i as u64, b.line(i), vals));
                    }
                    Ok::<(), ReadError>(())
                })
                .expect("the rows");
            (n, out)
        };
        let whole = read(BLOCK_BYTES);
        assert_eq!(whole.0, 300);
        assert_eq!(whole.1[0].2[1].as_deref(), Some("a,\nb \"0\""));
        for block in [1, 7, 64, 100, 4096] {
            assert_eq!(read(block), whole, "block of {block} bytes");
        }
    }

    #[test]
    fn quote_free_blocks_give_every_line() {
        // Over 2 MB without a quote (the quote-free path, in several blocks), with blank lines, lone
        // `\r` lines, CRLF and no line end after the last row: the records and line numbers are
        // those of a plain line-by-line reading, for every block size.
        let mut text = String::from("id,v\n");
        let mut i = 0;
        while text.len() < (2 << 20) + 12_345 {
            match i % 6 {
                0 => text.push_str(&format!("{i},{}\r\n", "w".repeat(i % 29))),
                1 => text.push('\n'),
                2 => text.push_str("\r\n"),
                _ => text.push_str(&format!("{i},v{i}\n")),
            }
            i += 1;
        }
        text.push_str("last,row");
        let expected: Vec<(u64, Vec<Option<String>>)> = text
            .split('\n')
            .enumerate()
            .skip(1)
            .map(|(k, l)| (k as u64 + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.is_empty())
            .map(|(k, l)| {
                let mut f = l.split(',').map(|v| (!v.is_empty()).then(|| v.to_string()));
                (k, vec![f.next().flatten(), f.next().flatten()])
            })
            .collect();
        assert!(expected.len() > 100_000);
        let m = mapping(&[("a", "id"), ("b", "v")]);
        let dir = tempfile::tempdir().expect("a temporary folder");
        let p = dir.path().join("t.csv");
        std::fs::write(&p, &text).expect("the test file");
        for block in [4096, 100_003, (1 << 20) + 3, BLOCK_BYTES] {
            let mut f = open(&p, FileFormat::Csv, b',', Encoding::Utf8, &m).expect("a readable file");
            f.block_bytes = block;
            let mut got = Vec::new();
            f.for_each_batch(|b| {
                for i in 0..b.len() {
                    got.push((b.line(i).unwrap_or(0), b.with_row(i, |r| (0..2).map(|k| r.get(k).raw()).collect())));
                }
                Ok::<(), ReadError>(())
            })
            .expect("the rows");
            assert_eq!(got.len(), expected.len(), "block of {block} bytes");
            assert!(got == expected, "block of {block} bytes");
        }
    }

    #[test]
    fn a_stop_or_a_bad_block_ends_the_reading_thread() {
        // The caller stops after the first batch: the reading thread ends (no hang) and the
        // caller's error comes back. A byte that is not UTF-8 in a later block is an error
        // naming its line.
        let mut text = String::from("id,v\n");
        // Longer than the head that `open` reads, so that the bad byte is met by the blocks.
        for i in 0..150_000 {
            text.push_str(&format!("{i},v{i}\n"));
        }
        let m = mapping(&[("a", "id"), ("b", "v")]);
        let dir = tempfile::tempdir().expect("a temporary folder");
        let p = dir.path().join("t.csv");
        std::fs::write(&p, &text).expect("the test file");
        let mut f = open(&p, FileFormat::Csv, b',', Encoding::Utf8, &m).expect("a readable file");
        f.block_bytes = 256;
        let mut batches = 0;
        let r = f.for_each_batch(|_| {
            batches += 1;
            Err(ReadError::Table { path: p.clone(), format: "CSV", message: "stop".into() })
        });
        assert!(matches!(r, Err(ReadError::Table { .. })) && batches == 1);

        let mut bytes = text.into_bytes();
        let at = bytes.len() * 3 / 4;
        assert!(at > HEAD_BYTES);
        bytes[at] = 0xff;
        let bad_line = 1 + bytes[..at].iter().filter(|&&c| c == b'\n').count();
        std::fs::write(&p, &bytes).expect("the test file");
        let mut f = open(&p, FileFormat::Csv, b',', Encoding::Utf8, &m).expect("a readable file");
        f.block_bytes = 64 << 10;
        let mut rows = 0;
        let e = f
            .for_each_batch(|b| {
                rows += b.len();
                Ok::<(), ReadError>(())
            })
            .expect_err("invalid UTF-8");
        assert!(e.to_string().contains(&format!("not valid UTF-8 at line {bad_line};")), "{e}");
        assert!(rows > 0 && rows < bad_line, "the blocks before the bad one were read: {rows}");
    }

    #[test]
    fn extra_fields_are_counted_and_short_rows_padded() {
        let m = mapping(&[("a", "x"), ("b", "y")]);
        let dir = tempfile::tempdir().expect("a temporary folder");
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "x,y\n1,2,\n1,2,3,4\n1\n").expect("the test file");
        let f = open(&p, FileFormat::Csv, b',', Encoding::Utf8, &m).expect("a readable file");
        let mut extra = Vec::new();
        f.for_each_batch(|b| {
            for i in 0..b.len() {
                extra.push(b.with_row(i, |r| (r.extra_fields(), r.get(1).raw())));
            }
            Ok::<(), ReadError>(())
        })
        .expect("the rows");
        assert_eq!(extra, vec![(0, Some("2".into())), (2, Some("2".into())), (0, None)]);
    }
}
