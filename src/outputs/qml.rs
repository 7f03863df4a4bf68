//! QGIS style sidecars: `<layer>.qml` beside `<layer>.geojson`, which QGIS applies on open.
//!
//! The renderer is graduated on the layer's `class` property (the same classes as the chart
//! legend; class 0 is the grey no-data class), each range labelled with the class's rate range
//! and count. Every field gets its Chinese alias from the indicator registry.

use std::fmt::Write as _;
use std::path::Path;

use crate::indicators::registry;
use crate::outputs::classes::Classes;
use crate::vocab::error::OutputError;

/// Escapes text for an XML attribute.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The style text for a layer with these property keys.
pub fn qml(classes: &Classes, keys: &[&str]) -> String {
    let mut s = String::new();
    s.push_str("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n");
    s.push_str("<qgis version=\"3.28.0\" styleCategories=\"Symbology|Fields\">\n");
    s.push_str("  <renderer-v2 type=\"graduatedSymbol\" attr=\"class\" graduatedMethod=\"GraduatedColor\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\">\n");
    s.push_str("    <ranges>\n");
    // QGIS takes the first range as [lower, upper] and later ones as (lower, upper]: class i
    // is the range (i − 1, i], class 0 is [−1, 0].
    for class in 0..=classes.k() {
        let label = format!("{}  ({})", classes.labels[class], classes.counts[class]);
        let _ = writeln!(
            s,
            "      <range lower=\"{}\" upper=\"{}\" symbol=\"{class}\" label=\"{}\" render=\"true\"/>",
            class as i64 - 1,
            class,
            xml_escape(&label)
        );
    }
    s.push_str("    </ranges>\n    <symbols>\n");
    for class in 0..=classes.k() {
        let [r, g, b] = classes.color(class);
        let _ = write!(
            s,
            "      <symbol type=\"fill\" name=\"{class}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">\n        <layer class=\"SimpleFill\" pass=\"0\" locked=\"0\" enabled=\"1\">\n          <Option type=\"Map\">\n            <Option name=\"color\" value=\"{r},{g},{b},255\" type=\"QString\"/>\n            <Option name=\"outline_color\" value=\"255,255,255,255\" type=\"QString\"/>\n            <Option name=\"outline_width\" value=\"0.1\" type=\"QString\"/>\n            <Option name=\"style\" value=\"solid\" type=\"QString\"/>\n          </Option>\n        </layer>\n      </symbol>\n"
        );
    }
    s.push_str("    </symbols>\n");
    let _ = writeln!(s, "    <classificationMethod id=\"{}\"/>", if classes.method == "fixed" { "Fixed" } else { "Quantile" });
    s.push_str("  </renderer-v2>\n  <aliases>\n");
    for (i, k) in keys.iter().enumerate() {
        let name = match *k {
            "class" => format!("{}分级", registry::field(&classes.indicator).map(|f| f.zh).unwrap_or("")),
            "class_label" => format!("{}分级说明", registry::field(&classes.indicator).map(|f| f.zh).unwrap_or("")),
            k => registry::field(k).map(|f| f.zh.to_string()).unwrap_or_default(),
        };
        let _ = writeln!(s, "    <alias field=\"{}\" index=\"{i}\" name=\"{}\"/>", xml_escape(k), xml_escape(&name));
    }
    s.push_str("  </aliases>\n</qgis>\n");
    s
}

/// Writes `<path>` (a `.qml` beside its layer).
pub fn write_qml(path: &Path, classes: &Classes, keys: &[&str]) -> Result<(), OutputError> {
    std::fs::write(path, qml(classes, keys)).map_err(OutputError::io(path))
}
