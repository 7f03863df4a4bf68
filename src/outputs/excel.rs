//! `tables.xlsx`: the period table of every level and of the city, and the dictionary, for
//! analysts who work in Excel. Each sheet has two header rows — the English key (grey), then
//! the Chinese label (bold, with the filter buttons) — frozen above the data. Codes and names
//! are text cells (a 15-digit code stays a code), shares are numbers formatted as
//! percentages, counts are whole numbers, dates are dates. Text from the input that Excel
//! would take for a formula is neutralised as in the CSV tables (`tables::spreadsheet_text`).
//!
//! The workbook is deterministic: its creation time is the as-of day and the zip entries carry
//! a fixed time, so the same run gives the same bytes.

use std::path::Path;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError};

use crate::indicators::registry;
use crate::outputs::tables::{Written, spreadsheet_text};
use crate::vocab::error::OutputError;
use crate::vocab::frame::{Frame, Values};
use crate::vocab::hash::HashingWriter;
use crate::vocab::lang::Lang;

/// Excel's last row (1,048,576) less the two header rows.
const MAX_ROWS: usize = 1_048_574;

/// Writes `path` with one sheet per `(name, frame)` and a last sheet with the dictionary of
/// the columns used.
pub fn write_workbook(path: &Path, sheets: &[(&str, &Frame)], as_of: chrono::NaiveDate, lang: Lang) -> Result<Written, OutputError> {
    let enc = |e: XlsxError| OutputError::encode(path, e.to_string());
    let mut wb = Workbook::new();
    use chrono::Datelike;
    let created = ExcelDateTime::from_ymd(as_of.year() as u16, as_of.month() as u8, as_of.day() as u8).map_err(enc)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let styles = Styles::new();
    let mut used: Vec<&str> = Vec::new();
    for (name, f) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).map_err(enc)?;
        write_sheet(ws, f, &styles, lang).map_err(enc)?;
        for c in &f.columns {
            if !used.contains(&c.key.as_str()) {
                used.push(&c.key);
            }
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name(lang.pick("指标说明 dictionary", "dictionary")).map_err(enc)?;
    write_dictionary(ws, &used, &styles, lang).map_err(enc)?;
    let bytes = wb.save_to_buffer().map_err(enc)?;
    let file = std::fs::File::create(path).map_err(OutputError::io(path))?;
    let mut w = HashingWriter::new(std::io::BufWriter::new(file));
    std::io::Write::write_all(&mut w, &bytes).map_err(OutputError::io(path))?;
    let (mut buf, sha256, n) = w.finish();
    std::io::Write::flush(&mut buf).map_err(OutputError::io(path))?;
    Ok(Written { path: path.to_path_buf(), sha256, bytes: n })
}

struct Styles {
    key: Format,
    label: Format,
    share: Format,
    count: Format,
    number: Format,
    date: Format,
    text: Format,
}

impl Styles {
    fn new() -> Styles {
        Styles {
            key: Format::new().set_font_color("#808080").set_italic(),
            label: Format::new().set_bold().set_align(FormatAlign::Center).set_text_wrap(),
            share: Format::new().set_num_format("0.00%"),
            count: Format::new().set_num_format("0"),
            number: Format::new().set_num_format("0.00"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            // "@": the cell is text even if someone retypes it.
            text: Format::new().set_num_format("@"),
        }
    }
}

fn write_sheet(ws: &mut Worksheet, f: &Frame, s: &Styles, lang: Lang) -> Result<(), XlsxError> {
    let rows = f.height().min(MAX_ROWS);
    for (j, c) in f.columns.iter().enumerate() {
        let col = j as u16;
        let field = registry::field(&c.key);
        let label = field.map_or(c.key.clone(), |f| f.label(lang));
        ws.write_string_with_format(0, col, c.key.as_str(), &s.key)?;
        ws.write_string_with_format(1, col, &label, &s.label)?;
        let share = field.is_some_and(|f| f.unit == "share");
        // Wide enough for the key and the label (a CJK character is about two columns).
        let width = (c.key.chars().count()).max(label.chars().count() * 2).clamp(8, 40);
        ws.set_column_width(col, width as f64 + 1.0)?;
        for i in 0..rows {
            let r = i as u32 + 2;
            match &c.values {
                Values::Str(v) => {
                    if let Some(t) = &v[i] {
                        ws.write_string_with_format(r, col, spreadsheet_text(t).as_ref(), &s.text)?;
                    }
                }
                Values::Int(v) => {
                    if let Some(x) = v[i] {
                        ws.write_number_with_format(r, col, x as f64, &s.count)?;
                    }
                }
                Values::Float(v) => {
                    if let Some(x) = v[i].filter(|x| x.is_finite()) {
                        ws.write_number_with_format(r, col, x, if share { &s.share } else { &s.number })?;
                    }
                }
                Values::Bool(v) => {
                    if let Some(b) = v[i] {
                        ws.write_boolean(r, col, b)?;
                    }
                }
                Values::Date(v) => {
                    if let Some(d) = v[i] {
                        use chrono::Datelike;
                        let x = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                        ws.write_datetime_with_format(r, col, &x, &s.date)?;
                    }
                }
                Values::Timestamp(v) => {
                    if let Some(t) = v[i] {
                        ws.write_string(r, col, t.format("%Y-%m-%d %H:%M:%S").to_string())?;
                    }
                }
            }
        }
    }
    ws.set_freeze_panes(2, 0)?;
    if !f.columns.is_empty() {
        ws.autofilter(1, 0, rows as u32 + 1, f.columns.len() as u16 - 1)?;
    }
    Ok(())
}

fn write_dictionary(ws: &mut Worksheet, keys: &[&str], s: &Styles, lang: Lang) -> Result<(), XlsxError> {
    let labels = match lang {
        Lang::Zh => [("key", "字段"), ("label_zh", "中文名"), ("unit", "单位"), ("formula", "公式")],
        Lang::En => [("key", "key"), ("label", "name"), ("unit", "unit"), ("formula", "formula")],
    };
    for (j, ((h, label), width)) in labels.iter().zip([28.0, 18.0, 14.0, 100.0]).enumerate() {
        ws.write_string_with_format(0, j as u16, *h, &s.key)?;
        ws.write_string_with_format(1, j as u16, *label, &s.label)?;
        ws.set_column_width(j as u16, width)?;
    }
    for (i, k) in keys.iter().enumerate() {
        let r = i as u32 + 2;
        let f = registry::field(k);
        ws.write_string(r, 0, *k)?;
        ws.write_string(r, 1, f.map_or(String::new(), |f| f.label(lang)))?;
        ws.write_string(r, 2, f.map_or("", |f| f.unit))?;
        ws.write_string(r, 3, f.map_or("", |f| f.formula))?;
    }
    ws.set_freeze_panes(2, 0)?;
    ws.autofilter(1, 0, keys.len() as u32 + 1, 3)?;
    Ok(())
}
