//! Charts with plotters, each written as SVG (800×450), PNG at 2× (1600×900) and the CSV of the
//! plotted numbers. Titles carry the period and the as-of date.
//!
//! Text: one bundled font (a GB2312 + Latin subset of Noto Sans CJK SC, SIL OFL, in
//! `assets/fonts/`) is registered with plotters under the SVG family stack below, so PNGs render
//! Chinese the same on every machine and SVGs name fonts the viewer is likely to have.

mod build;
mod draw;

use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::vocab::error::OutputError;

pub use build::*;
pub use draw::*;

/// The family written into SVG text; the bundled font is registered under this exact name.
pub const FONT: &str = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif";
static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/GridgovSansCJKsc-Regular.otf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/GridgovSansCJKsc-Bold.otf");

/// Registers the bundled font once per process.
pub fn register_fonts() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, REGULAR).map_err(|_| "bundled regular font is invalid".to_string())?;
        plotters::style::register_font(FONT, FontStyle::Bold, BOLD).map_err(|_| "bundled bold font is invalid".to_string())?;
        Ok(())
    })
    .clone()
}

/// Size of the SVG; the PNG is twice as large in both directions.
pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 450;

/// A chart written to disk: its base name and the files.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChartFiles {
    pub name: String,
    pub title: String,
    pub svg: PathBuf,
    pub png: PathBuf,
    pub csv: PathBuf,
}

/// The numbers behind a chart, written as CSV beside it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartData {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl ChartData {
    pub fn new(header: &[&str]) -> ChartData {
        ChartData { header: header.iter().map(|s| s.to_string()).collect(), rows: Vec::new() }
    }
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }
    /// CSV text (UTF-8 with BOM for Excel).
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header)?;
        for r in &self.rows {
            w.write_record(r)?;
        }
        let bytes = w.into_inner().map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))?;
        Ok(format!("\u{feff}{}", String::from_utf8_lossy(&bytes)))
    }
}

pub type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// A chart that can draw itself on any plotters backend at a scale (1 = SVG, 2 = PNG).
pub trait Chart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>, scale: f64) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Renders a chart to `<dir>/<name>.svg` and `.png` and writes the data CSV.
pub fn write_chart<C: Chart>(dir: &Path, name: &str, title: &str, data: &ChartData, chart: &C) -> Result<ChartFiles, OutputError> {
    let draw = |root: &DrawingArea<SVGBackend, plotters::coord::Shift>, s: f64| chart.draw(root, s);
    let enc = |path: &Path, e: String| OutputError::encode(path, e);
    register_fonts().map_err(|e| enc(dir, e))?;
    let (svg, png, csv) = (dir.join(format!("{name}.svg")), dir.join(format!("{name}.png")), dir.join(format!("{name}.csv")));
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, 1.0).map_err(|e| enc(&svg, e.to_string()))?;
        root.present().map_err(|e| enc(&svg, e.to_string()))?;
    }
    std::fs::write(&svg, text).map_err(OutputError::io(&svg))?;
    let (w, h) = (WIDTH * 2, HEIGHT * 2);
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        chart.draw(&root, 2.0).map_err(|e| enc(&png, e.to_string()))?;
        root.present().map_err(|e| enc(&png, e.to_string()))?;
    }
    // The best zlib level with adaptive filters: about 40 % smaller than plotters' own PNG,
    // which matters because report.html embeds every chart.
    let mut bytes = Vec::new();
    use image::ImageEncoder;
    image::codecs::png::PngEncoder::new_with_quality(
        &mut bytes,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(&pixels, w, h, image::ColorType::Rgb8)
    .map_err(|e| enc(&png, e.to_string()))?;
    std::fs::write(&png, bytes).map_err(OutputError::io(&png))?;
    let body = data.to_csv().map_err(|e| enc(&csv, e.to_string()))?;
    std::fs::write(&csv, body).map_err(OutputError::io(&csv))?;
    Ok(ChartFiles { name: name.to_string(), title: title.to_string(), svg, png, csv })
}

#[cfg(test)]
mod tests;
