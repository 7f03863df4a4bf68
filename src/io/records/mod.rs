//! Record files (CSV, Parquet) read batch by batch, only the mapped columns, behind one
//! interface: [`open`] checks a file's header against the mapping, [`RecordFile::batches`]
//! hands out its batches one at a time, [`Batch::map_rows`] looks at their rows in parallel.
//!
//! A source is never held whole: the engines (`csv.rs`, `parquet.rs`) read a file a block or
//! a few row groups at a time, on a thread of their own one batch ahead of the caller, and a
//! batch is gone once the next is asked for, so memory does not grow with the file.

pub mod csv;
pub mod parquet;

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{Encoding, FileFormat, Source};
use crate::vocab::error::ReadError;
use crate::vocab::record::Value;

/// Rows per parallel task inside a batch.
pub(crate) const TASK_ROWS: usize = 4096;
/// Most slots a mapping can have (a source maps at most this many gridgov fields).
pub const MAX_SLOTS: usize = 32;

/// The columns a source maps: slot `k` is gridgov field `fields[k].0`, read from file column
/// `fields[k].1`. Slots follow the pipeline's field order, which is also the order of the
/// quarantine's raw fields.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub fields: Vec<(String, String)>,
}

impl Mapping {
    pub fn new(columns: &BTreeMap<String, String>) -> Mapping {
        Mapping { fields: columns.iter().map(|(f, c)| (f.clone(), c.clone())).collect() }
    }

    /// Slot of a gridgov field, if mapped.
    pub fn slot(&self, field: &str) -> Option<usize> {
        self.fields.iter().position(|(f, _)| f == field)
    }

    /// The mapped fields of a row as a JSON object `{column: value}` (the quarantine's `raw`).
    /// Fields about a person (`PRIVATE_FIELDS`) are withheld.
    pub fn raw_json(&self, row: &RowRef<'_, '_>) -> String {
        let mut m = serde_json::Map::new();
        for (k, (field, column)) in self.fields.iter().enumerate() {
            let v = row.get(k).raw().map(serde_json::Value::String).unwrap_or(serde_json::Value::Null);
            let v =
                if PRIVATE_FIELDS.contains(&field.as_str()) && !v.is_null() { serde_json::Value::String("(withheld)".into()) } else { v };
            m.insert(column.clone(), v);
        }
        serde_json::Value::Object(m).to_string()
    }
}

/// Fields that identify a person: read, never written out (not even in `rejects.csv`).
pub const PRIVATE_FIELDS: &[&str] = &["member_id"];

/// A row of a batch: the mapped fields by slot.
pub enum RowRef<'r, 'a> {
    Csv(&'r csv::CsvRow<'a>),
    Table(&'r parquet::TableBatch, usize),
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

/// One batch of rows of one file.
pub struct Batch<'a> {
    /// 1-based data row (header not counted) of the batch's first row.
    pub first_row: u64,
    /// Index of the batch's file among its source's files.
    pub file: usize,
    /// Rows of the source's earlier files, so that `ordinal + first_row - 1` numbers the
    /// batch's first row within the whole source.
    pub rows_before: u64,
    data: BatchData<'a>,
}

enum BatchData<'a> {
    Csv(csv::CsvBatch<'a>),
    Table(&'a parquet::TableBatch),
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
    engine: Engine,
}

enum Engine {
    Csv { layout: csv::Layout, encoding: Encoding, delimiter: u8, block_bytes: usize },
    Parquet(parquet::Meta),
}

/// Opens a record file and checks that every mapped column is there (nothing else is read).
pub fn open(path: &Path, format: FileFormat, delimiter: u8, encoding: Encoding, mapping: &Mapping) -> Result<RecordFile, ReadError> {
    let (names, engine) = match format {
        FileFormat::Csv => {
            let (names, rows_estimate) = csv::header(path, encoding, delimiter)?;
            let layout = csv::Layout { slots: Vec::new(), header_len: names.len(), rows_estimate };
            (names, Engine::Csv { layout, encoding, delimiter, block_bytes: csv::BLOCK_BYTES })
        }
        FileFormat::Parquet => {
            let (names, meta) = parquet::header(path, mapping.fields.iter().map(|(_, c)| c.clone()).collect())?;
            (names, Engine::Parquet(meta))
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
    let mut engine = engine;
    if let Engine::Csv { layout, .. } = &mut engine {
        // The first column of that name, as a spreadsheet would find it.
        layout.slots = names.iter().map(|_| None).collect();
        for (k, (_, c)) in mapping.fields.iter().enumerate() {
            if let Some(i) = names.iter().position(|n| n == c) {
                layout.slots[i] = Some(k);
            }
        }
    }
    Ok(RecordFile { path: path.to_path_buf(), engine })
}

/// Opens every file of a source; every file that cannot be opened is reported at once.
pub fn open_all(src: &Source, files: &[PathBuf], mapping: &Mapping) -> Result<Vec<RecordFile>, ReadError> {
    let mut opened = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match open(f, src.format, src.delimiter, src.encoding, mapping) {
            Ok(r) => opened.push(r),
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Ok(opened),
        1 => Err(errors.remove(0)),
        _ => Err(ReadError::Several { errors: errors.iter().map(|e| e.to_string()).collect() }),
    }
}

/// About how many rows the files of a source hold (exact for Parquet, estimated for CSV);
/// 0 for files that cannot be opened (reading them will say why).
pub fn rows_hint(src: &Source, files: &[PathBuf]) -> u64 {
    let mapping = Mapping::new(&src.columns);
    files.iter().filter_map(|f| open(f, src.format, src.delimiter, src.encoding, &mapping).ok()).map(|r| r.rows_hint()).sum()
}

impl RecordFile {
    /// Rows in the file: exact for Parquet, an estimate for CSV (for sizing tables).
    pub fn rows_hint(&self) -> u64 {
        match &self.engine {
            Engine::Csv { layout, .. } => layout.rows_estimate,
            Engine::Parquet(meta) => meta.rows(),
        }
    }

    /// Starts reading the file: its batches, one at a time, in order.
    pub fn batches(&self) -> Batches {
        let feed = match &self.engine {
            Engine::Csv { layout, encoding, delimiter, block_bytes } => Feed::Csv(
                csv::Blocks::start(csv::Reader {
                    path: self.path.clone(),
                    encoding: *encoding,
                    delimiter: *delimiter,
                    block_bytes: *block_bytes,
                }),
                layout.clone(),
                *delimiter,
            ),
            Engine::Parquet(meta) => Feed::Parquet(parquet::Slices::start(self.path.clone(), meta.clone())),
        };
        Batches { feed, rows: 0, first_row: 1 }
    }

    #[cfg(test)]
    fn set_block_bytes(&mut self, n: usize) {
        if let Engine::Csv { block_bytes, .. } = &mut self.engine {
            *block_bytes = n;
        }
    }
}

/// The batches of one file, read ahead by the engine's thread (see [`RecordFile::batches`]).
pub struct Batches {
    feed: Feed,
    /// Data rows handed out so far, and the first row of the current batch.
    rows: u64,
    first_row: u64,
}

enum Feed {
    Csv(csv::Blocks, csv::Layout, u8),
    Parquet(parquet::Slices),
}

impl Batches {
    /// Moves to the next batch (the one before is given back); false once the file is read.
    pub fn advance(&mut self) -> Result<bool, ReadError> {
        let more = match &mut self.feed {
            Feed::Csv(blocks, ..) => blocks.advance()?,
            Feed::Parquet(slices) => slices.advance()?,
        };
        if more {
            self.first_row = self.rows + 1;
            self.rows += self.current().map_or(0, |b| b.len() as u64);
        }
        Ok(more)
    }

    /// The batch `advance` moved to.
    pub fn current(&self) -> Option<Batch<'_>> {
        let data = match &self.feed {
            Feed::Csv(blocks, layout, delimiter) => BatchData::Csv(csv::CsvBatch {
                block: blocks.current()?,
                slots: &layout.slots,
                header_len: layout.header_len,
                delimiter: *delimiter,
            }),
            Feed::Parquet(slices) => BatchData::Table(slices.current()?),
        };
        Some(Batch { first_row: self.first_row, file: 0, rows_before: 0, data })
    }

    /// The next batch; `None` once the file is read.
    pub fn next(&mut self) -> Result<Option<Batch<'_>>, ReadError> {
        Ok(if self.advance()? { self.current() } else { None })
    }

    /// Data rows read so far (all of them once `advance` gave false).
    pub fn rows(&self) -> u64 {
        self.rows
    }
}

pub(crate) fn table_error(path: &Path, format: &'static str, message: String) -> ReadError {
    ReadError::Table { path: path.to_path_buf(), format, message }
}

#[cfg(test)]
mod tests {
    use super::csv::{BLOCK_BYTES, HEAD_BYTES, record_end, split_fields};
    use super::*;

    /// Every batch of a file through `f`, as a caller loops over them; the rows read.
    fn for_each_batch(f: &RecordFile, mut each: impl FnMut(&Batch<'_>) -> Result<(), ReadError>) -> Result<u64, ReadError> {
        let mut batches = f.batches();
        while let Some(b) = batches.next()? {
            each(&b)?;
        }
        Ok(batches.rows())
    }

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
        for_each_batch(&f, |b| {
            for i in 0..b.len() {
                let vals = b.with_row(i, |r| (0..m.fields.len()).map(|k| r.get(k).raw()).collect());
                out.push((b.line(i).unwrap_or(0), vals));
            }
            Ok(())
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
            f.set_block_bytes(block);
            let mut out = Vec::new();
            let n = for_each_batch(&f, |b| {
                for i in 0..b.len() {
                    let vals: Vec<Option<String>> = b.with_row(i, |r| (0..3).map(|k| r.get(k).raw()).collect());
                    out.push((b.first_row + i as u64, b.line(i), vals));
                }
                Ok(())
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
            f.set_block_bytes(block);
            let mut got = Vec::new();
            for_each_batch(&f, |b| {
                for i in 0..b.len() {
                    got.push((b.line(i).unwrap_or(0), b.with_row(i, |r| (0..2).map(|k| r.get(k).raw()).collect())));
                }
                Ok(())
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
        f.set_block_bytes(256);
        let mut batches = 0;
        let r = for_each_batch(&f, |_| {
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
        f.set_block_bytes(64 << 10);
        let mut rows = 0;
        let e = for_each_batch(&f, |b| {
            rows += b.len();
            Ok(())
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
        for_each_batch(&f, |b| {
            for i in 0..b.len() {
                extra.push(b.with_row(i, |r| (r.extra_fields(), r.get(1).raw())));
            }
            Ok(())
        })
        .expect("the rows");
        assert_eq!(extra, vec![(0, Some("2".into())), (2, Some("2".into())), (0, None)]);
    }
}
